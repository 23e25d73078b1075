import type { Box } from '../types.ts';

/** Scoring rules of the evaluation set (see its README): pure functions over boxes of one image and one label. */

export interface ScoredDetectionBox extends Box {
  score: number;
}

export const MATCH_IOU = 0.5;
export const COVERED_FRACTION = 0.7;
export const FALSE_POSITIVE_BELOW = 0.3;
export const IGNORED_ABOVE = 0.5;
export const SMALL_HEIGHT = 20;

function area(b: Box): number {
  return Math.max(0, b.x1 - b.x0) * Math.max(0, b.y1 - b.y0);
}

export function boxIou(a: Box, b: Box): number {
  const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
  const h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (area(a) + area(b) - inter);
}

/**
 * Fraction of `target`'s area that lies inside the union of `covers`. Exact: the target is cut into
 * cells along every cover edge, and each cell is either fully inside some cover or outside all.
 */
export function coveredFraction(target: Box, covers: readonly Box[]): number {
  const total = area(target);
  if (total === 0) return 0;
  const relevant = covers.filter((c) => c.x0 < target.x1 && c.x1 > target.x0 && c.y0 < target.y1 && c.y1 > target.y0);
  if (relevant.length === 0) return 0;
  const xs = edges(target.x0, target.x1, relevant.flatMap((c) => [c.x0, c.x1]));
  const ys = edges(target.y0, target.y1, relevant.flatMap((c) => [c.y0, c.y1]));
  let covered = 0;
  for (let i = 0; i + 1 < xs.length; i++) {
    const cx = (xs[i]! + xs[i + 1]!) / 2;
    for (let j = 0; j + 1 < ys.length; j++) {
      const cy = (ys[j]! + ys[j + 1]!) / 2;
      if (relevant.some((c) => cx >= c.x0 && cx < c.x1 && cy >= c.y0 && cy < c.y1)) {
        covered += (xs[i + 1]! - xs[i]!) * (ys[j + 1]! - ys[j]!);
      }
    }
  }
  return covered / total;
}

function edges(lo: number, hi: number, candidates: number[]): number[] {
  const inside = candidates.filter((v) => v > lo && v < hi);
  return [...new Set([lo, hi, ...inside])].sort((a, b) => a - b);
}

/** Number of ground-truth boxes matched one-to-one at IoU ≥ 0.5, detections taken best score first. */
export function countMatchesAtIou(truth: readonly Box[], detections: readonly ScoredDetectionBox[], minIou = MATCH_IOU): number {
  const used = new Array<boolean>(truth.length).fill(false);
  let matched = 0;
  for (const d of [...detections].sort((a, b) => b.score - a.score)) {
    let best = -1;
    let bestIou = minIou;
    for (let g = 0; g < truth.length; g++) {
      if (used[g]) continue;
      const v = boxIou(truth[g]!, d);
      if (v >= bestIou) {
        bestIou = v;
        best = g;
      }
    }
    if (best >= 0) {
      used[best] = true;
      matched++;
    }
  }
  return matched;
}

/** Ground-truth boxes at least 70 % covered by the union of the detections. */
export function coveredTruth(truth: readonly Box[], detections: readonly Box[]): boolean[] {
  return truth.map((g) => coveredFraction(g, detections) >= COVERED_FRACTION);
}

/** Detections with less than 30 % of their area on the ground-truth boxes of their label. */
export function countFalsePositives(truth: readonly Box[], detections: readonly Box[]): number {
  return detections.filter((d) => coveredFraction(d, truth) < FALSE_POSITIVE_BELOW).length;
}

/** Drops boxes mostly (more than half their area) inside the ignore regions. */
export function withoutIgnored<T extends Box>(boxes: readonly T[], ignore: readonly Box[]): T[] {
  if (ignore.length === 0) return [...boxes];
  return boxes.filter((b) => coveredFraction(b, ignore) <= IGNORED_ABOVE);
}

/** Per-image, per-label tallies; summed over the set they give the reported rates. */
export interface LabelTally {
  truth: number;
  matchedAtIou: number;
  covered: number;
  smallTruth: number;
  smallCovered: number;
  detections: number;
  falsePositives: number;
}

export function emptyTally(): LabelTally {
  return { truth: 0, matchedAtIou: 0, covered: 0, smallTruth: 0, smallCovered: 0, detections: 0, falsePositives: 0 };
}

export function scoreImageLabel(truthAll: readonly Box[], detectionsAll: readonly ScoredDetectionBox[], ignore: readonly Box[]): LabelTally {
  const truth = withoutIgnored(truthAll, ignore);
  const detections = withoutIgnored(detectionsAll, ignore);
  const covered = coveredTruth(truth, detections);
  const small = truth.map((g) => g.y1 - g.y0 < SMALL_HEIGHT);
  return {
    truth: truth.length,
    matchedAtIou: countMatchesAtIou(truth, detections),
    covered: covered.filter(Boolean).length,
    smallTruth: small.filter(Boolean).length,
    smallCovered: covered.filter((c, i) => c && small[i]).length,
    detections: detections.length,
    falsePositives: countFalsePositives(truth, detections),
  };
}

export function addTally(into: LabelTally, t: LabelTally): void {
  into.truth += t.truth;
  into.matchedAtIou += t.matchedAtIou;
  into.covered += t.covered;
  into.smallTruth += t.smallTruth;
  into.smallCovered += t.smallCovered;
  into.detections += t.detections;
  into.falsePositives += t.falsePositives;
}
