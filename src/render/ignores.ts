// Celantur `ignores`: rectangles whose pixels must come out exactly as they went in.
import type { Box, IgnoreRegion, ObjectMask } from '../types.ts';

/** Share of the box (0..1) that lies inside the union of the ignore regions, sampled on a grid. */
export function ignoredShare(box: Box, ignores: readonly IgnoreRegion[]): number {
  if (ignores.length === 0) return 0;
  const samples = 16;
  const w = box.x1 - box.x0;
  const h = box.y1 - box.y0;
  let inside = 0;
  for (let j = 0; j < samples; j++) {
    const y = box.y0 + ((j + 0.5) / samples) * h;
    for (let i = 0; i < samples; i++) {
      const x = box.x0 + ((i + 0.5) / samples) * w;
      if (ignores.some((r) => x >= r.topLeftX && x < r.topLeftX + r.width && y >= r.topLeftY && y < r.topLeftY + r.height)) inside++;
    }
  }
  return inside / (samples * samples);
}

/** Zeroes the alpha wherever an ignore region overlaps the mask (in place). */
export function clearIgnored(mask: ObjectMask, ignores: readonly IgnoreRegion[]): void {
  for (const r of ignores) {
    const x0 = Math.max(mask.x, Math.floor(r.topLeftX));
    const y0 = Math.max(mask.y, Math.floor(r.topLeftY));
    const x1 = Math.min(mask.x + mask.width, Math.ceil(r.topLeftX + r.width));
    const y1 = Math.min(mask.y + mask.height, Math.ceil(r.topLeftY + r.height));
    if (x1 <= x0 || y1 <= y0) continue;
    for (let y = y0; y < y1; y++) {
      const start = (y - mask.y) * mask.width + (x0 - mask.x);
      mask.data.fill(0, start, start + (x1 - x0));
    }
  }
}
