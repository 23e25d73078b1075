// Mixes effect pixels into the output image through an object's alpha; the only place pixels change.
import type { ObjectMask, RgbImage } from '../types.ts';

/**
 * `effect` holds RGB pixels of the rectangle (effectX, effectY, effectWidth × …) which contains the
 * alpha's rectangle. alpha 0 leaves a pixel bit-exact, 255 replaces it.
 */
export function blendInto(
  out: RgbImage,
  alpha: ObjectMask,
  effect: Uint8Array,
  effectX: number,
  effectY: number,
  effectWidth: number,
): void {
  // Fields in locals before the loops (see render/masks.ts): V8 then keeps them in registers.
  const dst = out.data;
  const data = alpha.data;
  const w = alpha.width;
  const h = alpha.height;
  const outWidth = out.width;
  for (let row = 0; row < h; row++) {
    const y = alpha.y + row;
    let a = row * w;
    const end = a + w;
    let d = (y * outWidth + alpha.x) * 3;
    let e = ((y - effectY) * effectWidth + (alpha.x - effectX)) * 3;
    for (; a < end; a++, d += 3, e += 3) {
      const k = data[a]!;
      if (k === 0) continue;
      if (k === 255) {
        dst[d] = effect[e]!;
        dst[d + 1] = effect[e + 1]!;
        dst[d + 2] = effect[e + 2]!;
        continue;
      }
      dst[d] += ((effect[e]! - dst[d]!) * k + 127) / 255;
      dst[d + 1] += ((effect[e + 1]! - dst[d + 1]!) * k + 127) / 255;
      dst[d + 2] += ((effect[e + 2]! - dst[d + 2]!) * k + 127) / 255;
    }
  }
}

/** Same as blendInto with one solid colour as the effect. */
export function fillInto(out: RgbImage, alpha: ObjectMask, color: readonly [number, number, number]): void {
  const dst = out.data;
  const [r, g, b] = color;
  for (let row = 0; row < alpha.height; row++) {
    let a = row * alpha.width;
    let d = ((alpha.y + row) * out.width + alpha.x) * 3;
    for (let col = 0; col < alpha.width; col++, a++, d += 3) {
      const k = alpha.data[a];
      if (k === 0) continue;
      dst[d] += ((r - dst[d]) * k + 127) / 255;
      dst[d + 1] += ((g - dst[d + 1]) * k + 127) / 255;
      dst[d + 2] += ((b - dst[d + 2]) * k + 127) / 255;
    }
  }
}
