import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { buildCoverage, encodeBinaryMask, encodeInstanceMask, planObjects, scaleMaskPng } from '../../src/render/index.ts';
import { decodePng, det, params } from './helpers.ts';

const W = 200;
const H = 120;
const vehicle = det('vehicle', { x0: 20, y0: 20, x1: 180, y1: 100 });
const plate = det('license-plate', { x0: 80, y0: 70, x1: 120, y1: 90 });
const face = det('face', { x0: 150, y0: 5, x1: 170, y1: 25 });

async function rgbAt(png: Buffer, x: number, y: number): Promise<number[]> {
  const img = await decodePng(png);
  const p = (y * img.width + x) * img.channels;
  return Array.from(img.data.subarray(p, p + img.channels));
}

test('binary mask: one channel, 255 over anonymised pixels, 0 elsewhere and in ignore regions', async () => {
  const plan = planObjects(W, H, [plate], params({ ignores: [{ topLeftX: 110, topLeftY: 0, width: 90, height: 120 }] }));
  const png = await encodeBinaryMask(plan);
  const meta = await sharp(png).metadata();
  assert.equal(meta.format, 'png');
  assert.equal(meta.channels, 1);
  const img = await decodePng(png);
  assert.equal(img.data[80 * W + 100], 255, 'inside the plate');
  assert.equal(img.data[80 * W + 115], 0, 'inside the ignore region');
  assert.equal(img.data[10 * W + 10], 0, 'background');
  assert.deepEqual(new Set(img.data), new Set([0, 255]));
  assert.ok((await encodeBinaryMask(buildCoverage(plan))).equals(png), 'from the coverage or from the plan: same mask');
});

test('instance mask: R 0, G instance id in detection order, B type bits OR-combined where objects overlap', async () => {
  const plan = planObjects(W, H, [vehicle, plate, face], params());
  const png = await encodeInstanceMask(plan);
  assert.equal((await sharp(png).metadata()).channels, 3);
  assert.deepEqual(await rgbAt(png, 40, 40), [0, 1, 16], 'vehicle only');
  assert.deepEqual(await rgbAt(png, 100, 80), [0, 2, 80], 'plate on the vehicle: 64 | 16, id of the plate');
  assert.deepEqual(await rgbAt(png, 160, 22), [0, 3, 48], 'face overlapping the vehicle: 32 | 16');
  assert.deepEqual(await rgbAt(png, 5, 110), [0, 0, 0]);
  const detectOnly = planObjects(W, H, [vehicle, plate, face], params({ method: 'detect' }));
  assert.ok((await encodeInstanceMask(detectOnly)).equals(png), 'detect still produces the same masks');
});

test('mask-scale shrinks masks with nearest neighbour, never inventing ids or bit combinations', async () => {
  const plan = planObjects(W, H, [vehicle, plate, face], params());
  const full = await decodePng(await encodeInstanceMask(plan));
  const half = await decodePng(await encodeInstanceMask(plan, 50));
  assert.equal(half.width, 100);
  assert.equal(half.height, 60);
  const colours = (img: typeof full) => {
    const s = new Set<string>();
    for (let i = 0; i < img.data.length; i += 3) s.add(`${img.data[i]},${img.data[i + 1]},${img.data[i + 2]}`);
    return s;
  };
  const fullColours = colours(full);
  for (const c of colours(half)) assert.ok(fullColours.has(c), `scaled mask has a new colour ${c}`);
  const bin = await decodePng(await encodeBinaryMask(plan, 10));
  assert.deepEqual([bin.width, bin.height, bin.channels], [20, 12, 1]);
  assert.deepEqual(new Set(bin.data), new Set([0, 255]));
});

test('scaleMaskPng rescales stored masks for downloads and keeps their encoding', async () => {
  const plan = planObjects(W, H, [vehicle, plate], params());
  const ins = await encodeInstanceMask(plan);
  const scaled = await decodePng(await scaleMaskPng(ins, 25, 'instance'));
  assert.deepEqual([scaled.width, scaled.height, scaled.channels], [50, 30, 3]);
  assert.deepEqual(Array.from(scaled.data.subarray((20 * 50 + 25) * 3, (20 * 50 + 25) * 3 + 3)), [0, 2, 80]);
  const bin = await decodePng(await scaleMaskPng(await encodeBinaryMask(plan), 1, 'binary'));
  assert.deepEqual([bin.width, bin.height, bin.channels], [2, 1, 1]);
  assert.ok((await scaleMaskPng(ins, 100, 'instance')).equals(ins));
});
