import { iou, scoreWeightedBox, type ScoredBox } from '../boxes.ts';

export const YUNET_STRIDES = [8, 16, 32] as const;

/**
 * Decodes one YuNet output level (anchor-free, one point per cell, row-major) for an input of
 * inputWidth×inputHeight (multiples of 32): score = sqrt(cls·obj) (both already sigmoid, clamped
 * to [0, 1]); cell (r, c): centre ((c + b0)·s, (r + b1)·s), size (exp(b2)·s, exp(b3)·s), in input pixels.
 */
export function decodeYunetLevel(
  cls: Float32Array,
  obj: Float32Array,
  bbox: Float32Array,
  inputWidth: number,
  inputHeight: number,
  stride: number,
  minScore: number,
): ScoredBox[] {
  const cols = inputWidth / stride;
  const rows = inputHeight / stride;
  const out: ScoredBox[] = [];
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++, i++) {
      const score = Math.sqrt(clamp01(cls[i]!) * clamp01(obj[i]!));
      if (score < minScore) continue;
      const cx = (c + bbox[i * 4]!) * stride;
      const cy = (r + bbox[i * 4 + 1]!) * stride;
      const w = Math.exp(bbox[i * 4 + 2]!) * stride;
      const h = Math.exp(bbox[i * 4 + 3]!) * stride;
      out.push({ x0: cx - w / 2, y0: cy - h / 2, x1: cx + w / 2, y1: cy + h / 2, score });
    }
  }
  return out;
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/**
 * YuNet's raw score put on the scale of the product's face threshold: `operating` (the raw score chosen
 * from measurements) maps to `threshold` (the default face threshold), linearly on both sides, so that
 * the one default threshold serves both face detectors and a user's stricter or looser value moves both.
 */
export function calibrateScore(raw: number, operating: number, threshold: number): number {
  if (raw <= operating) return (raw / operating) * threshold;
  return threshold + ((raw - operating) / (1 - operating)) * (1 - threshold);
}

/** How boxes of passes that look at the same frame differently (mirrored, another zoom) are fused. */
export interface VoteOptions {
  /** Boxes of two passes at this IoU or more are one face. */
  iou: number;
  /** Score of a matched face: the mean of the passes' scores, or the best plus `agreeBonus` per extra pass. */
  combine: 'mean' | 'max';
  /** Added per pass beyond the first that saw the face (combine 'max'). */
  agreeBonus: number;
  /** Factor on the score for each pass that did not see the face. */
  lone: number;
}

/**
 * Score voting over the boxes of several passes (each already NMS'd on its own): best boxes first, each
 * gathers the best unclaimed box of IoU ≥ `iou` from every other pass; the face's box is the score-weighted
 * mean of its members, its score `combine`d from theirs, times `lone` for every pass that missed it.
 * Faces that every pass sees keep high scores; a box one pass alone found drops.
 */
export function voteBoxes(passes: readonly (readonly ScoredBox[])[], options: VoteOptions): ScoredBox[] {
  if (passes.length === 1) return [...passes[0]!];
  const pool = passes.flatMap((boxes, pass) => boxes.map((box) => ({ box, pass, used: false }))).sort((a, b) => b.box.score - a.box.score);
  const out: ScoredBox[] = [];
  for (const seed of pool) {
    if (seed.used) continue;
    seed.used = true;
    const members = [seed.box];
    for (let pass = 0; pass < passes.length; pass++) {
      if (pass === seed.pass) continue;
      let best: (typeof pool)[number] | undefined;
      let bestIou = options.iou;
      for (const other of pool) {
        if (other.used || other.pass !== pass) continue;
        const v = iou(seed.box, other.box);
        if (v >= bestIou) {
          bestIou = v;
          best = other;
        }
      }
      if (best) {
        best.used = true;
        members.push(best.box);
      }
    }
    const sum = members.reduce((total, m) => total + m.score, 0);
    const combined = options.combine === 'mean' ? sum / members.length : Math.min(1, seed.box.score + options.agreeBonus * (members.length - 1));
    const score = combined * options.lone ** (passes.length - members.length);
    out.push({ ...scoreWeightedBox(members), score });
  }
  return out.sort((a, b) => b.score - a.score);
}
