// Raw BGR pixels (OpenCV's layout, as the TCP NumPy mode carries them) to and from image files, so that
// such arrays go through the same file-based pipeline as uploads. PNG keeps every pixel exact.
import sharp from 'sharp';
import { UndecodableFileError } from '../../errors.ts';
import { DECODE_OPTIONS } from './decode.ts';

export interface BgrPixels {
  /** Packed B,G,R bytes, row-major, no padding. */
  data: Buffer;
  width: number;
  height: number;
}

/** Swaps the first and third byte of every pixel (BGR ↔ RGB) into a new buffer. */
export function swapRedBlue(data: Buffer): Buffer {
  const out = Buffer.allocUnsafe(data.length);
  for (let i = 0; i + 2 < data.length; i += 3) {
    out[i] = data[i + 2]!;
    out[i + 1] = data[i + 1]!;
    out[i + 2] = data[i]!;
  }
  return out;
}

/**
 * A lossless PNG of BGR pixels. zlib level 1: the file only carries the pixels into the pipeline, where
 * time matters more than size (bench/tcp.ts, 4000×3000 on 2 shared cores: 321 ms / 21.4 MB at level 1,
 * 392 ms / 17.8 MB at level 6).
 */
export async function bgrToPng(image: BgrPixels): Promise<Buffer> {
  if (image.data.length !== image.width * image.height * 3) throw new RangeError('BGR buffer size does not match width × height × 3');
  if (image.width * image.height > DECODE_OPTIONS.limitInputPixels) {
    throw new UndecodableFileError(`the image has ${image.width}×${image.height} pixels, more than the limit of ${DECODE_OPTIONS.limitInputPixels}`);
  }
  return sharp(swapRedBlue(image.data), { raw: { width: image.width, height: image.height, channels: 3 } })
    .png({ compressionLevel: 1, adaptiveFiltering: false })
    .toBuffer();
}

/** Decodes an image file (e.g. the anonymised PNG) to BGR pixels; alpha is dropped. */
export async function imageFileToBgr(path: string): Promise<BgrPixels> {
  const { data, info } = await sharp(path, DECODE_OPTIONS).removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new UndecodableFileError(`unexpected ${info.channels} channels`);
  return { data: swapRedBlue(data), width: info.width, height: info.height };
}
