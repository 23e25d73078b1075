// Raw pixels to and from image files, so that they go through the same file-based pipeline as uploads:
// camera frames (PEKAT's /analyze_raw_image: packed BGR, grey or GenICam BayerRG8) and OpenCV's BGR arrays
// (the TCP NumPy mode, both ways). PNG keeps every pixel exact.
import { readFile, writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import { BadParameterError, UndecodableFileError } from '../../errors.ts';
import type { RgbImage } from '../../types.ts';
import { DECODE_OPTIONS } from './decode.ts';

export type RawLayout = 'bgr' | 'grey' | 'bayer-rg8';

export interface RawFrameSpec {
  width: number;
  height: number;
  /** The frame is single-channel BayerRG8 (row 0: R G R G…, row 1: G B G B…). */
  bayer: boolean;
}

/** Largest frame we take: the same pixel limit as encoded uploads. */
export const MAX_RAW_PIXELS = DECODE_OPTIONS.limitInputPixels;

/**
 * Which layout `length` bytes are for a width×height frame: with `bayer` one byte per pixel; otherwise
 * three (BGR, OpenCV's order) or one (grey), inferred from the length since clients send no channel count.
 */
export function rawLayout(length: number, spec: RawFrameSpec): RawLayout {
  const pixels = spec.width * spec.height;
  if (spec.bayer) {
    if (spec.width < 2 || spec.height < 2) throw new BadParameterError('bayer', 'a Bayer frame needs a width and height of at least 2');
    if (length === pixels) return 'bayer-rg8';
    throw new BadParameterError('body', `a ${spec.width}×${spec.height} BayerRG8 frame is ${pixels} bytes (one per pixel), got ${length}`);
  }
  if (length === pixels * 3) return 'bgr';
  if (length === pixels) return 'grey';
  throw new BadParameterError(
    'body',
    `a ${spec.width}×${spec.height} raw frame is ${pixels * 3} bytes (BGR, 3 per pixel) or ${pixels} bytes (grey), got ${length}`,
  );
}

/** Swaps the first and third byte of every pixel (BGR ↔ RGB) into a new buffer. */
export function swapRedBlue(src: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(src.length - (src.length % 3));
  for (let i = 0; i + 2 < src.length; i += 3) {
    out[i] = src[i + 2]!;
    out[i + 1] = src[i + 1]!;
    out[i + 2] = src[i]!;
  }
  return out;
}

function greyToRgb(src: Uint8Array, pixels: number): Buffer {
  const out = Buffer.allocUnsafe(pixels * 3);
  for (let i = 0, o = 0; i < pixels; i++, o += 3) out[o] = out[o + 1] = out[o + 2] = src[i];
  return out;
}

/**
 * Bilinear demosaic of an RGGB mosaic (GenICam BayerRG8 = OpenCV's BayerBG): each missing colour is the
 * mean of its nearest same-colour neighbours. Borders mirror without repeating the edge (reflect-101),
 * which keeps each neighbour on the right colour of the pattern.
 */
export function demosaicRggb(src: Uint8Array, width: number, height: number): Buffer {
  const out = Buffer.allocUnsafe(width * height * 3);
  const rx = (x: number) => (x < 0 ? -x : x >= width ? 2 * width - 2 - x : x);
  const ry = (y: number) => (y < 0 ? -y : y >= height ? 2 * height - 2 - y : y);
  const at = (x: number, y: number) => src[ry(y) * width + rx(x)];
  /** One pixel from its 3×3 neighbourhood n (row-major, n4 the pixel itself). */
  const write = (x: number, y: number, n0: number, n1: number, n2: number, n3: number, n4: number, n5: number, n6: number, n7: number, n8: number) => {
    const cross = (n1 + n3 + n5 + n7 + 2) >> 2;
    const diag = (n0 + n2 + n6 + n8 + 2) >> 2;
    const horiz = (n3 + n5 + 1) >> 1;
    const vert = (n1 + n7 + 1) >> 1;
    const o = (y * width + x) * 3;
    if ((y & 1) === 0) {
      if ((x & 1) === 0) [out[o], out[o + 1], out[o + 2]] = [n4, cross, diag]; // R site
      else [out[o], out[o + 1], out[o + 2]] = [horiz, n4, vert]; // G on an R row
    } else if ((x & 1) === 0) [out[o], out[o + 1], out[o + 2]] = [vert, n4, horiz]; // G on a B row
    else [out[o], out[o + 1], out[o + 2]] = [diag, cross, n4]; // B site
  };
  const edge = (x: number, y: number) =>
    write(x, y, at(x - 1, y - 1), at(x, y - 1), at(x + 1, y - 1), at(x - 1, y), at(x, y), at(x + 1, y), at(x - 1, y + 1), at(x, y + 1), at(x + 1, y + 1));
  for (let y = 0; y < height; y++) {
    if (y === 0 || y === height - 1) {
      for (let x = 0; x < width; x++) edge(x, y);
      continue;
    }
    edge(0, y);
    // Interior: all neighbours exist, read them straight from the rows above, at and below.
    const up = (y - 1) * width;
    const mid = y * width;
    const down = (y + 1) * width;
    const evenRow = (y & 1) === 0;
    let o = (mid + 1) * 3;
    for (let x = 1; x < width - 1; x++, o += 3) {
      const c = src[mid + x];
      const l = src[mid + x - 1];
      const r = src[mid + x + 1];
      const u = src[up + x];
      const d = src[down + x];
      if (evenRow === ((x & 1) === 0)) {
        // R or B site: the other two colours are the cross (G) and the diagonals.
        const cross = (l + r + u + d + 2) >> 2;
        const diag = (src[up + x - 1] + src[up + x + 1] + src[down + x - 1] + src[down + x + 1] + 2) >> 2;
        if (evenRow) {
          out[o] = c;
          out[o + 1] = cross;
          out[o + 2] = diag;
        } else {
          out[o] = diag;
          out[o + 1] = cross;
          out[o + 2] = c;
        }
      } else {
        // G site: R and B are the horizontal and vertical pairs, which is which depends on the row.
        const horiz = (l + r + 1) >> 1;
        const vert = (u + d + 1) >> 1;
        out[o] = evenRow ? horiz : vert;
        out[o + 1] = c;
        out[o + 2] = evenRow ? vert : horiz;
      }
    }
    if (width > 1) edge(width - 1, y);
  }
  return out;
}

/** Raw bytes → RGB pixels; a length that fits no layout is a 400 naming the expected sizes. */
export function decodeRawFrame(bytes: Uint8Array, spec: RawFrameSpec): RgbImage {
  const { width, height } = spec;
  const pixels = width * height;
  switch (rawLayout(bytes.length, spec)) {
    case 'bgr':
      return { data: swapRedBlue(bytes), width, height };
    case 'grey':
      return { data: greyToRgb(bytes, pixels), width, height };
    case 'bayer-rg8':
      return { data: demosaicRggb(bytes, width, height), width, height };
  }
}

/**
 * Lossless PNG of the frame. zlib level 1 without adaptive filtering: the file is read once, straight back, by
 * the image pipeline, where time matters more than size (bench/tcp.ts, 4000×3000 on 2 shared cores: 321 ms /
 * 21.4 MB at level 1, 392 ms / 17.8 MB at level 6).
 */
export function rawFrameToPng(bytes: Uint8Array, spec: RawFrameSpec): Promise<Buffer> {
  const img = decodeRawFrame(bytes, spec);
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).png({ compressionLevel: 1, adaptiveFiltering: false }).toBuffer();
}

