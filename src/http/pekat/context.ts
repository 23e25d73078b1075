// PEKAT VISION's "context": the JSON a PEKAT project answers for each analysed image, filled from our
// detections. Field names follow the PEKAT SDK's typed context model (../shared/DIALECTS.md §3.4); how our
// detections map onto them (labels, ids, `result`, the two times) is our reading (est.).
import { OBJECT_CLASSES, type ObjectClass } from '../../types.ts';

export interface PekatClassName {
  id: number;
  label: ObjectClass;
  confidence: number;
}

export interface PekatRectangle {
  id: number;
  x: number;
  y: number;
  width: number;
  height: number;
  rotate: 0;
  confidence: number;
  classNames: PekatClassName[];
  source: { moduleId: string; modelId: string; type: 'DETECTOR' };
}

export interface PekatContext {
  processing: boolean;
  error: boolean;
  errors: string[];
  imageShape?: { height: number; width: number };
  processingTime?: number;
  completeTime?: number;
  data: string;
  production_mode: true;
  save: false;
  result: boolean;
  detectedRectangles: PekatRectangle[];
}

/** PEKAT class ids: position in our class list, from 1. */
export const PEKAT_CLASS_IDS: Record<ObjectClass, number> = Object.fromEntries(OBJECT_CLASSES.map((c, i) => [c, i + 1])) as Record<
  ObjectClass,
  number
>;

/** One detection as our metadata JSON describes it (the fields the context needs). */
export interface ContextDetection {
  id: number;
  type_label: ObjectClass;
  score: number;
  /** [x0, y0, x1, y1] in pixels. */
  bbox: [number, number, number, number];
}

export interface ContextInput {
  width: number;
  height: number;
  detections: readonly ContextDetection[];
  /** Seconds the pipeline spent on the image. */
  processingSeconds: number;
  /** Seconds from receiving the request to the answer, queue included. */
  completeSeconds: number;
  data: string;
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

export function buildContext(input: ContextInput): PekatContext {
  return {
    processing: true,
    error: false,
    errors: [],
    imageShape: { height: input.height, width: input.width },
    processingTime: round(input.processingSeconds, 4),
    completeTime: round(input.completeSeconds, 4),
    data: input.data,
    production_mode: true,
    save: false,
    // PEKAT's result means "image OK"; here: anonymisation ran without error.
    result: true,
    detectedRectangles: input.detections.map((d) => {
      const [x0, y0, x1, y1] = d.bbox;
      const confidence = round(d.score, 4);
      return {
        id: d.id,
        x: x0,
        y: y0,
        width: x1 - x0,
        height: y1 - y0,
        rotate: 0,
        confidence,
        classNames: [{ id: PEKAT_CLASS_IDS[d.type_label], label: d.type_label, confidence }],
        source: { moduleId: 'anonymiser', modelId: d.type_label, type: 'DETECTOR' },
      };
    }),
  };
}

/** The context of a request that could not be processed (PEKAT clients read `error` and `processing`). */
export function errorContext(message: string, data: string): PekatContext {
  return { processing: false, error: true, errors: [message], data, production_mode: true, save: false, result: false, detectedRectangles: [] };
}
