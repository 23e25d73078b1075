import type { Box } from '../types.ts';

/** A box with a score, before it becomes a Detection. */
export interface ScoredBox extends Box {
  score: number;
}

export function boxArea(b: Box): number {
  return Math.max(0, b.x1 - b.x0) * Math.max(0, b.y1 - b.y0);
}

export function intersectionArea(a: Box, b: Box): number {
  const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
  const h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
  return w > 0 && h > 0 ? w * h : 0;
}

export function iou(a: Box, b: Box): number {
  const inter = intersectionArea(a, b);
  if (inter === 0) return 0;
  return inter / (boxArea(a) + boxArea(b) - inter);
}

/** Intersection over the smaller box: catches a partial box from a tile edge lying inside a whole one. */
export function overlapOfSmaller(a: Box, b: Box): number {
  const inter = intersectionArea(a, b);
  if (inter === 0) return 0;
  return inter / Math.min(boxArea(a), boxArea(b));
}

export function clipBox(b: Box, width: number, height: number): Box {
  return {
    x0: Math.min(Math.max(b.x0, 0), width),
    y0: Math.min(Math.max(b.y0, 0), height),
    x1: Math.min(Math.max(b.x1, 0), width),
    y1: Math.min(Math.max(b.y1, 0), height),
  };
}

/** Grows a box by `fx` of its width on each side horizontally and `fy` of its height vertically. */
export function padBox<T extends Box>(b: T, fx: number, fy: number): T {
  const dx = (b.x1 - b.x0) * fx;
  const dy = (b.y1 - b.y0) * fy;
  return { ...b, x0: b.x0 - dx, y0: b.y0 - dy, x1: b.x1 + dx, y1: b.y1 + dy };
}

/** Classic greedy non-maximum suppression: keeps the best box of each overlapping group. */
export function nms<T extends ScoredBox>(boxes: readonly T[], iouThreshold: number): T[] {
  const sorted = [...boxes].sort((a, b) => b.score - a.score);
  const kept: T[] = [];
  for (const candidate of sorted) {
    if (kept.every((k) => iou(k, candidate) < iouThreshold)) kept.push(candidate);
  }
  return kept;
}

/**
 * Weighted NMS (as MediaPipe's face detector does): each group of boxes overlapping the best one
 * is replaced by their score-weighted mean, which steadies boxes found by several anchors or tiles.
 * The group keeps the best score.
 */
export function weightedNms<T extends ScoredBox>(
  boxes: readonly T[],
  iouThreshold: number,
  sameObject: (a: Box, b: Box) => boolean = (a, b) => iou(a, b) >= iouThreshold,
): T[] {
  let remaining = [...boxes].sort((a, b) => b.score - a.score);
  const merged: T[] = [];
  while (remaining.length > 0) {
    const best = remaining[0]!;
    const group: T[] = [];
    const rest: T[] = [];
    for (const b of remaining) (sameObject(best, b) ? group : rest).push(b);
    merged.push({ ...best, ...scoreWeightedBox(group) });
    remaining = rest;
  }
  return merged;
}

/** The mean of `boxes` weighted by their scores (non-empty, scores > 0). */
export function scoreWeightedBox(boxes: readonly ScoredBox[]): Box {
  let wsum = 0, x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  for (const b of boxes) {
    wsum += b.score;
    x0 += b.x0 * b.score;
    y0 += b.y0 * b.score;
    x1 += b.x1 * b.score;
    y1 += b.y1 * b.score;
  }
  return { x0: x0 / wsum, y0: y0 / wsum, x1: x1 / wsum, y1: y1 / wsum };
}
