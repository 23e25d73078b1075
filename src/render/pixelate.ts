// Mosaic of one object's neighbourhood: blocks sized to the object so it is never readable.
import type { Detection, ObjectClass, RgbImage } from '../types.ts';
import type { Region } from './blur.ts';

/**
 * Blocks across the object's longer side. Eight blocks across a face or a plate leave no readable
 * features or characters; persons and vehicles keep a rough silhouette.
 */
export const BLOCKS_ACROSS: Record<ObjectClass, number> = { face: 8, 'license-plate': 8, person: 12, vehicle: 16 };
/** Below this block size a tiny object would keep its pixels; four pixels per block is still coarse. */
export const MIN_BLOCK_PX = 4;

export function blockSize(det: Detection): number {
  const { x0, y0, x1, y1 } = det.box;
  return Math.max(MIN_BLOCK_PX, Math.ceil(Math.max(x1 - x0, y1 - y0) / BLOCKS_ACROSS[det.cls]));
}

/**
 * Returns the region's RGB pixels replaced by block means. The grid is anchored at the object's box
 * (not the clipped region) so a block cut by the image border is still one opaque colour: the mean
 * of the pixels it has inside the image.
 */
export function pixelateRegion(image: RgbImage, region: Region, det: Detection, block: number): Uint8Array {
  const out = new Uint8Array(region.width * region.height * 3);
  const originX = Math.floor(det.box.x0);
  const originY = Math.floor(det.box.y0);
  const firstCol = Math.floor((region.x - originX) / block);
  const firstRow = Math.floor((region.y - originY) / block);
  const rx1 = region.x + region.width;
  const ry1 = region.y + region.height;
  const src = image.data;
  for (let by = originY + firstRow * block; by < ry1; by += block) {
    const y0 = Math.max(by, region.y);
    const y1 = Math.min(by + block, ry1);
    for (let bx = originX + firstCol * block; bx < rx1; bx += block) {
      const x0 = Math.max(bx, region.x);
      const x1 = Math.min(bx + block, rx1);
      let r = 0;
      let g = 0;
      let b = 0;
      for (let y = y0; y < y1; y++) {
        let p = (y * image.width + x0) * 3;
        for (let x = x0; x < x1; x++, p += 3) {
          r += src[p];
          g += src[p + 1];
          b += src[p + 2];
        }
      }
      const n = (y1 - y0) * (x1 - x0);
      const mr = Math.round(r / n);
      const mg = Math.round(g / n);
      const mb = Math.round(b / n);
      for (let y = y0; y < y1; y++) {
        let q = ((y - region.y) * region.width + (x0 - region.x)) * 3;
        for (let x = x0; x < x1; x++, q += 3) {
          out[q] = mr;
          out[q + 1] = mg;
          out[q + 2] = mb;
        }
      }
    }
  }
  return out;
}
