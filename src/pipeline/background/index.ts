// Background-replacement pipeline (InstaVid360 bg-replace, issue 13): decode the original, background and
// overlay → check they share width × height → detect vehicles and persons → foreground mask → composite →
// encode → write. The pixel work is in render/foreground.ts.
import sharp from 'sharp';
import { AppError } from '../../errors.ts';
import { composite, contactShadow, foregroundMask, selectForeground } from '../../render/foreground.ts';
import type { MediaJob } from '../job.ts';
import { decodeImage, readStrictly } from '../image/decode.ts';
import { detectObjects } from '../image/detect.ts';
import { writeOutputs } from '../image/write.ts';

export interface BackgroundJob extends MediaJob {
  signal?: AbortSignal;
}

export interface BackgroundResult {
  path: string;
  width: number;
  height: number;
  foreground: number;
}

/** 422: the images of a bg-replace task differ in size (the seed: "or else the task will fail"). */
export class SizeMismatchError extends AppError {
  constructor(sizes: { name: string; width: number; height: number }[]) {
    super(
      422,
      'size_mismatch',
      `the original, background and overlay must have the same width × height: ${sizes.map((s) => `${s.name} ${s.width}×${s.height}`).join(', ')}`,
      { sizes },
    );
  }
}

async function rawOf(path: string, what: string, channels: 3 | 4) {
  return readStrictly(what, async (options) => {
    let img = sharp(path, options).rotate();
    img = channels === 4 ? img.ensureAlpha() : img.removeAlpha();
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  });
}

export async function processBackgroundReplace(job: BackgroundJob): Promise<BackgroundResult> {
  const spec = job.params.replaceBackground;
  if (!spec) throw new AppError(500, 'not_background_job', 'not a background-replacement task');
  const decoded = await decodeImage(job.inputPath, job.limits);
  const { image } = decoded;
  const background = await rawOf(spec.background, 'background', 3);
  const overlay = spec.overlay ? await rawOf(spec.overlay, 'overlay', 4) : null;
  const sizes = [
    { name: 'original', width: image.width, height: image.height },
    { name: 'background', width: background.width, height: background.height },
    ...(overlay ? [{ name: 'overlay', width: overlay.width, height: overlay.height }] : []),
  ];
  if (sizes.some((s) => s.width !== image.width || s.height !== image.height)) throw new SizeMismatchError(sizes);
  job.signal?.throwIfAborted();
  const { detections } = await detectObjects(job.engine, image, job.params);
  const chosen = selectForeground(detections, image.width, image.height);
  job.signal?.throwIfAborted();
  const alpha = await foregroundMask(image, chosen);
  const shadow = spec.shadow ? contactShadow(image.width, image.height, chosen.filter((d) => d.cls === 'vehicle').map((d) => d.box)) : null;
  const pixels = composite(image, background.data, alpha, overlay?.data ?? null, shadow);
  const encoded = await sharp(pixels, { raw: { width: image.width, height: image.height, channels: 3 } })
    .jpeg({ quality: job.params.quality, mozjpeg: false })
    .toBuffer();
  job.signal?.throwIfAborted();
  const [path] = await writeOutputs(job.outputDir, [{ name: `${job.stem}.jpg`, data: encoded }]);
  return { path: path!, width: image.width, height: image.height, foreground: chosen.length };
}
