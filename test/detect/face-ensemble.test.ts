import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuseFaces } from '../../src/detect/face-ensemble.ts';
import type { Detection } from '../../src/types.ts';

const face = (x0: number, score: number): Detection => ({ cls: 'face', score, box: { x0, y0: 0, x1: x0 + 20, y1: 24 } });

test('a face seen by both models scores the mean; one seen by one model scores half', () => {
  const fused = fuseFaces([
    [face(0, 0.8), face(100, 0.9)],
    [face(2, 0.6), face(300, 0.5)],
  ]);
  assert.equal(fused.length, 3);
  const both = fused.find((f) => f.box.x0 === 0)!;
  assert.ok(Math.abs(both.score - 0.7) < 1e-9);
  assert.ok(Math.abs(fused.find((f) => f.box.x0 === 100)!.score - 0.45) < 1e-9);
  assert.ok(Math.abs(fused.find((f) => f.box.x0 === 300)!.score - 0.25) < 1e-9);
});

test('the box of the more confident model is kept', () => {
  const [f] = fuseFaces([[face(0, 0.5)], [face(3, 0.9)]]);
  assert.equal(f!.box.x0, 3);
});

test('a member can weight the faces it alone sees; faces both models see still score the mean', () => {
  const fused = fuseFaces(
    [
      [face(0, 0.8), face(100, 0.5)],
      [face(2, 0.6), face(300, 0.5)],
    ],
    [0.5, 0.6],
  );
  assert.ok(Math.abs(fused.find((f) => f.box.x0 === 0)!.score - 0.7) < 1e-9);
  assert.ok(Math.abs(fused.find((f) => f.box.x0 === 100)!.score - 0.25) < 1e-9);
  assert.ok(Math.abs(fused.find((f) => f.box.x0 === 300)!.score - 0.3) < 1e-9);
});