/** Converts a received raw upload in place into a PNG file (same path), so it is accepted like any image. */
export async function convertRawUpload(path: string, spec: RawFrameSpec): Promise<void> {
  if (spec.width * spec.height > MAX_RAW_PIXELS) {
    throw new BadParameterError('width', `the frame has more than ${MAX_RAW_PIXELS} pixels`);
  }
  const bytes = await readFile(path);
  await writeFile(path, await rawFrameToPng(bytes, spec));
}

/** Packed B,G,R pixels (OpenCV's layout), row-major, no padding. */
export interface BgrPixels {
  data: Buffer;
  width: number;
  height: number;
}

/** A lossless PNG of BGR pixels (the TCP NumPy mode's arrays). */
export async function bgrToPng(image: BgrPixels): Promise<Buffer> {
  if (image.data.length !== image.width * image.height * 3) throw new RangeError('BGR buffer size does not match width × height × 3');
  if (image.width * image.height > MAX_RAW_PIXELS) {
    throw new UndecodableFileError(`the image has ${image.width}×${image.height} pixels, more than the limit of ${MAX_RAW_PIXELS}`);
  }
  return rawFrameToPng(image.data, { width: image.width, height: image.height, bayer: false });
}

/** Decodes an image file (e.g. the anonymised PNG) to BGR pixels; alpha is dropped. */
export async function imageFileToBgr(path: string): Promise<BgrPixels> {
  const { data, info } = await sharp(path, DECODE_OPTIONS).removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new UndecodableFileError(`unexpected ${info.channels} channels`);
  return { data: swapRedBlue(data), width: info.width, height: info.height };
}
