import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeNanoDetLevel, integralDistance } from '../../src/detect/nanodet/nanodet-decode.ts';
import { mergeSameObject } from '../../src/detect/nanodet/objects.ts';

/** Logits that put (nearly) all probability on one bin. */
function peaked(bin: number): number[] {
  return Array.from({ length: 11 }, (_, j) => (j === bin ? 50 : 0));
}

test('integral distance is the softmax expectation over the 11 bins', () => {
  assert.ok(Math.abs(integralDistance(new Float32Array(peaked(3)), 0) - 3) < 1e-6);
  // Two equal bins: the expectation lies halfway.
  const two = Array.from({ length: 11 }, (_, j) => (j === 2 || j === 4 ? 10 : -30));
  assert.ok(Math.abs(integralDistance(new Float32Array(two), 0) - 3) < 1e-6);
});

test('a level decodes boxes around the cell centre, scaled by the stride, for wanted classes only', () => {
  const classes = 80;
  const gridWidth = 4;
  const cells = 16;
  const scores = new Float32Array(cells * classes);
  const distances = new Float32Array(cells * 44);
  // Cell 6 = row 1, col 2 → centre (2.5·8, 1.5·8) = (20, 12) at stride 8.
  scores[6 * classes + 2] = 0.8; // car
  scores[6 * classes + 1] = 0.9; // bicycle: not wanted
  scores[9 * classes + 0] = 0.1; // person below the floor
  distances.set([...peaked(1), ...peaked(2), ...peaked(3), ...peaked(4)], 6 * 44);
  const boxes = decodeNanoDetLevel(scores, distances, classes, gridWidth, 8, new Set([0, 2]), 0.3);
  assert.equal(boxes.length, 1);
  const b = boxes[0]!;
  assert.equal(b.cocoClass, 2);
  assert.ok(Math.abs(b.score - 0.8) < 1e-6);
  for (const [got, want] of [[b.x0, 20 - 8], [b.y0, 12 - 16], [b.x1, 20 + 24], [b.y1, 12 + 32]] as const) {
    assert.ok(Math.abs(got - want) < 1e-4, `${got} vs ${want}`);
  }
});

test('tile merge keeps the best score and grows to cover the whole object', () => {
  const merged = mergeSameObject([
    { x0: 0, y0: 0, x1: 100, y1: 200, score: 0.5 }, // whole person, whole-image pass
    { x0: 0, y0: 0, x1: 95, y1: 110, score: 0.7 }, // upper body from a tile, higher score
    { x0: 300, y0: 0, x1: 350, y1: 100, score: 0.6 },
  ]);
  assert.equal(merged.length, 2);
  assert.deepEqual(merged[0], { x0: 0, y0: 0, x1: 100, y1: 200, score: 0.7 });
});
