// Step 4: anonymised pixels → JPEG or PNG bytes with the privacy-filtered EXIF and the input's ICC profile.
import sharp from 'sharp';
import type { ProcessParams, RgbImage } from '../../types.ts';
import type { DecodedImage } from './decode.ts';
import { harmlessExif } from './exif.ts';
import { embedIccInJpeg, embedIccInPng } from './icc.ts';

function withAlpha(image: RgbImage, alpha: Buffer): Buffer {
  const pixels = image.width * image.height;
  const rgba = Buffer.allocUnsafe(pixels * 4);
  for (let i = 0, s = 0, d = 0; i < pixels; i++, s += 3, d += 4) {
    rgba[d] = image.data[s];
    rgba[d + 1] = image.data[s + 1];
    rgba[d + 2] = image.data[s + 2];
    rgba[d + 3] = alpha[i];
  }
  return rgba;
}

/**
 * No XMP is written (it can hold face regions and locations); EXIF is rebuilt from the harmless
 * tags only, and libvips writes orientation 1 because the pixels were rotated upright on decode.
 */
export async function encodeImage(decoded: DecodedImage, image: RgbImage, params: ProcessParams): Promise<Buffer> {
  const channels = decoded.alpha && decoded.format === 'png' ? 4 : 3;
  const data = channels === 4 ? withAlpha(image, decoded.alpha!) : image.data;
  let img = sharp(data, { raw: { width: image.width, height: image.height, channels } });
  const exif = harmlessExif(decoded.exif);
  if (Object.keys(exif).length > 0) img = img.withExif(exif);
  if (decoded.format === 'png') {
    const png = await img.png({ compressionLevel: params.compressLevel }).toBuffer();
    return decoded.icc ? embedIccInPng(png, decoded.icc) : png;
  }
  const jpeg = await img.jpeg({ quality: Math.min(100, Math.max(1, params.quality)) }).toBuffer();
  return decoded.icc ? embedIccInJpeg(jpeg, decoded.icc) : jpeg;
}
