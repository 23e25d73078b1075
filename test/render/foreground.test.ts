// Background replacement's pixel side: the box-seeded vehicle mask, the subject choice, the composite and
// the shadow, on synthetic images whose true foreground is known; and the eval-masks metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { composite, contactShadow, foregroundMask, mergeVehicleBoxes, refineBoxMask, selectForeground } from '../../src/render/foreground.ts';
import { boundaryF, maskIou } from '../../src/eval/masks.ts';
import type { Detection, RgbImage } from '../../src/types.ts';

/** A dark-red rounded "car" (ellipse) on a light grey, textured floor; returns the image and its true mask. */
function scene(w: number, h: number) {
  const data = Buffer.alloc(w * h * 3);
  const truth = new Uint8Array(w * h);
  const cx = w / 2, cy = h / 2, rx = w * 0.3, ry = h * 0.2;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const inside = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1;
      truth[i] = inside ? 1 : 0;
      const noise = ((x * 7 + y * 13) % 11) - 5;
      const c = inside ? [150 + noise, 20, 30] : [200 + noise, 200 + noise, 195 + noise];
      data.set(c, i * 3);
    }
  return { image: { data, width: w, height: h } as RgbImage, truth, box: { x0: cx - rx - 15, y0: cy - ry - 10, x1: cx + rx + 15, y1: cy + ry + 12 } };
}

test('a loose vehicle box is refined to the object: IoU far above the box itself', async () => {
  const { image, truth, box } = scene(640, 400);
  const vehicle: Detection = { cls: 'vehicle', score: 0.8, box };
  const alpha = await foregroundMask(image, [vehicle]);
  const p = Uint8Array.from(alpha, (v) => (v >= 128 ? 1 : 0));
  const boxOnly = new Uint8Array(truth.length);
  for (let y = Math.ceil(box.y0); y < box.y1; y++) for (let x = Math.ceil(box.x0); x < box.x1; x++) boxOnly[y * 640 + x] = 1;
  const iou = maskIou(p, truth);
  assert.ok(iou > 0.95, `refined IoU ${iou}`);
  assert.ok(maskIou(boxOnly, truth) < 0.8, 'the box alone is much worse');
  assert.ok(boundaryF(p, truth, 640, 400) > 0.9);
  // The mask is soft at its edge.
  assert.ok(alpha.some((v) => v > 20 && v < 235));
  const region = await refineBoxMask(image, box);
  assert.ok(region.x <= box.x0 && region.x + region.width >= box.x1);
});

test('the subject: the largest object decides; split boxes of one car are merged; people with the car stay', () => {
  const car1: Detection = { cls: 'vehicle', score: 0.7, box: { x0: 100, y0: 200, x1: 300, y1: 400 } };
  const car2: Detection = { cls: 'vehicle', score: 0.6, box: { x0: 500, y0: 210, x1: 700, y1: 400 } };
  const salesman: Detection = { cls: 'person', score: 0.8, box: { x0: 250, y0: 150, x1: 330, y1: 400 } };
  const farAway: Detection = { cls: 'person', score: 0.8, box: { x0: 900, y0: 10, x1: 920, y1: 50 } };
  const chosen = selectForeground([car1, car2, salesman, farAway], 1000, 500);
  assert.deepEqual(new Set(chosen), new Set([car1, car2, salesman]));
  const merged = mergeVehicleBoxes(chosen).filter((d) => d.cls === 'vehicle');
  assert.equal(merged.length, 1);
  assert.deepEqual(merged[0]!.box, { x0: 100, y0: 200, x1: 700, y1: 400 });
  const portrait: Detection = { cls: 'person', score: 0.9, box: { x0: 300, y0: 50, x1: 700, y1: 500 } };
  const parkedCar: Detection = { cls: 'vehicle', score: 0.9, box: { x0: 0, y0: 300, x1: 200, y1: 400 } };
  assert.deepEqual(selectForeground([portrait, parkedCar], 1000, 500), [portrait]);
});

test('composite: foreground kept, background elsewhere, overlay on top by its alpha, shadow only on the background', () => {
  const w = 4, h = 1;
  const original: RgbImage = { data: Buffer.from([10, 10, 10, 20, 20, 20, 30, 30, 30, 40, 40, 40]), width: w, height: h };
  const background = Buffer.from([200, 0, 0, 200, 0, 0, 200, 0, 0, 200, 0, 0]);
  const alpha = Uint8Array.from([255, 0, 128, 0]);
  const overlay = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 0, 255]);
  const out = composite(original, background, alpha, overlay, null);
  assert.deepEqual([...out], [10, 10, 10, 200, 0, 0, 115, 15, 15, 0, 255, 0]);
  const shade = new Float32Array([0.5, 0.5, 0, 0]);
  const shaded = composite(original, background, alpha, null, shade);
  assert.deepEqual([...shaded.subarray(0, 6)], [10, 10, 10, 100, 0, 0]);
  const s = contactShadow(200, 100, [{ x0: 50, y0: 20, x1: 150, y1: 80 }]);
  assert.ok(s[78 * 200 + 100]! > 0.4, 'dark under the middle of the car');
  assert.equal(s[5 * 200 + 5], 0, 'nothing far from it');
});

test('eval-masks metrics: IoU and boundary F at 3 px', () => {
  const w = 50, h = 50;
  const square = (x0: number, y0: number, size: number) => {
    const m = new Uint8Array(w * h);
    for (let y = y0; y < y0 + size; y++) for (let x = x0; x < x0 + size; x++) m[y * w + x] = 1;
    return m;
  };
  const g = square(10, 10, 20);
  assert.equal(maskIou(g, g), 1);
  assert.equal(boundaryF(g, g, w, h), 1);
  assert.equal(boundaryF(square(12, 12, 20), g, w, h), 1, 'within 3 px');
  assert.ok(boundaryF(square(16, 16, 20), g, w, h) < 0.5, '6 px off');
  assert.ok(Math.abs(maskIou(square(20, 10, 20), g) - 200 / 600) < 1e-9);
  // The image frame is not a boundary: a mask cut by the border is not penalised there.
  const full = new Uint8Array(w * h).fill(1);
  assert.equal(boundaryF(full, full, w, h), 0);
});
