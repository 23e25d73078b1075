import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clipBox, iou, nms, overlapOfSmaller, weightedNms } from '../../src/detect/boxes.ts';

test('iou of identical, disjoint and half-overlapping boxes', () => {
  const a = { x0: 0, y0: 0, x1: 10, y1: 10 };
  assert.equal(iou(a, a), 1);
  assert.equal(iou(a, { x0: 20, y0: 20, x1: 30, y1: 30 }), 0);
  assert.equal(iou(a, { x0: 5, y0: 0, x1: 15, y1: 10 }), 50 / 150);
  assert.equal(overlapOfSmaller(a, { x0: 2, y0: 2, x1: 4, y1: 4 }), 1);
});

test('nms keeps the best of an overlapping pair and every separate box', () => {
  const kept = nms(
    [
      { x0: 0, y0: 0, x1: 10, y1: 10, score: 0.6 },
      { x0: 1, y0: 1, x1: 11, y1: 11, score: 0.9 },
      { x0: 50, y0: 50, x1: 60, y1: 60, score: 0.3 },
    ],
    0.5,
  );
  assert.deepEqual(kept.map((k) => k.score), [0.9, 0.3]);
});

test('weighted nms averages a group by score and keeps the best score', () => {
  const [merged, other] = weightedNms(
    [
      { x0: 0, y0: 0, x1: 10, y1: 10, score: 0.75 },
      { x0: 2, y0: 0, x1: 12, y1: 10, score: 0.25 },
      { x0: 100, y0: 0, x1: 110, y1: 10, score: 0.5 },
    ],
    0.3,
  );
  assert.equal(merged!.score, 0.75);
  assert.equal(merged!.x0, 0.5);
  assert.equal(merged!.x1, 10.5);
  assert.equal(other!.x0, 100);
});

test('clipBox keeps boxes inside the image', () => {
  assert.deepEqual(clipBox({ x0: -5, y0: 3, x1: 120, y1: 90 }, 100, 80), { x0: 0, y0: 3, x1: 100, y1: 80 });
});
