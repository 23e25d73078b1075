// Gaussian blur of one object's neighbourhood with libvips, sized to the object.
import sharp from 'sharp';
import type { Detection, ObjectClass, RgbImage } from '../types.ts';

export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Kernel size in pixels: `kernelSize` < 1 is relative to the box's longer side, ≥ 1 is absolute. */
export function kernelPixels(det: Detection, kernelSize: Record<ObjectClass, number>): number {
  const k = kernelSize[det.cls];
  if (k >= 1) return k;
  const { x0, y0, x1, y1 } = det.box;
  return Math.max(1, k * Math.max(x1 - x0, y1 - y0));
}

/** OpenCV's sigma for a kernel size, so Celantur-style kernel sizes mean what their users expect. */
export function sigmaForKernel(kernel: number): number {
  return Math.max(0.5, 0.3 * ((kernel - 1) * 0.5 - 1) + 0.8);
}

/**
 * Blurs `region` of the image and returns its RGB pixels. The source window is the region grown
 * by 3σ (clipped to the image) so the blur inside the region sees real neighbours, not an edge.
 */
export async function blurRegion(image: RgbImage, region: Region, sigma: number): Promise<Uint8Array> {
  const margin = Math.ceil(3 * sigma);
  const sx0 = Math.max(0, region.x - margin);
  const sy0 = Math.max(0, region.y - margin);
  const sx1 = Math.min(image.width, region.x + region.width + margin);
  const sy1 = Math.min(image.height, region.y + region.height + margin);
  const window = { left: sx0, top: sy0, width: sx1 - sx0, height: sy1 - sy0 };
  const blurred = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .extract(window)
    .blur(sigma)
    .raw()
    .toBuffer();
  if (sx0 === region.x && sy0 === region.y && window.width === region.width && window.height === region.height) return blurred;
  const out = new Uint8Array(region.width * region.height * 3);
  const rowBytes = region.width * 3;
  for (let row = 0; row < region.height; row++) {
    const src = ((region.y - sy0 + row) * window.width + (region.x - sx0)) * 3;
    out.set(blurred.subarray(src, src + rowBytes), row * rowBytes);
  }
  return out;
}
