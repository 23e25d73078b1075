// Raw camera frames as PEKAT clients send them: BGR, grey and BayerRG8 bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { AppError } from '../../src/errors.ts';
import { decodeRawFrame, demosaicRggb, rawFrameToPng } from '../../src/pipeline/image/raw.ts';
import { texturedImage } from '../render/helpers.ts';
import type { RgbImage } from '../../src/types.ts';

/** The mosaic a BayerRG8 camera would record of an RGB image: R at even/even, B at odd/odd, G elsewhere. */
function mosaic(img: RgbImage): Uint8Array {
  const out = new Uint8Array(img.width * img.height);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const ch = y % 2 === 0 ? (x % 2 === 0 ? 0 : 1) : x % 2 === 0 ? 1 : 2;
      out[y * img.width + x] = img.data[(y * img.width + x) * 3 + ch];
    }
  }
  return out;
}

function smoothImage(width: number, height: number): RgbImage {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      data[p] = Math.round((x * 200) / width + 20);
      data[p + 1] = Math.round((y * 200) / height + 30);
      data[p + 2] = Math.round(((x + y) * 100) / (width + height) + 60);
    }
  }
  return { data, width, height };
}

test('BGR bytes (OpenCV order) come out as RGB pixels', () => {
  const bgr = Uint8Array.from([1, 2, 3, 10, 20, 30, 100, 110, 120, 7, 8, 9]);
  const img = decodeRawFrame(bgr, { width: 2, height: 2, bayer: false });
  assert.deepEqual([...img.data], [3, 2, 1, 30, 20, 10, 120, 110, 100, 9, 8, 7]);
});

test('one byte per pixel without the bayer flag is grey', () => {
  const img = decodeRawFrame(Uint8Array.from([0, 50, 200, 255, 9, 9]), { width: 3, height: 2, bayer: false });
  assert.deepEqual([...img.data.subarray(0, 9)], [0, 0, 0, 50, 50, 50, 200, 200, 200]);
});

test('BayerRG8: a red, a green and a blue scene demosaic to that colour everywhere (the RGGB order is right)', () => {
  for (const colour of [[200, 0, 0], [0, 200, 0], [0, 0, 200]] as const) {
    const w = 8, h = 6;
    const img: RgbImage = { data: Buffer.alloc(w * h * 3), width: w, height: h };
    for (let i = 0; i < w * h; i++) img.data.set(colour, i * 3);
    const back = demosaicRggb(mosaic(img), w, h);
    for (let i = 0; i < w * h; i++) assert.deepEqual([...back.subarray(i * 3, i * 3 + 3)], [...colour], `pixel ${i} of ${colour}`);
  }
});

test('BayerRG8: a smooth scene comes back within 4 levels (bilinear; mirrored borders), a textured one close on average', () => {
  const smooth = smoothImage(64, 48);
  const back = decodeRawFrame(mosaic(smooth), { width: 64, height: 48, bayer: true });
  let worst = 0;
  for (let i = 0; i < back.data.length; i++) worst = Math.max(worst, Math.abs(back.data[i] - smooth.data[i]));
  assert.ok(worst <= 4, `max error ${worst}`);
  const tex = texturedImage(64, 48);
  const backTex = decodeRawFrame(mosaic(tex), { width: 64, height: 48, bayer: true });
  let sum = 0;
  for (let i = 0; i < tex.data.length; i++) sum += Math.abs(backTex.data[i] - tex.data[i]);
  // The mosaic keeps exactly one of three channels; the rest is interpolated from neighbours.
  assert.ok(sum / tex.data.length < 40, `mean error ${(sum / tex.data.length).toFixed(1)}`);
  const known = mosaic(tex);
  for (let y = 0; y < 48; y++) for (let x = 0; x < 64; x++) {
    const ch = y % 2 === 0 ? (x % 2 === 0 ? 0 : 1) : x % 2 === 0 ? 1 : 2;
    assert.equal(backTex.data[(y * 64 + x) * 3 + ch], known[y * 64 + x], 'recorded samples are kept as they are');
  }
});

test('a length that fits no layout is a 400 saying what was expected', () => {
  const expectError = (fn: () => unknown, pattern: RegExp) =>
    assert.throws(fn, (err: unknown) => err instanceof AppError && err.status === 400 && pattern.test(err.message));
  expectError(() => decodeRawFrame(new Uint8Array(100), { width: 10, height: 5, bayer: false }), /150 bytes \(BGR, 3 per pixel\) or 50 bytes \(grey\), got 100/);
  expectError(() => decodeRawFrame(new Uint8Array(150), { width: 10, height: 5, bayer: true }), /BayerRG8 frame is 50 bytes \(one per pixel\), got 150/);
  expectError(() => decodeRawFrame(new Uint8Array(3), { width: 1, height: 3, bayer: true }), /at least 2/);
});

test('rawFrameToPng writes a lossless PNG of the frame', async () => {
  const tex = texturedImage(33, 17);
  const bgr = Buffer.alloc(tex.data.length);
  for (let i = 0; i < tex.data.length; i += 3) [bgr[i], bgr[i + 1], bgr[i + 2]] = [tex.data[i + 2], tex.data[i + 1], tex.data[i]];
  const png = await rawFrameToPng(bgr, { width: 33, height: 17, bayer: false });
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.format, 'raw');
  assert.deepEqual([info.width, info.height, info.channels], [33, 17, 3]);
  assert.ok(data.equals(tex.data));
});

test('BayerRG8: the row-wise fast path equals a plain per-pixel bilinear demosaic, borders included', () => {
  const w = 37, h = 23;
  const src = new Uint8Array(w * h);
  for (let i = 0; i < src.length; i++) src[i] = (i * 2654435761) >>> 24;
  const mirror = (v: number, n: number) => (v < 0 ? -v : v >= n ? 2 * n - 2 - v : v);
  const at = (x: number, y: number) => src[mirror(y, h) * w + mirror(x, w)]!;
  const mean = (...vs: number[]) => (vs.reduce((a, b) => a + b, 0) + (vs.length >> 1)) >> (vs.length === 4 ? 2 : 1);
  const fast = demosaicRggb(src, w, h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const c = at(x, y);
    const cross = mean(at(x - 1, y), at(x + 1, y), at(x, y - 1), at(x, y + 1));
    const diag = mean(at(x - 1, y - 1), at(x + 1, y - 1), at(x - 1, y + 1), at(x + 1, y + 1));
    const horiz = mean(at(x - 1, y), at(x + 1, y));
    const vert = mean(at(x, y - 1), at(x, y + 1));
    const want = y % 2 === 0 ? (x % 2 === 0 ? [c, cross, diag] : [horiz, c, vert]) : x % 2 === 0 ? [vert, c, horiz] : [diag, cross, c];
    assert.deepEqual([...fast.subarray((y * w + x) * 3, (y * w + x) * 3 + 3)], want, `pixel ${x},${y}`);
  }
});
