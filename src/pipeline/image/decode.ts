// Step 1: file → upright RGB pixels (EXIF orientation applied), plus what the encoder must carry over.
import { readFile } from 'node:fs/promises';
import sharp, { type Metadata, type SharpOptions } from 'sharp';
import { AppError, UndecodableFileError, withInternal } from '../../errors.ts';
import type { RgbImage } from '../../types.ts';
import { checkPixels, DEFAULT_LIMITS, SHARP_PIXEL_CEILING, type MediaLimits } from '../limits.ts';

export type ImageFormat = 'jpeg' | 'png';

/**
 * How strictly images are read, shared with the upload probe so that what the probe accepts decodes here:
 * corrupt pixel data fails, and the pixel limit (sharp's default, e.g. a 20000×13000 panorama) guards
 * memory against decompression bombs.
 */
export const DECODE_OPTIONS = { failOn: 'error', limitInputPixels: SHARP_PIXEL_CEILING } as const satisfies SharpOptions;

/**
 * libjpeg/libpng warnings that mean pixel data is missing. Under failOn 'error' libjpeg only warns about them
 * and fills the rest with grey, so a 2.5 KB file whose header says 16000×16000 would be decoded as 256 Mpx.
 * Other warnings ("extraneous bytes before marker", odd ancillary chunks) are harmless and common in real files.
 */
const MISSING_DATA = /premature end|truncat|not enough image data|unexpected end|incomplete/i;

/**
 * Runs a sharp read twice if needed: first failing on any warning; when the warning says that data is missing,
 * the file is refused, otherwise it is read again failing only on errors. Throws UndecodableFileError.
 */
export async function readStrictly<T>(what: string, read: (options: SharpOptions) => Promise<T>, limits: MediaLimits = DEFAULT_LIMITS): Promise<T> {
  const limitInputPixels = Math.min(SHARP_PIXEL_CEILING, limits.maxPixels);
  try {
    return await read({ failOn: 'warning', limitInputPixels });
  } catch (strictErr) {
    const text = (strictErr as Error).message ?? String(strictErr);
    if (MISSING_DATA.test(text)) {
      throw withInternal(new UndecodableFileError(`the ${what} file is truncated or its data is incomplete`), strictErr);
    }
    try {
      return await read({ failOn: 'error', limitInputPixels });
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw withInternal(new UndecodableFileError(`the ${what} file cannot be decoded (corrupt data)`), err);
    }
  }
}

/** Header size check (cheap, before any pixel is decoded): TooManyPixelsError over the limit. */
export async function checkImageSize(input: string | Buffer, what: string, limits: MediaLimits = DEFAULT_LIMITS): Promise<{ width: number; height: number }> {
  let meta: Metadata;
  try {
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw withInternal(new UndecodableFileError(`the ${what} file cannot be decoded (unreadable header)`), err);
  }
  if (!meta.width || !meta.height) throw new UndecodableFileError(`the ${what} file has no image size`);
  // EXIF orientation does not change the pixel count.
  checkPixels(meta.width, meta.height, limits);
  return { width: meta.width, height: meta.height };
}

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

export async function decodeImage(inputPath: string, limits: MediaLimits = DEFAULT_LIMITS): Promise<DecodedImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(inputPath);
  } catch (err) {
    throw withInternal(new UndecodableFileError('the uploaded file cannot be read (it is no longer on disk)'), err);
  }
  const what = inputPath.endsWith('.png') ? 'image/png' : 'image';
  await checkImageSize(bytes, what, limits);
  try {
    const meta = await sharp(bytes).metadata();
    const hasAlpha = meta.hasAlpha === true;
    // An RGB profile is kept as is (no conversion, the pixels go back out in the space they came in);
    // CMYK or grey inputs are converted to sRGB and their profile, which no longer fits, is dropped.
    const keepIcc = meta.icc !== undefined && meta.space === 'srgb';
    const { data, info } = await readStrictly(
      what,
      (options) => {
        let pipeline = sharp(bytes, options).rotate();
        pipeline = keepIcc ? pipeline.keepIccProfile() : pipeline.toColourspace('srgb');
        if (!hasAlpha) pipeline = pipeline.removeAlpha();
        return pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
      },
      limits,
    );
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
    if (err instanceof AppError) throw err;
    throw withInternal(new UndecodableFileError(`the ${what} file cannot be decoded`), err);
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
