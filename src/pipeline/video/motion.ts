// Cheap per-frame image measures for detection stride: a small grey thumbnail of each frame, a
// scene-cut test between two thumbnails, and a template (SAD) search that finds where a box's patch
// moved to. One typed-array pass per frame; no per-pixel work at full resolution.

import type { Box, RgbImage } from '../../types.ts';

export interface GreyThumb {
  data: Uint8Array;
  width: number;
  height: number;
  /** Full-resolution pixels per thumbnail pixel. */
  factor: number;
}

/** Thumbnail pixels per side are about frame/factor; the factor keeps the long side near this. */
const THUMB_LONG_SIDE = 480;

export function thumbFactor(width: number, height: number): number {
  return Math.max(1, Math.round(Math.max(width, height) / THUMB_LONG_SIDE));
}

/** Luma (r + 2g + b) / 4 averaged over the 2×2 pixels at the centre of each factor×factor block. */
export function greyThumb(image: RgbImage, factor = thumbFactor(image.width, image.height)): GreyThumb {
  const width = Math.max(1, Math.floor(image.width / factor));
  const height = Math.max(1, Math.floor(image.height / factor));
  const data = new Uint8Array(width * height);
  const src = image.data;
  const stride = image.width * 3;
  const half = factor >> 1;
  const dx = factor > 1 ? 3 : 0;
  const dy = factor > 1 ? stride : 0;
  for (let ty = 0, o = 0; ty < height; ty++) {
    const row = (ty * factor + Math.max(0, half - 1)) * stride;
    for (let tx = 0; tx < width; tx++, o++) {
      const p = row + (tx * factor + Math.max(0, half - 1)) * 3;
      const q = p + dy;
      const sum =
        src[p]! + 2 * src[p + 1]! + src[p + 2]! +
        src[p + dx]! + 2 * src[p + dx + 1]! + src[p + dx + 2]! +
        src[q]! + 2 * src[q + 1]! + src[q + 2]! +
        src[q + dx]! + 2 * src[q + dx + 1]! + src[q + dx + 2]!;
      data[o] = sum >> 4;
    }
  }
  return { data, width, height, factor };
}

const HIST_BINS = 32;

function histogram(t: GreyThumb): Float64Array {
  const h = new Float64Array(HIST_BINS);
  for (let i = 0; i < t.data.length; i++) h[t.data[i]! >> 3]!++;
  for (let i = 0; i < HIST_BINS; i++) h[i]! /= t.data.length;
  return h;
}

export interface FrameChange {
  /** Half the L1 distance between the luma histograms, 0 (same) to 1 (disjoint). */
  histogram: number;
  /** Mean absolute luma difference per thumbnail pixel, 0 to 255. */
  meanAbsDiff: number;
}

export function frameChange(a: GreyThumb, b: GreyThumb): FrameChange {
  const ha = histogram(a);
  const hb = histogram(b);
  let hist = 0;
  for (let i = 0; i < HIST_BINS; i++) hist += Math.abs(ha[i]! - hb[i]!);
  let sad = 0;
  const n = Math.min(a.data.length, b.data.length);
  for (let i = 0; i < n; i++) sad += Math.abs(a.data[i]! - b.data[i]!);
  return { histogram: hist / 2, meanAbsDiff: n ? sad / n : 0 };
}

/** A box's patch in a thumbnail, sampled on a grid of at most TEMPLATE_SAMPLES per side. */
export interface Template {
  /** Top-left of the patch, thumbnail pixels. */
  x: number;
  y: number;
  step: number;
  cols: number;
  rows: number;
  values: Uint8Array;
}

const TEMPLATE_SAMPLES = 24;

/** Null when the box is too small in the thumbnail (under 3 px a side) to be matched. */
export function cutTemplate(t: GreyThumb, box: Box): Template | null {
  const x0 = Math.max(0, Math.round(box.x0 / t.factor));
  const y0 = Math.max(0, Math.round(box.y0 / t.factor));
  const x1 = Math.min(t.width, Math.round(box.x1 / t.factor));
  const y1 = Math.min(t.height, Math.round(box.y1 / t.factor));
  const w = x1 - x0;
  const h = y1 - y0;
  if (w < 3 || h < 3) return null;
  const step = Math.max(1, Math.ceil(Math.max(w, h) / TEMPLATE_SAMPLES));
  const cols = Math.ceil(w / step);
  const rows = Math.ceil(h / step);
  const values = new Uint8Array(cols * rows);
  for (let r = 0, o = 0; r < rows; r++) {
    const row = (y0 + r * step) * t.width + x0;
    for (let c = 0; c < cols; c++, o++) values[o] = t.data[row + c * step]!;
  }
  return { x: x0, y: y0, step, cols, rows, values };
}

export interface Match {
  /** Shift of the template from where it was cut, full-resolution pixels. */
  dx: number;
  dy: number;
  /** Mean absolute difference per sample at the best shift (0 to 255). */
  cost: number;
}

/** A shift is scored on the template samples inside the frame; it needs at least this share of them. */
const MIN_INSIDE = 0.5;

/**
 * Searches shifts within `radius` thumbnail pixels around `around` (thumbnail pixels, the predicted
 * shift) for the smallest mean absolute difference. A shift that puts part of the patch outside the
 * frame is scored on the part inside (a face leaving or entering at an edge is still followed), and
 * skipped when less than half of it is inside.
 */
export function matchTemplate(t: GreyThumb, tpl: Template, around: { dx: number; dy: number }, radius: number): Match | null {
  const cx = Math.round(around.dx);
  const cy = Math.round(around.dy);
  const need = Math.max(1, Math.ceil(tpl.values.length * MIN_INSIDE));
  let best: Match | null = null;
  let bestDist = Infinity;
  for (let sy = cy - radius; sy <= cy + radius; sy++) {
    const y0 = tpl.y + sy;
    // Rows [r0, r1) of the template are inside the frame.
    const r0 = Math.max(0, Math.ceil(-y0 / tpl.step));
    const r1 = Math.min(tpl.rows, Math.ceil((t.height - y0) / tpl.step));
    if (r1 <= r0) continue;
    for (let sx = cx - radius; sx <= cx + radius; sx++) {
      const x0 = tpl.x + sx;
      const c0 = Math.max(0, Math.ceil(-x0 / tpl.step));
      const c1 = Math.min(tpl.cols, Math.ceil((t.width - x0) / tpl.step));
      if (c1 <= c0) continue;
      const n = (r1 - r0) * (c1 - c0);
      if (n < need) continue;
      let sad = 0;
      for (let r = r0; r < r1; r++) {
        const row = (y0 + r * tpl.step) * t.width + x0;
        const o = r * tpl.cols;
        for (let c = c0; c < c1; c++) sad += Math.abs(tpl.values[o + c]! - t.data[row + c * tpl.step]!);
      }
      const cost = sad / n;
      const dist = (sx - cx) ** 2 + (sy - cy) ** 2;
      // Ties go to the shift nearest the prediction.
      if (!best || cost < best.cost - 1e-9 || (Math.abs(cost - best.cost) <= 1e-9 && dist < bestDist)) {
        best = { dx: sx, dy: sy, cost };
        bestDist = dist;
      }
    }
  }
  return best && { dx: best.dx * t.factor, dy: best.dy * t.factor, cost: best.cost };
}
