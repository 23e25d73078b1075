import sharp from 'sharp';
import type { Box, RgbImage } from '../types.ts';

/**
 * How a region of the image was placed into a model input: model pixel (u, v) shows image pixel
 * (region.x0 + u / scale, region.y0 + v / scale). The rest of the input is black padding.
 */
export interface Placement {
  region: Box;
  scale: number;
  inputWidth: number;
  inputHeight: number;
}

/** Maps a box from model-input pixels back to image pixels. */
export function toImageBox<T extends Box>(b: T, p: Placement): T {
  return {
    ...b,
    x0: p.region.x0 + b.x0 / p.scale,
    y0: p.region.y0 + b.y0 / p.scale,
    x1: p.region.x0 + b.x1 / p.scale,
    y1: p.region.y0 + b.y1 / p.scale,
  };
}

/** Integer pixel region inside the image, at least 1×1. */
export function integerRegion(region: Box, width: number, height: number): Box {
  const x0 = Math.min(Math.max(Math.floor(region.x0), 0), width - 1);
  const y0 = Math.min(Math.max(Math.floor(region.y0), 0), height - 1);
  const x1 = Math.max(Math.min(Math.ceil(region.x1), width), x0 + 1);
  const y1 = Math.max(Math.min(Math.ceil(region.y1), height), y0 + 1);
  return { x0, y0, x1, y1 };
}

/**
 * Cuts `region` out of the image and scales it, keeping its aspect ratio, to fit inside
 * inputWidth×inputHeight anchored top-left (black padding right/bottom). Returns packed RGB.
 */
export async function letterbox(
  image: RgbImage,
  region: Box,
  inputWidth: number,
  inputHeight: number,
): Promise<{ rgb: Buffer; placement: Placement }> {
  const r = integerRegion(region, image.width, image.height);
  const rw = r.x1 - r.x0;
  const rh = r.y1 - r.y0;
  const scale = Math.min(inputWidth / rw, inputHeight / rh);
  const outW = Math.max(1, Math.min(inputWidth, Math.round(rw * scale)));
  const outH = Math.max(1, Math.min(inputHeight, Math.round(rh * scale)));
  let pipeline = sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
  if (rw !== image.width || rh !== image.height) {
    pipeline = pipeline.extract({ left: r.x0, top: r.y0, width: rw, height: rh });
  }
  if (outW !== rw || outH !== rh) pipeline = pipeline.resize(outW, outH, { fit: 'fill', kernel: 'linear' });
  if (outW !== inputWidth || outH !== inputHeight) {
    pipeline = pipeline.extend({
      right: inputWidth - outW,
      bottom: inputHeight - outH,
      background: { r: 0, g: 0, b: 0 },
    });
  }
  const rgb = await pipeline.raw().toBuffer();
  // The effective scale per axis can differ by rounding; use the horizontal one, the error is < 1 px.
  return { rgb, placement: { region: r, scale: outW / rw, inputWidth, inputHeight } };
}

/** Packed RGB bytes → NHWC float32 in [-1, 1] (MediaPipe models). */
export function rgbToSignedUnitNhwc(rgb: Buffer, out = new Float32Array(rgb.length)): Float32Array {
  for (let i = 0; i < rgb.length; i++) out[i] = rgb[i]! / 127.5 - 1;
  return out;
}

/** Packed RGB bytes → NHWC float32 in [0, 1]. */
export function rgbToUnitNhwc(rgb: Buffer, out = new Float32Array(rgb.length)): Float32Array {
  for (let i = 0; i < rgb.length; i++) out[i] = rgb[i]! / 255;
  return out;
}

/**
 * Packed RGB bytes → planar NCHW float32 with per-channel (v/255 - mean)/std, channels in `order`
 * (e.g. [2,1,0] for BGR models); mean/std are given in the output channel order.
 */
export function rgbToNormalisedNchw(
  rgb: Buffer,
  width: number,
  height: number,
  order: readonly [number, number, number],
  mean: readonly [number, number, number],
  std: readonly [number, number, number],
  out = new Float32Array(width * height * 3),
): Float32Array {
  const plane = width * height;
  for (let c = 0; c < 3; c++) {
    const src = order[c]!;
    const k = 1 / (255 * std[c]!);
    const b = -mean[c]! / std[c]!;
    const base = c * plane;
    for (let i = 0, j = src; i < plane; i++, j += 3) out[base + i] = rgb[j]! * k + b;
  }
  return out;
}
