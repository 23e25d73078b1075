// Test images with real texture (so blur and pixelation visibly change pixels) and pixel comparisons.
import sharp from 'sharp';
import type { Box, Detection, ObjectClass, ProcessParams, RgbImage } from '../../src/types.ts';
import { DEFAULT_PARAMS } from '../../src/types.ts';

/** Deterministic texture: a colour gradient with fine stripes and pseudo-random noise on top. */
export function texturedImage(width: number, height: number, seed = 1): RgbImage {
  const data = Buffer.alloc(width * height * 3);
  let s = seed >>> 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const noise = (s >>> 24) - 128;
      const p = (y * width + x) * 3;
      const stripe = ((x >> 1) + (y >> 2)) & 1 ? 40 : -40;
      data[p] = Math.max(0, Math.min(255, ((x * 255) / width) + stripe + noise / 2));
      data[p + 1] = Math.max(0, Math.min(255, ((y * 255) / height) - stripe + noise / 2));
      data[p + 2] = Math.max(0, Math.min(255, 128 + stripe + noise));
    }
  }
  return { data, width, height };
}

export function solidImage(width: number, height: number, value: number): RgbImage {
  return { data: Buffer.alloc(width * height * 3, value), width, height };
}

export function det(cls: ObjectClass, box: Box, extra: Partial<Detection> = {}): Detection {
  return { cls, score: 0.9, box, ...extra };
}

export function params(overrides: Partial<ProcessParams> = {}): ProcessParams {
  return { ...structuredClone(DEFAULT_PARAMS), ...overrides };
}

export function pixel(img: RgbImage, x: number, y: number): [number, number, number] {
  const p = (y * img.width + x) * 3;
  return [img.data[p], img.data[p + 1], img.data[p + 2]];
}

/** Counts pixels that differ between two images, split into inside and outside `within`. */
export function diffCounts(a: RgbImage, b: RgbImage, within: (x: number, y: number) => boolean): { inside: number; outside: number; insideTotal: number } {
  let inside = 0;
  let outside = 0;
  let insideTotal = 0;
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      const p = (y * a.width + x) * 3;
      const differs = a.data[p] !== b.data[p] || a.data[p + 1] !== b.data[p + 1] || a.data[p + 2] !== b.data[p + 2];
      if (within(x, y)) {
        insideTotal++;
        if (differs) inside++;
      } else if (differs) outside++;
    }
  }
  return { inside, outside, insideTotal };
}

export const inBox = (b: Box) => (x: number, y: number) => x >= b.x0 && x < b.x1 && y >= b.y0 && y < b.y1;

/** Mean absolute difference per channel value inside a box. */
export function meanAbsDiff(a: RgbImage, b: RgbImage, box: Box): number {
  let sum = 0;
  let n = 0;
  for (let y = box.y0; y < box.y1; y++) {
    for (let x = box.x0; x < box.x1; x++) {
      const p = (y * a.width + x) * 3;
      for (let c = 0; c < 3; c++) sum += Math.abs(a.data[p + c] - b.data[p + c]);
      n += 3;
    }
  }
  return sum / n;
}

export async function decodePng(png: Buffer): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  // sharp widens greyscale to RGB on raw output unless asked to stay single-channel.
  const grey = (await sharp(png).metadata()).channels === 1;
  const img = grey ? sharp(png).toColourspace('b-w') : sharp(png);
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}
