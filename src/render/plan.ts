// Decides, once per image, which detections get anonymised and with which per-pixel alpha.
// Rendering, coverage, both mask encodings and metadata all read this one plan so they agree.
import type { Detection, ObjectMask, ProcessParams } from '../types.ts';
import { clearIgnored, ignoredShare } from './ignores.ts';
import { objectAlpha } from './shapes.ts';

/** A detection with more than this share of its box inside ignore regions is left alone entirely. */
export const IGNORED_SHARE = 0.5;

export interface PlannedObject {
  /** Index into the detections array. */
  index: number;
  /** Alpha over the object's region, clipped to the image, ignore regions zeroed. */
  alpha: ObjectMask;
}

export interface ObjectPlan {
  width: number;
  height: number;
  detections: readonly Detection[];
  /** Objects that are covered (would be anonymised by any method other than detect), in detection order. */
  objects: PlannedObject[];
  /** Per detection: covered by the plan (not ignored, class requested, inside the image). */
  covered: boolean[];
}

export function planObjects(width: number, height: number, detections: readonly Detection[], params: ProcessParams): ObjectPlan {
  const objects: PlannedObject[] = [];
  const covered = detections.map((det, index) => {
    if (!params.classes.includes(det.cls)) return false;
    if (ignoredShare(det.box, params.ignores) > IGNORED_SHARE) return false;
    const alpha = objectAlpha(det, params, width, height);
    if (!alpha) return false;
    if (params.ignores.length > 0) {
      // The mask may be the detector's own buffer; never write into it.
      if (det.mask && alpha.data === det.mask.data) alpha.data = alpha.data.slice();
      clearIgnored(alpha, params.ignores);
    }
    objects.push({ index, alpha });
    return true;
  });
  return { width, height, detections, objects, covered };
}
