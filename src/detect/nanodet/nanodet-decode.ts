import type { ScoredBox } from '../boxes.ts';

/** NanoDet's GFL head: 4 sides × (REG_MAX + 1) bins per cell, side-major (left, top, right, bottom). */
export const NANODET_REG_MAX = 10;
const BINS = NANODET_REG_MAX + 1;

export interface ClassedBox extends ScoredBox {
  /** COCO-80 index (0 person, 2 car, …). */
  cocoClass: number;
}

/**
 * Expected distance of one side from its bin logits (softmax, then Σ p·j): NanoDet's "integral"
 * decoding. `offset` indexes the first of the side's bins in `logits`.
 */
export function integralDistance(logits: Float32Array, offset: number): number {
  let max = -Infinity;
  for (let j = 0; j < BINS; j++) max = Math.max(max, logits[offset + j]!);
  let sum = 0;
  let weighted = 0;
  for (let j = 0; j < BINS; j++) {
    const e = Math.exp(logits[offset + j]! - max);
    sum += e;
    weighted += e * j;
  }
  return weighted / sum;
}

/**
 * Decodes one stride level into boxes in model-input pixels. `scores` is cells × numClasses
 * (probabilities), `distances` cells × 44; cells are row-major on a `gridWidth`-wide grid, each
 * centred at ((col + 0.5)·stride, (row + 0.5)·stride).
 */
export function decodeNanoDetLevel(
  scores: Float32Array,
  distances: Float32Array,
  numClasses: number,
  gridWidth: number,
  stride: number,
  wanted: ReadonlySet<number>,
  minScore: number,
): ClassedBox[] {
  const cells = scores.length / numClasses;
  const out: ClassedBox[] = [];
  for (let i = 0; i < cells; i++) {
    const base = i * numClasses;
    for (const c of wanted) {
      const score = scores[base + c]!;
      if (score < minScore) continue;
      const cx = ((i % gridWidth) + 0.5) * stride;
      const cy = (Math.floor(i / gridWidth) + 0.5) * stride;
      const d = i * 4 * BINS;
      const left = integralDistance(distances, d) * stride;
      const top = integralDistance(distances, d + BINS) * stride;
      const right = integralDistance(distances, d + 2 * BINS) * stride;
      const bottom = integralDistance(distances, d + 3 * BINS) * stride;
      out.push({ x0: cx - left, y0: cy - top, x1: cx + right, y1: cy + bottom, score, cocoClass: c });
    }
  }
  return out;
}
