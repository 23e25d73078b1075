import type { Box } from '../../types.ts';
import type { ScoredBox } from '../boxes.ts';

/**
 * Licence plates seen through a text detector: the detector boxes words, a plate is one or two
 * short lines of characters inside a frame. These rules rebuild plate-shaped boxes from text boxes.
 */
export interface PlateShapeOptions {
  /** Width/height of a plate's character area: two-line moto plates ≈1.3, long EU plates ≈6. */
  minAspect: number;
  maxAspect: number;
  /** Character lines lower than this (image px) cannot be read, so they need no anonymisation. */
  minHeight: number;
  /** Largest share of the image (area) a plate can take: bigger text is signage or a poster. */
  maxAreaFraction: number;
  /** Padding from character box to plate frame, as a fraction of the box per side. */
  padX: number;
  padY: number;
}

export const DEFAULT_PLATE_SHAPE: PlateShapeOptions = {
  minAspect: 1.3,
  maxAspect: 8,
  minHeight: 6,
  maxAreaFraction: 0.25,
  padX: 0.12,
  padY: 0.45,
};

/**
 * Joins text boxes that belong to one plate: character groups on one line separated by a gap
 * (EU "AB 123", "VW" + number) and a line directly above or below of similar width (two-line plates).
 */
export function mergePlateParts(boxes: readonly ScoredBox[]): ScoredBox[] {
  let current = [...boxes];
  let changed = true;
  while (changed) {
    changed = false;
    outer: for (let i = 0; i < current.length; i++) {
      for (let j = i + 1; j < current.length; j++) {
        if (sameLine(current[i]!, current[j]!) || stackedLines(current[i]!, current[j]!)) {
          const a = current[i]!;
          const b = current[j]!;
          const merged: ScoredBox = {
            x0: Math.min(a.x0, b.x0),
            y0: Math.min(a.y0, b.y0),
            x1: Math.max(a.x1, b.x1),
            y1: Math.max(a.y1, b.y1),
            score: Math.max(a.score, b.score),
          };
          current = [...current.filter((_, k) => k !== i && k !== j), merged];
          changed = true;
          break outer;
        }
      }
    }
  }
  return current;
}

function sameLine(a: Box, b: Box): boolean {
  const ha = a.y1 - a.y0;
  const hb = b.y1 - b.y0;
  const vOverlap = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
  if (vOverlap < 0.6 * Math.min(ha, hb)) return false;
  if (Math.max(ha, hb) > 1.5 * Math.min(ha, hb)) return false;
  const gap = Math.max(a.x0, b.x0) - Math.min(a.x1, b.x1);
  return gap <= 0.8 * Math.max(ha, hb);
}

function stackedLines(a: Box, b: Box): boolean {
  const wa = a.x1 - a.x0;
  const wb = b.x1 - b.x0;
  const hOverlap = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
  if (hOverlap < 0.7 * Math.min(wa, wb)) return false;
  if (Math.max(wa, wb) > 1.6 * Math.min(wa, wb)) return false;
  const gap = Math.max(a.y0, b.y0) - Math.min(a.y1, b.y1);
  const hMin = Math.min(a.y1 - a.y0, b.y1 - b.y0);
  // Stacked plate lines are wide relative to their height; two words of a sign stacked are not told apart here.
  return gap <= 0.3 * hMin && Math.min(wa, wb) >= 1.5 * hMin;
}

export function isPlateShaped(b: Box, imageWidth: number, imageHeight: number, opts: PlateShapeOptions = DEFAULT_PLATE_SHAPE): boolean {
  const w = b.x1 - b.x0;
  const h = b.y1 - b.y0;
  if (h < opts.minHeight) return false;
  const aspect = w / h;
  if (aspect < opts.minAspect || aspect > opts.maxAspect) return false;
  return w * h <= opts.maxAreaFraction * imageWidth * imageHeight;
}

/** Character box → plate frame (the frame and border carry no text but still identify the plate). */
export function plateFrame<T extends Box>(b: T, opts: PlateShapeOptions = DEFAULT_PLATE_SHAPE): T {
  const w = b.x1 - b.x0;
  const h = b.y1 - b.y0;
  return { ...b, x0: b.x0 - w * opts.padX, x1: b.x1 + w * opts.padX, y0: b.y0 - h * opts.padY, y1: b.y1 + h * opts.padY };
}
