import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPlateShaped, mergePlateParts, plateFrame } from '../../src/detect/ppocr-plate/plate-shape.ts';

test('character groups on one line join into one plate; a distant word does not', () => {
  const merged = mergePlateParts([
    { x0: 100, y0: 50, x1: 140, y1: 70, score: 0.9 }, // "AB"
    { x0: 150, y0: 51, x1: 230, y1: 71, score: 0.8 }, // "123 CD", gap 10 px < height
    { x0: 400, y0: 50, x1: 480, y1: 70, score: 0.95 }, // other text far away
  ]);
  assert.equal(merged.length, 2);
  const plate = merged.find((m) => m.x0 === 100)!;
  assert.deepEqual([plate.x0, plate.y0, plate.x1, plate.y1, plate.score], [100, 50, 230, 71, 0.9]);
});

test('two stacked lines of similar width join (two-line plates)', () => {
  const merged = mergePlateParts([
    { x0: 100, y0: 100, x1: 160, y1: 120, score: 0.9 },
    { x0: 102, y0: 123, x1: 158, y1: 143, score: 0.9 },
  ]);
  assert.equal(merged.length, 1);
});

test('shape filter: plate-like lines pass, tall, square, long, tiny and huge boxes do not', () => {
  const W = 1000;
  const H = 800;
  assert.equal(isPlateShaped({ x0: 0, y0: 0, x1: 120, y1: 30 }, W, H), true); // 4:1
  assert.equal(isPlateShaped({ x0: 0, y0: 0, x1: 30, y1: 60 }, W, H), false); // tall
  assert.equal(isPlateShaped({ x0: 0, y0: 0, x1: 40, y1: 40 }, W, H), false); // square
  assert.equal(isPlateShaped({ x0: 0, y0: 0, x1: 400, y1: 30 }, W, H), false); // a long line of text
  assert.equal(isPlateShaped({ x0: 0, y0: 0, x1: 16, y1: 4 }, W, H), false); // unreadably small
  assert.equal(isPlateShaped({ x0: 0, y0: 0, x1: 900, y1: 300 }, W, H), false); // a third of the image
});

test('the plate frame adds the border around the characters', () => {
  const f = plateFrame({ x0: 100, y0: 50, x1: 200, y1: 70 });
  assert.ok(f.x0 < 100 && f.x1 > 200 && f.y0 < 50 && f.y1 > 70);
  assert.ok(f.y1 - f.y0 >= 1.8 * 20);
});

test('one plate per vehicle: the largest text wins over smaller badges; text off vehicles only counts without vehicles', async () => {
  const { onePlatePerVehicle } = await import('../../src/detect/ppocr-plate/plate.ts');
  const car = { x0: 0, y0: 0, x1: 400, y1: 300 };
  const plate = { x0: 150, y0: 220, x1: 250, y1: 250 }; // 100×30
  const badge = { x0: 40, y0: 150, x1: 100, y1: 165 }; // 60×15, under 0.4 of the plate's area
  const nearlyAsLarge = { x0: 280, y0: 150, x1: 370, y1: 175 }; // 90×25: kept as runner-up
  const sign = { x0: 500, y0: 20, x1: 600, y1: 50 }; // on no vehicle
  assert.deepEqual(onePlatePerVehicle([badge, plate, sign], [car]), [plate]);
  assert.deepEqual(onePlatePerVehicle([badge, plate, nearlyAsLarge], [car]), [plate, nearlyAsLarge]);
  assert.deepEqual(onePlatePerVehicle([badge, sign], []), [badge, sign]);
  // Overlapping parked cars: each keeps its own plate.
  const car2 = { x0: 300, y0: 0, x1: 700, y1: 300 };
  const plate2 = { x0: 450, y0: 220, x1: 550, y1: 250 };
  assert.deepEqual(onePlatePerVehicle([plate, plate2], [car, car2]), [plate, plate2]);
});
