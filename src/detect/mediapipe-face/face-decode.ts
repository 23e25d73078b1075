import type { ScoredBox } from '../boxes.ts';

/** MediaPipe clips raw logits to ±100 before the sigmoid; kept for identical scores. */
export function sigmoid(logit: number): number {
  const x = logit < -100 ? -100 : logit > 100 ? 100 : logit;
  return 1 / (1 + Math.exp(-x));
}

/** Logit that a sigmoid score threshold corresponds to: lets the decoder skip anchors without exp(). */
export function logit(p: number): number {
  return Math.log(p / (1 - p));
}

/**
 * Decodes MediaPipe face-detector outputs into boxes in model-input pixels.
 * `regressors` holds `stride` values per anchor: centre offset x, y, width, height (input pixels),
 * then keypoints (unused here). `anchors` holds (cx, cy) per anchor in [0,1].
 */
export function decodeSsdFaces(
  rawScores: Float32Array,
  regressors: Float32Array,
  anchors: Float32Array,
  inputSize: number,
  minScore: number,
  stride = 16,
): ScoredBox[] {
  const count = rawScores.length;
  if (anchors.length !== count * 2 || regressors.length !== count * stride) {
    throw new RangeError(`face decoder: ${count} scores, ${anchors.length / 2} anchors, ${regressors.length / stride} regressors`);
  }
  const minLogit = logit(minScore);
  const boxes: ScoredBox[] = [];
  for (let i = 0; i < count; i++) {
    const raw = rawScores[i]!;
    if (raw < minLogit) continue;
    const r = i * stride;
    const cx = anchors[2 * i]! * inputSize + regressors[r]!;
    const cy = anchors[2 * i + 1]! * inputSize + regressors[r + 1]!;
    const w = regressors[r + 2]!;
    const h = regressors[r + 3]!;
    if (!(w > 0 && h > 0)) continue;
    boxes.push({ x0: cx - w / 2, y0: cy - h / 2, x1: cx + w / 2, y1: cy + h / 2, score: sigmoid(raw) });
  }
  return boxes;
}
