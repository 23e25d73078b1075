// Celantur-shaped metadata, built in one place for images and video frames: the same detection fields,
// the same rounding (integer boxes clipped to the frame, scores to 4 decimals, seconds to 3) and the
// same id base (0, as in Celantur's example).
//
// Image (one `<name>.json`, doc.celantur.com/container/usage/segmentation-masks-and-metadata):
//   { id: <file name>, detections, size: [w, h], duration, filename, folder, task_id, parameters, timings }
// Video frame (a JSON list of these, in `<name>-<start>-<end>.json` files of at most 500 frames):
//   { id: <frame number>, size: [w, h], duration, timestamp, detections }
// `task_id`, `parameters`, `timings`, `timestamp`, `track_id` and `source` are ours; the rest are Celantur's names.
import type { Detection, ObjectClass, ProcessParams } from '../types.ts';

/**
 * Numeric `type` per class. Celantur's example shows face = 103; its other codes are not published,
 * so the rest continue that series: person 101, licence plate 102, face 103, vehicle 104.
 */
export const TYPE_CODES: Record<ObjectClass, number> = { person: 101, 'license-plate': 102, face: 103, vehicle: 104 };

export interface MetadataDetection {
  /** Index of the detection in its image or frame, from 0. The instance mask's G value is (id mod 255) + 1. */
  id: number;
  /** The anonymised image's file name, or the frame number for a video frame (as Celantur documents). */
  parent_image: string | number;
  /** Top-left corner of `bbox`. */
  offset: [number, number];
  /** [x0, y0, x1, y1] in whole pixels of the (EXIF-rotated) image, clipped to it. */
  bbox: [number, number, number, number];
  type: number;
  score: number;
  is_anonymised: boolean;
  type_label: ObjectClass;
  color: null;
  /** Video: the object's track, the same number on every frame it appears in. */
  track_id?: number;
  /** Video: how the box was obtained (`detected`, or filled in by the tracker). */
  source?: string;
}

export interface ImageMetadata {
  /** The image's file name, as Celantur's `id`. */
  id: string;
  detections: MetadataDetection[];
  /** [width, height] */
  size: [number, number];
  /** Seconds from decode to the last output, like Celantur's `duration`. */
  duration: number;
  filename: string;
  /** Folder relative to the input root (batch mode); null for API uploads. */
  folder: string | null;
  /** Our task id (batch mode: the file's stem). */
  task_id: string;
  parameters: ProcessParams;
  /** Milliseconds per stage. */
  timings: Record<string, number>;
}

export interface FrameMetadata {
  /** Frame number, from 0. */
  id: number;
  /** [width, height] */
  size: [number, number];
  /** Seconds spent detecting and anonymising this frame. */
  duration: number;
  /** Presentation time in seconds in the anonymised video (ours). */
  timestamp: number;
  detections: MetadataDetection[];
}

/** A detection as the pipeline has it; the tracker adds `trackId` and `source`. */
export type MetadataSource = Detection & { source?: string };

export interface DetectionsInput {
  detections: readonly MetadataSource[];
  /** `anonymised[i]` tells whether detection i was rendered. */
  anonymised: readonly boolean[];
  width: number;
  height: number;
  parentImage: string | number;
}

export interface MetadataInput extends Omit<DetectionsInput, 'parentImage'> {
  taskId: string;
  /** The input's file name. */
  filename: string;
  folder?: string | null;
  /** Name of the anonymised file the detections belong to. */
  parentImage: string;
  params: ProcessParams;
  timings: Record<string, number>;
  /** Defaults to the sum of the timings. */
  durationSeconds?: number;
}

export interface FrameMetadataInput extends Omit<DetectionsInput, 'parentImage'> {
  frame: number;
  timestamp: number;
  durationSeconds: number;
}

const roundTo = (v: number, decimals: number) => Math.round(v * 10 ** decimals) / 10 ** decimals;
export const roundScore = (score: number) => roundTo(score, 4);
export const roundSeconds = (seconds: number) => roundTo(seconds, 3);

export function pixelBox(det: Detection, width: number, height: number): [number, number, number, number] {
  const clamp = (v: number, max: number) => Math.min(max, Math.max(0, v));
  return [
    clamp(Math.floor(det.box.x0), width),
    clamp(Math.floor(det.box.y0), height),
    clamp(Math.ceil(det.box.x1), width),
    clamp(Math.ceil(det.box.y1), height),
  ];
}

export function metadataDetections(input: DetectionsInput): MetadataDetection[] {
  return input.detections.map((det, i) => {
    const bbox = pixelBox(det, input.width, input.height);
    return {
      id: i,
      parent_image: input.parentImage,
      offset: [bbox[0], bbox[1]],
      bbox,
      type: TYPE_CODES[det.cls],
      score: roundScore(det.score),
      is_anonymised: input.anonymised[i] ?? false,
      type_label: det.cls,
      color: null,
      ...(det.trackId !== undefined ? { track_id: det.trackId } : {}),
      ...(det.source !== undefined ? { source: det.source } : {}),
    };
  });
}

export function buildMetadata(input: MetadataInput): ImageMetadata {
  const total = Object.values(input.timings).reduce((a, b) => a + b, 0);
  return {
    id: input.filename,
    detections: metadataDetections(input),
    size: [input.width, input.height],
    duration: roundSeconds(input.durationSeconds ?? total / 1000),
    filename: input.filename,
    folder: input.folder ?? null,
    task_id: input.taskId,
    parameters: input.params,
    timings: Object.fromEntries(Object.entries(input.timings).map(([k, v]) => [k, roundTo(v, 1)])),
  };
}

export function buildFrameMetadata(input: FrameMetadataInput): FrameMetadata {
  return {
    id: input.frame,
    size: [input.width, input.height],
    duration: roundSeconds(input.durationSeconds),
    timestamp: roundTo(input.timestamp, 6),
    detections: metadataDetections({ ...input, parentImage: input.frame }),
  };
}
