// YuNet's 2× pass folded into its first convolution (src/detect/yunet/yunet-fold.ts), against the enlarged image.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { fetchPacks } from '../../src/detect/pack-fetch.ts';
import { OnnxWireError, readGraph } from '../../src/detect/onnx-wire.ts';
import { SessionFactory } from '../../src/detect/session.ts';
import { foldUpscaleIntoFirstConv } from '../../src/detect/yunet/yunet-fold.ts';
import { YUNET_MODEL_FILE, YunetFaceDetector, yunetFoldedInput, yunetInput } from '../../src/detect/yunet/yunet.ts';
import type { RgbImage } from '../../src/types.ts';
import { MODELS_EXTRA } from '../helpers/fixtures.ts';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');

async function rgb(input: string | Buffer): Promise<RgbImage> {
  const { data, info } = await sharp(input).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

let packsDir = '';
before(async () => {
  packsDir = await mkdtemp(path.join(tmpdir(), 'anonymiser-yunet-fold-'));
  await fetchPacks({ names: ['yunet'], packsDir, mirror: MODELS_EXTRA });
});
after(async () => {
  await rm(packsDir, { recursive: true, force: true });
});

test("sharp's 2× linear enlargement samples source coordinate (X − 1) / 2, the rule the fold is derived from", async () => {
  const image = await rgb(await sharp(path.join(fixtures, 'faces.jpg')).resize(97, 61, { fit: 'fill' }).toBuffer());
  const { width: w, height: h, data } = image;
  const big = await sharp(data, { raw: { width: w, height: h, channels: 3 } }).resize(2 * w, 2 * h, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
  const at = (x: number, y: number, c: number) => data[(Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, x))) * 3 + c]!;
  const taps = (k: number): [number, number][] => (k % 2 === 1 ? [[(k - 1) / 2, 1]] : [[k / 2 - 1, 0.5], [k / 2, 0.5]]);
  let worst = 0;
  for (let y = 0; y < 2 * h; y++) {
    for (let x = 0; x < 2 * w; x++) {
      for (let c = 0; c < 3; c++) {
        let v = 0;
        for (const [sy, wy] of taps(y)) for (const [sx, wx] of taps(x)) v += wy * wx * at(sx, sy, c);
        worst = Math.max(worst, Math.abs(big[(y * 2 * w + x) * 3 + c]! - v));
      }
    }
  }
  assert.ok(worst <= 0.5, `largest difference ${worst}: sharp's enlargement changed, the fold no longer matches it`);
});

test('the folded model on the image gives the outputs of the model on the 2× image, up to 8-bit rounding', async () => {
  const bytes = new Uint8Array(await readFile(path.join(packsDir, YUNET_MODEL_FILE)));
  const folded = foldUpscaleIntoFirstConv(bytes);
  assert.equal(folded.length, bytes.length, 'patched in place');
  assert.notDeepEqual(folded, bytes);
  const options = { graphOptimizationLevel: 'all' as const, intraOpNumThreads: 1 };
  const original = await ort.InferenceSession.create(bytes, options);
  const derived = await ort.InferenceSession.create(folded, options);
  try {
    const photo = path.join(fixtures, 'faces-group.jpg');
    const image = await rgb(photo);
    // The mirrored pass mirrors the image before its (folded) enlargement: the reference is the mirrored photo enlarged.
    const mirrored = { ...image, data: await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).flop().raw().toBuffer() };
    const region = { x0: 0, y0: 0, x1: image.width, y1: image.height };
    for (const flip of [false, true]) {
      const enlarged = await yunetInput(flip ? mirrored : image, region, 2);
      const direct = yunetFoldedInput(image, region, flip);
      assert.deepEqual([direct.width, direct.height, direct.scale], [enlarged.width, enlarged.height, enlarged.scale]);
      assert.equal(direct.mirrorWidth, flip ? image.width * 2 : 0);
      const a = await original.run({ input: enlarged.tensor });
      const b = await derived.run({ input: direct.tensor });
      for (const name of original.outputNames) {
        assert.deepEqual(b[name]!.dims, a[name]!.dims, name);
        if (!name.startsWith('cls') && !name.startsWith('obj')) continue;
        const x = a[name]!.data as Float32Array;
        const y = b[name]!.data as Float32Array;
        let far = 0;
        let sum = 0;
        for (let i = 0; i < x.length; i++) {
          const d = Math.abs(x[i]! - y[i]!);
          sum += d;
          if (d > 0.05) far++;
        }
        // The first output row and column differ (edge replicated vs zero padding), the rest by rounding only: the mean
        // difference is 2-3.4e-3 for the scores (a fold weight off by 0.1 makes it 7-11e-3 and 37-165 far ones).
        const label = `${name}${flip ? ' (mirrored)' : ''}`;
        assert.ok(far <= 0.001 * x.length, `${label}: ${far} of ${x.length} scores differ by more than 0.05`);
        if (name.startsWith('cls')) assert.ok(sum / x.length < 5e-3, `${label}: mean difference ${sum / x.length}`);
      }
    }
  } finally {
    await original.release();
    await derived.release();
  }
});

test('the detector with the fold finds the same faces as with the enlarged image', async () => {
  const factory = new SessionFactory({ provider: 'cpu', modelsDir: packsDir });
  try {
    const withFold = await YunetFaceDetector.create(factory);
    const enlarged = await YunetFaceDetector.create(factory, 'balanced', undefined, undefined, false);
    for (const name of ['faces-group.jpg', 'faces.jpg']) {
      const image = await rgb(path.join(fixtures, name));
      const a = (await enlarged.detectRaw(image)).filter((d) => d.score >= 0.6);
      const b = (await withFold.detectRaw(image)).filter((d) => d.score >= 0.6);
      assert.ok(a.length > 0, name);
      assert.equal(b.length, a.length, `${name}: ${JSON.stringify({ a, b })}`);
      for (const d of a) assert.ok(b.some((e) => Math.abs(e.box.x0 - d.box.x0) < 2 && Math.abs(e.box.y0 - d.box.y0) < 2 && Math.abs(e.box.x1 - d.box.x1) < 2 && Math.abs(e.box.y1 - d.box.y1) < 2), name);
    }
  } finally {
    await factory.dispose();
  }
});

test('a model whose first layer is not a 3×3 stride-2 convolution is refused by the fold', async () => {
  const bundled = new Uint8Array(await readFile(path.join(path.dirname(fileURLToPath(import.meta.url)), '../../models/nanodet_coco.onnx')));
  assert.ok(readGraph(bundled).nodes.length > 0);
  assert.throws(() => foldUpscaleIntoFirstConv(bundled), OnnxWireError);
});
