import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anonymise, blockSize } from '../../src/render/index.ts';
import type { ObjectMask } from '../../src/types.ts';
import { det, diffCounts, inBox, meanAbsDiff, params, pixel, solidImage, texturedImage } from './helpers.ts';

const face = det('face', { x0: 100, y0: 80, x1: 160, y1: 160 });
// Default gradient start 0.3: each side of the face box moves out by 0.3 × its width/height.
const faceOuter = { x0: 82, y0: 56, x1: 178, y1: 184 };

test('blur changes the face box and leaves every pixel outside its outer box bit-exact', async () => {
  const img = texturedImage(320, 240);
  const before = Buffer.from(img.data);
  const { image, anonymised } = await anonymise(img, [face], params());
  assert.deepEqual(anonymised, [true]);
  assert.ok(img.data.equals(before), 'the input buffer is not modified');
  const d = diffCounts(img, image, inBox(faceOuter));
  assert.equal(d.outside, 0);
  const inside = diffCounts(img, image, inBox(face.box));
  assert.ok(inside.inside > 0.9 * inside.insideTotal, `only ${inside.inside}/${inside.insideTotal} face pixels changed`);
});

test('blur strength follows kernelSize: relative for faces, pixels for persons', async () => {
  const img = texturedImage(320, 240);
  const weak = await anonymise(img, [face], params({ kernelSize: { face: 0.05, 'license-plate': 0.5, person: 95, vehicle: 61 } }));
  const strong = await anonymise(img, [face], params({ kernelSize: { face: 0.8, 'license-plate': 0.5, person: 95, vehicle: 61 } }));
  assert.ok(meanAbsDiff(img, strong.image, face.box) > meanAbsDiff(img, weak.image, face.box) + 5);
  const person = det('person', { x0: 20, y0: 20, x1: 120, y1: 220 });
  const pWeak = await anonymise(img, [person], params({ kernelSize: { face: 0.35, 'license-plate': 0.5, person: 3, vehicle: 61 } }));
  const pStrong = await anonymise(img, [person], params({ kernelSize: { face: 0.35, 'license-plate': 0.5, person: 61, vehicle: 61 } }));
  assert.ok(meanAbsDiff(img, pStrong.image, person.box) > meanAbsDiff(img, pWeak.image, person.box) + 5);
  assert.equal(diffCounts(img, pStrong.image, inBox(person.box)).outside, 0, 'persons have hard edges');
});

test('pixelate: uniform opaque blocks sized to the object, also where the image border cuts a block', async () => {
  const img = texturedImage(235, 200);
  // Box runs past the right and bottom border; bbox + no gradient make the whole visible box full effect.
  const edgeFace = det('face', { x0: 200, y0: 150, x1: 260, y1: 230 });
  const block = blockSize(edgeFace);
  assert.equal(block, 10);
  const p = params({ method: 'pixelate', bbox: true, gradient: { face: { start: 0, stop: 0 }, 'license-plate': { start: 0, stop: 0 } } });
  const { image } = await anonymise(img, [edgeFace], p);
  for (let by = 150; by < 200; by += block) {
    for (let bx = 200; bx < 235; bx += block) {
      const xs = Math.min(bx + block, 235);
      const ys = Math.min(by + block, 200);
      const mean = [0, 0, 0];
      for (let y = by; y < ys; y++) for (let x = bx; x < xs; x++) pixel(img, x, y).forEach((v, c) => (mean[c] += v));
      const expected = mean.map((v) => Math.round(v / ((xs - bx) * (ys - by))));
      for (let y = by; y < ys; y++) {
        for (let x = bx; x < xs; x++) assert.deepEqual(pixel(image, x, y), expected, `block at ${bx},${by} pixel ${x},${y}`);
      }
    }
  }
  assert.equal(diffCounts(img, image, inBox(edgeFace.box)).outside, 0);
});

test('pixelate keeps a minimum block size so a tiny face never keeps its own pixels', async () => {
  const img = texturedImage(100, 100);
  const tiny = det('face', { x0: 40, y0: 40, x1: 52, y1: 52 });
  assert.equal(blockSize(tiny), 4);
  const { image } = await anonymise(img, [tiny], params({ method: 'pixelate', bbox: true }));
  assert.deepEqual(pixel(image, 40, 40), pixel(image, 43, 43));
  assert.notDeepEqual(pixel(image, 40, 40), pixel(img, 40, 40));
});

test('blacken fills with fillColor; detect changes no pixel and anonymises nothing', async () => {
  const img = texturedImage(320, 240);
  const plate = det('license-plate', { x0: 200, y0: 180, x1: 280, y1: 200 });
  const black = await anonymise(img, [face, plate], params({ method: 'blacken' }));
  assert.deepEqual(pixel(black.image, 130, 120), [0, 0, 0]);
  assert.deepEqual(pixel(black.image, 240, 190), [0, 0, 0]);
  const red = await anonymise(img, [face], params({ method: 'blacken', fillColor: [255, 0, 0] }));
  assert.deepEqual(pixel(red.image, 101, 81), [255, 0, 0], 'the box corner gets full effect too');
  const detect = await anonymise(img, [face, plate], params({ method: 'detect' }));
  assert.ok(detect.image.data.equals(img.data));
  assert.deepEqual(detect.anonymised, [false, false]);
  assert.deepEqual(detect.plan.covered, [true, true]);
});

