// Celantur-style metadata JSON for one image (or one video frame), plus our parameters and timings.
import type { Detection, ObjectClass, ProcessParams } from '../types.ts';
import { instanceId } from './masks.ts';

/**
 * Numeric `type` per class. Celantur's example shows face = 103; its other codes are not published,
 * so the rest continue that series: person 101, licence plate 102, face 103, vehicle 104.
 */
export const TYPE_CODES: Record<ObjectClass, number> = { person: 101, 'license-plate': 102, face: 103, vehicle: 104 };

export interface MetadataDetection {
  /** Same number as the object's G value in the instance mask. */
  id: number;
  type_label: ObjectClass;
  type: number;
  score: number;
  /** [x0, y0, x1, y1] in pixels of the (EXIF-rotated) image, clipped to it. */
  bbox: [number, number, number, number];
  offset: [number, number];
  is_anonymised: boolean;
  parent_image: string;
  color: null;
  track_id?: number;
}

export interface ImageMetadata {
  id: string;
  filename: string;
  /** [width, height] */
  size: [number, number];
  /** Seconds from decode to the last output, like Celantur's `duration`. */
  duration: number;
  detections: MetadataDetection[];
  parameters: ProcessParams;
  /** Milliseconds per stage. */
  timings: Record<string, number>;
}

export interface MetadataInput {
  id: string;
  filename: string;
  /** Name of the anonymised file the detections belong to. */
  parentImage: string;
  width: number;
  height: number;
  detections: readonly Detection[];
  anonymised: readonly boolean[];
  params: ProcessParams;
  timings: Record<string, number>;
  /** Defaults to the sum of the timings. */
  durationSeconds?: number;
}

function pixelBox(det: Detection, width: number, height: number): [number, number, number, number] {
  const clamp = (v: number, max: number) => Math.min(max, Math.max(0, v));
  return [
    clamp(Math.floor(det.box.x0), width),
    clamp(Math.floor(det.box.y0), height),
    clamp(Math.ceil(det.box.x1), width),
    clamp(Math.ceil(det.box.y1), height),
  ];
}

export function buildMetadata(input: MetadataInput): ImageMetadata {
  const total = Object.values(input.timings).reduce((a, b) => a + b, 0);
  return {
    id: input.id,
    filename: input.filename,
    size: [input.width, input.height],
    duration: Math.round((input.durationSeconds ?? total / 1000) * 1000) / 1000,
    detections: input.detections.map((det, i) => {
      const bbox = pixelBox(det, input.width, input.height);
      return {
        id: instanceId(i),
        type_label: det.cls,
        type: TYPE_CODES[det.cls],
        score: Math.round(det.score * 10000) / 10000,
        bbox,
        offset: [bbox[0], bbox[1]],
        is_anonymised: input.anonymised[i] ?? false,
        parent_image: input.parentImage,
        color: null,
        ...(det.trackId !== undefined ? { track_id: det.trackId } : {}),
      };
    }),
    parameters: input.params,
    timings: Object.fromEntries(Object.entries(input.timings).map(([k, v]) => [k, Math.round(v * 10) / 10])),
  };
}
