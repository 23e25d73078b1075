// Image pipeline: decode → detect → render (+ masks) → encode → write, one step per file.
import { basename } from 'node:path';
import type { MediaJob } from '../job.ts';
import { buildMetadata } from '../../render/index.ts';
import type { Detection, ProcessParams } from '../../types.ts';
import { decodeImage } from './decode.ts';
import { detectObjects } from './detect.ts';
import { encodeImage } from './encode.ts';
import { renderImage, renderMasks } from './render.ts';
import { writeOutputs, type OutputFile } from './write.ts';

export interface ImageJob extends MediaJob {
  /** Checked between steps: a task stopped by its timeout or a DELETE does no further work. */
  signal?: AbortSignal;
}

export interface ImageResult {
  outputs: { anonymised?: string; binaryMask?: string; instanceMask?: string; heatmap?: string; metadata: string };
  detections: Detection[];
  anonymised: boolean[];
  width: number;
  height: number;
  format: 'jpeg' | 'png';
  /** Milliseconds per stage: decode, detect (and detect.<detector>), render, masks, encode, write; masks and encode overlap. */
  timings: Record<string, number>;
}

export async function processImage(job: ImageJob): Promise<ImageResult> {
  const timings: Record<string, number> = {};
  const timed = async <T>(stage: string, run: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    job.signal?.throwIfAborted();
    const value = await run();
    timings[stage] = performance.now() - start;
    return value;
  };
  const started = performance.now();
  const read = await timed('decode', () => decodeImage(job.inputPath, job.limits));
  const decoded = job.params.outputFormat ? { ...read, format: job.params.outputFormat } : read;
  const { image } = decoded;
  const found = await timed('detect', () => detectObjects(job.engine, image, job.params));
  Object.assign(timings, found.timings);
  const rendered = await timed('render', () => renderImage(image, found.detections, job.params));
  // libvips runs one thread per image here, so the image and the masks encode side by side.
  const [encoded, masks] = await Promise.all([
    rendered.image ? timed('encode', () => encodeImage(decoded, rendered.image!, job.params)) : undefined,
    timed('masks', () => renderMasks(rendered.plan, job.params)),
  ]);

  const ext = decoded.format === 'png' ? 'png' : 'jpg';
  const names = {
    anonymised: `${job.stem}.${ext}`,
    binaryMask: `${job.stem}_bin_mask.png`,
    instanceMask: `${job.stem}_ins_mask.png`,
    heatmap: `${job.stem}_heatmap.png`,
    metadata: `${job.stem}.json`,
  };
  const files: OutputFile[] = [];
  if (encoded) files.push({ name: names.anonymised, data: encoded });
  if (masks.binaryMask) files.push({ name: names.binaryMask, data: masks.binaryMask });
  if (masks.instanceMask) files.push({ name: names.instanceMask, data: masks.instanceMask });
  if (masks.heatmap) files.push({ name: names.heatmap, data: masks.heatmap });
  const metadata = buildMetadata({
    taskId: job.id,
    filename: basename(job.inputPath),
    folder: job.folder,
    parentImage: names.anonymised,
    width: image.width,
    height: image.height,
    detections: found.detections,
    anonymised: rendered.anonymised,
    params: job.params,
    timings,
    durationSeconds: (performance.now() - started) / 1000,
  });
  files.push({ name: names.metadata, data: JSON.stringify(metadata, null, 2) });
  job.signal?.throwIfAborted();
  const written = await timed('write', () => writeOutputs(job.outputDir, files));
  const pathOf = (name: string) => written[files.findIndex((f) => f.name === name)];
  return {
    outputs: {
      anonymised: encoded ? pathOf(names.anonymised) : undefined,
      binaryMask: masks.binaryMask ? pathOf(names.binaryMask) : undefined,
      instanceMask: masks.instanceMask ? pathOf(names.instanceMask) : undefined,
      heatmap: masks.heatmap ? pathOf(names.heatmap) : undefined,
      metadata: pathOf(names.metadata),
    },
    detections: found.detections,
    anonymised: rendered.anonymised,
    width: image.width,
    height: image.height,
    format: decoded.format,
    timings,
  };
}