test('shape: faces are ellipses around the box unless bbox; persons follow their mask unless bbox', async () => {
  const img = solidImage(320, 240, 255);
  const noRamp = { face: { start: 0, stop: 0 }, 'license-plate': { start: 0, stop: 0 } };
  const ellipse = await anonymise(img, [face], params({ method: 'blacken', gradient: noRamp }));
  const rect = await anonymise(img, [face], params({ method: 'blacken', gradient: noRamp, bbox: true }));
  // The ellipse circumscribes the box: it reaches past the middle of a side but not past a corner.
  assert.deepEqual(pixel(ellipse.image, 165, 120), [0, 0, 0]);
  assert.deepEqual(pixel(rect.image, 165, 120), [255, 255, 255]);
  assert.deepEqual(pixel(ellipse.image, 100, 80), [0, 0, 0]);
  assert.deepEqual(pixel(ellipse.image, 98, 78), [255, 255, 255]);
  assert.equal(diffCounts(img, rect.image, inBox(face.box)).outside, 0);

  // A person mask: a disc of radius 30 in a 100×100 box at (50,50).
  const data = new Uint8Array(100 * 100);
  for (let y = 0; y < 100; y++) for (let x = 0; x < 100; x++) data[y * 100 + x] = (x - 50) ** 2 + (y - 50) ** 2 <= 900 ? 255 : 0;
  const mask: ObjectMask = { x: 50, y: 50, width: 100, height: 100, data };
  const person = det('person', { x0: 50, y0: 50, x1: 150, y1: 150 }, { mask });
  const seg = await anonymise(img, [person], params({ method: 'blacken' }));
  assert.deepEqual(pixel(seg.image, 100, 100), [0, 0, 0]);
  assert.deepEqual(pixel(seg.image, 55, 55), [255, 255, 255], 'outside the mask stays');
  const box = await anonymise(img, [person], params({ method: 'blacken', bbox: true }));
  assert.deepEqual(pixel(box.image, 55, 55), [0, 0, 0]);
  assert.ok(mask.data === data && data[0] === 0, 'the detector mask is not modified');
});

test('gradient: monotone ramp from no effect at the outer box to full effect at the inner box', async () => {
  const img = solidImage(400, 140, 255);
  // The plate box is padded by 0.1 × its height (4 px) on each side before the gradient applies.
  const plate = det('license-plate', { x0: 150, y0: 50, x1: 250, y1: 90 });
  const rowOf = (image: typeof img) => Array.from({ length: 400 }, (_, x) => pixel(image, x, 70)[0]);
  const ramp = rowOf((await anonymise(img, [plate], params({ method: 'blacken' }))).image);
  // base box x 146..254 (w 108), start 0.3 → outer x 113.6..286.4
  for (let x = 0; x <= 113; x++) assert.equal(ramp[x], 255, `x=${x} is outside the outer box`);
  for (let x = 146; x < 254; x++) assert.equal(ramp[x], 0, `x=${x} is inside the box`);
  for (let x = 113; x < 146; x++) assert.ok(ramp[x + 1] <= ramp[x], `ramp rises at x=${x}`);
  const partial = ramp.slice(114, 146).filter((v) => v > 0 && v < 255);
  assert.ok(partial.length > 25, 'a soft ramp, not a hard edge');

  const wider = rowOf((await anonymise(img, [plate], params({ method: 'blacken', gradient: { face: { start: 0.3, stop: 0 }, 'license-plate': { start: 0.6, stop: 0 } } }))).image);
  assert.ok(wider[100] < 255 && ramp[100] === 255, 'a larger start reaches further out');
  const shrunk = rowOf((await anonymise(img, [plate], params({ method: 'blacken', gradient: { face: { start: 0.3, stop: 0 }, 'license-plate': { start: 0.3, stop: -0.2 } } }))).image);
  assert.ok(shrunk[150] > 0 && shrunk[200] === 0, 'a negative stop shrinks the full-effect box');
});

test('ignores: pixels inside stay bit-exact; a detection mostly inside is not anonymised at all', async () => {
  const img = texturedImage(320, 240);
  const ignore = { topLeftX: 130, topLeftY: 0, width: 100, height: 240 };
  const other = det('face', { x0: 250, y0: 20, x1: 290, y1: 70 });
  const inside = det('face', { x0: 140, y0: 20, x1: 180, y1: 60 });
  const { image, anonymised } = await anonymise(img, [face, inside, other], params({ ignores: [ignore] }));
  assert.deepEqual(anonymised, [true, false, true]);
  const d = diffCounts(img, image, (x) => x >= 130 && x < 230);
  assert.equal(d.inside, 0, 'no pixel in the ignore region changed');
  assert.ok(meanAbsDiff(img, image, { x0: 100, y0: 80, x1: 130, y1: 160 }) > 10, 'the part of the face outside is still blurred');
});

test('debug draws box outlines and labels; score adds the score text', async () => {
  const img = solidImage(320, 240, 128);
  const plain = await anonymise(img, [face], params({ method: 'detect', debug: true }));
  assert.deepEqual(pixel(plain.image, 100, 120), [255, 0, 255], 'face outline in magenta on the left edge');
  assert.deepEqual(pixel(plain.image, 130, 120), [128, 128, 128], 'inside untouched with detect');
  const withScore = await anonymise(img, [face], params({ method: 'detect', debug: true, score: true }));
  const labelArea = { x0: 95, y0: 40, x1: 319, y1: 79 };
  const d = diffCounts(plain.image, withScore.image, inBox(labelArea));
  assert.ok(d.inside > 20, 'the score text adds pixels next to the label');
  assert.equal(d.outside, 0);
});

test('detections of classes not requested or outside the image are skipped', async () => {
  const img = texturedImage(100, 100);
  const out = det('face', { x0: 200, y0: 200, x1: 240, y1: 240 });
  const plate = det('license-plate', { x0: 10, y0: 10, x1: 50, y1: 30 });
  const { image, anonymised } = await anonymise(img, [out, plate], params({ classes: ['face'] }));
  assert.deepEqual(anonymised, [false, false]);
  assert.ok(image.data.equals(img.data));
});
