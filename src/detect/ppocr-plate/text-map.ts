import type { ScoredBox } from '../boxes.ts';

/**
 * Turns a text-probability map (PP-OCR / DB detector output) into axis-aligned text boxes in map
 * pixels: pixels above `binaryThreshold` form 4-connected regions; a region is kept when its mean
 * probability reaches `boxThreshold`, then grown by DB's unclip distance (area × ratio / perimeter),
 * because the model is trained to predict a shrunk core of each text line.
 */
export interface TextMapOptions {
  binaryThreshold: number;
  boxThreshold: number;
  unclipRatio: number;
  /** Regions with fewer pixels are noise. */
  minPixels: number;
}

export const DEFAULT_TEXT_MAP_OPTIONS: TextMapOptions = {
  binaryThreshold: 0.3,
  boxThreshold: 0.6,
  unclipRatio: 1.5,
  minPixels: 6,
};

export function textBoxesFromMap(map: Float32Array, width: number, height: number, opts: TextMapOptions = DEFAULT_TEXT_MAP_OPTIONS): ScoredBox[] {
  const n = width * height;
  if (map.length < n) throw new RangeError(`text map has ${map.length} values, expected ${n}`);
  const visited = new Uint8Array(n);
  const stack = new Int32Array(n);
  const boxes: ScoredBox[] = [];
  for (let start = 0; start < n; start++) {
    if (visited[start] || map[start]! <= opts.binaryThreshold) continue;
    visited[start] = 1;
    let top = 0;
    stack[top++] = start;
    let count = 0;
    let sum = 0;
    let minX = width, minY = height, maxX = -1, maxY = -1;
    while (top > 0) {
      const p = stack[--top]!;
      const x = p % width;
      const y = (p - x) / width;
      count++;
      sum += map[p]!;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
      if (x > 0 && !visited[p - 1] && map[p - 1]! > opts.binaryThreshold) { visited[p - 1] = 1; stack[top++] = p - 1; }
      if (x + 1 < width && !visited[p + 1] && map[p + 1]! > opts.binaryThreshold) { visited[p + 1] = 1; stack[top++] = p + 1; }
      if (y > 0 && !visited[p - width] && map[p - width]! > opts.binaryThreshold) { visited[p - width] = 1; stack[top++] = p - width; }
      if (y + 1 < height && !visited[p + width] && map[p + width]! > opts.binaryThreshold) { visited[p + width] = 1; stack[top++] = p + width; }
    }
    if (count < opts.minPixels) continue;
    const score = sum / count;
    if (score < opts.boxThreshold) continue;
    const w = maxX + 1 - minX;
    const h = maxY + 1 - minY;
    const d = (w * h * opts.unclipRatio) / (2 * (w + h));
    boxes.push({ x0: minX - d, y0: minY - d, x1: maxX + 1 + d, y1: maxY + 1 + d, score });
  }
  return boxes;
}
