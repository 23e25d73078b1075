/** Turns an encoded image into a model input tensor (stretch resize, channel order, normalisation). */
import sharp from 'sharp';

export interface InputRecipe {
  width: number;
  height: number;
  layout: 'NCHW' | 'NHWC';
  channels: 'RGB' | 'BGR';
  /** Per output channel, in the recipe's channel order, applied to 0..255 values: (v - mean) / std. */
  mean: [number, number, number];
  std: [number, number, number];
}

export async function imageToTensor(image: Uint8Array, r: InputRecipe): Promise<{ dims: number[]; data: Float32Array }> {
  const { data } = await sharp(image).resize(r.width, r.height, { fit: 'fill' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const pixels = r.width * r.height;
  const out = new Float32Array(3 * pixels);
  for (let c = 0; c < 3; c++) {
    const src = r.channels === 'BGR' ? 2 - c : c;
    const mean = r.mean[c]!;
    const inv = 1 / r.std[c]!;
    for (let i = 0; i < pixels; i++) {
      const v = (data[i * 3 + src]! - mean) * inv;
      if (r.layout === 'NCHW') out[c * pixels + i] = v;
      else out[i * 3 + c] = v;
    }
  }
  const dims = r.layout === 'NCHW' ? [1, 3, r.height, r.width] : [1, r.height, r.width, 3];
  return { dims, data: out };
}
