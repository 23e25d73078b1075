import type { ScoredBox } from '../boxes.ts';

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
