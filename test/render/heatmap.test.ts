import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { encodeHeatmap, planObjects } from '../../src/render/index.ts';
import { decodePng, det, params } from './helpers.ts';

test('heatmap: one grey channel of the image size, black where nothing is anonymised, soft at the face edge', async () => {
  const plan = planObjects(120, 80, [det('face', { x0: 40, y0: 20, x1: 70, y1: 60 })], params());
  const png = await encodeHeatmap(plan);
  assert.equal((await sharp(png).metadata()).channels, 1);
  const { data, ...info } = await decodePng(png);
  assert.deepEqual([info.width, info.height, info.channels], [120, 80, 1]);
  assert.equal(data[40 * 120 + 55], 255, 'face centre fully covered');
  assert.equal(data[5 * 120 + 5], 0, 'background black');
  const soft = [...data].filter((v) => v > 0 && v < 255).length;
  assert.ok(soft > 50, `soft edge pixels: ${soft}`);
  const none = (await decodePng(await encodeHeatmap(planObjects(120, 80, [], params())))).data;
  assert.equal(none.reduce((a, b) => a + b, 0), 0, 'no detections: all dark');
});
