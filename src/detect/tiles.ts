import type { Box } from '../types.ts';

/**
 * Start offsets of windows of `window` px that cover [0, length) with at least `overlap` px shared
 * between neighbours, spread evenly so that no window hangs over the end.
 */
export function windowStarts(length: number, window: number, overlap: number): number[] {
  if (window >= length) return [0];
  const step = window - overlap;
  if (step <= 0) throw new RangeError(`overlap ${overlap} must be smaller than the window ${window}`);
  const count = Math.ceil((length - window) / step) + 1;
  const stride = (length - window) / (count - 1);
  return Array.from({ length: count }, (_, i) => Math.round(i * stride));
}

/** Square-ish tiles of `tile` px (clamped to the image) covering the whole image with `overlap` px overlap. */
export function gridTiles(width: number, height: number, tile: number, overlap: number): Box[] {
  const tw = Math.min(tile, width);
  const th = Math.min(tile, height);
  const tiles: Box[] = [];
  for (const y0 of windowStarts(height, th, Math.min(overlap, th - 1))) {
    for (const x0 of windowStarts(width, tw, Math.min(overlap, tw - 1))) {
      tiles.push({ x0, y0, x1: x0 + tw, y1: y0 + th });
    }
  }
  return tiles;
}
