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

/**
 * Whether a box found in a tile touches a tile side that is not an image side: with the overlap
 * between tiles, the neighbouring tile sees the same object whole, so the cut one is dropped.
 */
export function cutByTileEdge(b: Box, tile: Box, width: number, height: number, margin: number): boolean {
  return (
    (tile.x0 > 0 && b.x0 <= tile.x0 + margin) ||
    (tile.y0 > 0 && b.y0 <= tile.y0 + margin) ||
    (tile.x1 < width && b.x1 >= tile.x1 - margin) ||
    (tile.y1 < height && b.y1 >= tile.y1 - margin)
  );
}
