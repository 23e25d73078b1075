// Step 1: file → upright RGB pixels (EXIF orientation applied), plus what the encoder must carry over.
import { readFile } from 'node:fs/promises';
import sharp, { type SharpOptions } from 'sharp';
import { UndecodableFileError } from '../../errors.ts';
import type { RgbImage } from '../../types.ts';

export type ImageFormat = 'jpeg' | 'png';

/**
 * How strictly images are read, shared with the upload probe so that what the probe accepts decodes here:
 * corrupt pixel data fails, and the pixel limit (sharp's default, e.g. a 20000×13000 panorama) guards
 * memory against decompression bombs.
 */
export const DECODE_OPTIONS = { failOn: 'error', limitInputPixels: 268_402_689 } as const satisfies SharpOptions;

export interface DecodedImage {
  image: RgbImage;
  /** width×height alpha of a PNG that had transparency. */
  alpha?: Buffer;
  /** Output format: the input's (anything but PNG is written as JPEG). */
  format: ImageFormat;
  /** Raw EXIF block of the input ("Exif\0\0" + TIFF), to be filtered before it is written again. */
  exif?: Buffer;
  /** ICC profile of the input; the pixels stay in its colour space, so it is written back unchanged. */
  icc?: Buffer;
}

export async function decodeImage(inputPath: string): Promise<DecodedImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(inputPath);
  } catch (err) {
    throw new UndecodableFileError(`cannot read ${inputPath}: ${(err as Error).message}`);
  }
  try {
    const meta = await sharp(bytes).metadata();
    const hasAlpha = meta.hasAlpha === true;
    // An RGB profile is kept as is (no conversion, the pixels go back out in the space they came in);
    // CMYK or grey inputs are converted to sRGB and their profile, which no longer fits, is dropped.
    const keepIcc = meta.icc !== undefined && meta.space === 'srgb';
    let pipeline = sharp(bytes, DECODE_OPTIONS).rotate();
    pipeline = keepIcc ? pipeline.keepIccProfile() : pipeline.toColourspace('srgb');
    if (!hasAlpha) pipeline = pipeline.removeAlpha();
    const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== (hasAlpha ? 4 : 3)) throw new Error(`unexpected ${info.channels} channels`);
    const { rgb, alpha } = splitChannels(data, info.channels, info.width * info.height);
    return {
      image: { data: rgb, width: info.width, height: info.height },
      alpha,
      format: meta.format === 'png' ? 'png' : 'jpeg',
      exif: meta.exif,
      icc: keepIcc ? meta.icc : undefined,
    };
  } catch (err) {
    throw new UndecodableFileError(`cannot decode ${inputPath.split('/').pop()}: ${(err as Error).message}`);
  }
}

/** Splits interleaved RGBA into packed RGB and a separate alpha plane (the renderers work on RGB). */
function splitChannels(data: Buffer, channels: number, pixels: number): { rgb: Buffer; alpha?: Buffer } {
  if (channels === 3) return { rgb: data };
  const rgb = Buffer.allocUnsafe(pixels * 3);
  const alpha = Buffer.allocUnsafe(pixels);
  for (let i = 0, s = 0, d = 0; i < pixels; i++, s += channels, d += 3) {
    rgb[d] = data[s];
    rgb[d + 1] = data[s + 1];
    rgb[d + 2] = data[s + 2];
    alpha[i] = data[s + 3];
  }
  return { rgb, alpha };
}
