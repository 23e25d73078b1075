// Whole-image alpha of what gets anonymised: the union (max) of every planned object's alpha.
import type { Detection, ProcessParams } from '../types.ts';
import { planObjects, type ObjectPlan } from './plan.ts';

export interface Coverage {
  width: number;
  height: number;
  /** width×height alpha, 0 = untouched, 255 = full effect. */
  data: Uint8Array;
}

/** A pixel counts as anonymised in the masks from half effect on (the soft ramp's outer half is cosmetic). */
export const MASK_THRESHOLD = 128;

/** From a plan already made for the image, or from the detections (planning them here). */
export function buildCoverage(plan: ObjectPlan): Coverage;
export function buildCoverage(width: number, height: number, detections: readonly Detection[], params: ProcessParams): Coverage;
export function buildCoverage(
  planOrWidth: ObjectPlan | number,
  height?: number,
  detections?: readonly Detection[],
  params?: ProcessParams,
): Coverage {
  const plan = typeof planOrWidth === 'number' ? planObjects(planOrWidth, height!, detections!, params!) : planOrWidth;
  const data = new Uint8Array(plan.width * plan.height);
  for (const { alpha } of plan.objects) {
    for (let row = 0; row < alpha.height; row++) {
      const src = row * alpha.width;
      const dst = (alpha.y + row) * plan.width + alpha.x;
      for (let col = 0; col < alpha.width; col++) {
        const a = alpha.data[src + col];
        if (a > data[dst + col]) data[dst + col] = a;
      }
    }
  }
  return { width: plan.width, height: plan.height, data };
}
