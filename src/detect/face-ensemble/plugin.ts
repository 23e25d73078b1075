import { back256Plugin, fullRangePlugin } from '../mediapipe-face/plugin.ts';
import { FACE_MODELS } from '../mediapipe-face/face.ts';
import { mtcnnPlugin } from '../mtcnn/plugin.ts';
import { definePlugin, detectorStage } from '../plugin.ts';
import { ssdMobilenetPlugin } from '../ssd-mobilenet/plugin.ts';
import { FaceEnsemble, MEDIAPIPE_ENSEMBLE, mtcnnVote, ssdEnsemble } from './face-ensemble.ts';

const MEMBERS = [fullRangePlugin, ssdMobilenetPlugin, mtcnnPlugin, back256Plugin];

/**
 * The bundled face ensemble: MediaPipe full range + the SSD (+ MTCNN's vote when its files are
 * there); without the SSD file full range + back-256; with one MediaPipe model only, that model alone.
 */
export const faceEnsemblePlugin = definePlugin({
  key: 'ensemble',
  classes: ['face'],
  role: 'detector',
  stage: 'face',
  files: MEMBERS.flatMap((m) => m.files),
  members: MEMBERS.map((m) => m.key),
  // Either MediaPipe model alone still detects faces (with less recall).
  installed: (factory) => fullRangePlugin.installed(factory) || back256Plugin.installed(factory),
  create: async (factory, options) => {
    const hasFull = fullRangePlugin.installed(factory);
    const hasBack = back256Plugin.installed(factory);
    const search = options.faceSearch;
    if (hasFull && ssdMobilenetPlugin.installed(factory)) {
      return detectorStage(await FaceEnsemble.create(factory, ssdEnsemble(search), mtcnnPlugin.installed(factory) ? mtcnnVote(search) : undefined));
    }
    if (hasFull && hasBack) return detectorStage(await FaceEnsemble.create(factory, MEDIAPIPE_ENSEMBLE));
    // Either model alone still works, with less recall at the same false-positive rate (neither: the load reports the missing file).
    const [alone, missing] = hasFull ? [fullRangePlugin, 'back-256' as const] : [back256Plugin, 'full-range' as const];
    options.log?.('warn', `face model ${FACE_MODELS[missing].file} not found; detecting faces with ${alone.files[0]} alone`);
    return alone.create(factory, options);
  },
});
