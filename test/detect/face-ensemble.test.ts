import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuseFaces, groupFaces, unpadFaceBox, voteScore } from '../../src/detect/face-ensemble/face-ensemble.ts';
import { DEFAULT_FACE_OPTIONS } from '../../src/detect/mediapipe-face/face.ts';
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

test("MTCNN's vote is the higher of its cascade score and its O-Net probability; a face's score is the mean of the three votes", () => {
  // Seen by full range and the SSD, not by the cascade: O-Net's probability is the third vote.
  assert.ok(Math.abs(voteScore([0.6, 0.9], 2, 0.3) - 0.6) < 1e-9);
  // Seen by the cascade too: the higher of its score and the probability counts, once.
  assert.ok(Math.abs(voteScore([0.6, 0, 0.9], 2, 0.5) - 0.5) < 1e-9);
  assert.ok(Math.abs(voteScore([0, 0, 0.4], 2, 0.99) - 0.33) < 1e-9);
});

test('groupFaces gives one entry per face with each model\'s score, 0 where a model saw nothing', () => {
  const groups = groupFaces([[face(0, 0.8)], [face(2, 0.6), face(300, 0.5)], [face(301, 0.9)]]);
  assert.deepEqual(groups.map((g) => g.scores), [[0.8, 0.6, 0], [0, 0.5, 0.9]]);
});

test('unpadFaceBox undoes the face models\' head padding', () => {
  const raw = { x0: 100, y0: 50, x1: 140, y1: 100 };
  const { padX, padTop, padBottom } = DEFAULT_FACE_OPTIONS;
  const w = raw.x1 - raw.x0;
  const h = raw.y1 - raw.y0;
  const padded = { x0: raw.x0 - w * padX, x1: raw.x1 + w * padX, y0: raw.y0 - h * padTop, y1: raw.y1 + h * padBottom };
  const back = unpadFaceBox(padded);
  for (const k of ['x0', 'y0', 'x1', 'y1'] as const) assert.ok(Math.abs(back[k] - raw[k]) < 1e-9, `${k}: ${back[k]}`);
});
