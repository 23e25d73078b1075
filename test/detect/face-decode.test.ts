import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSsdFaces, logit, sigmoid } from '../../src/detect/mediapipe-face/face-decode.ts';
import { FACE_MODELS } from '../../src/detect/mediapipe-face/face.ts';
import { ssdAnchorCentres } from '../../src/detect/mediapipe-face/ssd-anchors.ts';

test('anchor layouts match the model outputs: 896 for BlazeFace back-256, 2304 for full range', () => {
  const back = ssdAnchorCentres(256, FACE_MODELS['back-256'].layers);
  assert.equal(back.length / 2, 512 + 384);
  // First stride-16 cell holds two anchors at its centre (8 px = 0.5/16 of the input).
  assert.deepEqual([...back.slice(0, 4)], [0.5 / 16, 0.5 / 16, 0.5 / 16, 0.5 / 16]);
  // First stride-32 anchor comes right after the 512 stride-16 ones.
  assert.deepEqual([...back.slice(1024, 1026)], [0.5 / 8, 0.5 / 8]);
  const full = ssdAnchorCentres(192, FACE_MODELS['full-range'].layers);
  assert.equal(full.length / 2, 48 * 48);
  // Row-major: anchor 49 is the second cell of the second row.
  assert.deepEqual([...full.slice(98, 100)], [1.5 / 48, 1.5 / 48]);
});

test('decoding offsets each box from its anchor centre in input pixels and drops low scores', () => {
  const anchors = new Float32Array([0.25, 0.25, 0.75, 0.5]);
  const scores = new Float32Array([logit(0.9), logit(0.1)]);
  const regressors = new Float32Array(32);
  regressors.set([4, -2, 20, 30], 0);
  regressors.set([0, 0, 10, 10], 16);
  const boxes = decodeSsdFaces(scores, regressors, anchors, 128, 0.5);
  assert.equal(boxes.length, 1);
  const b = boxes[0]!;
  // Centre (32 + 4, 32 - 2), size 20×30.
  assert.ok(Math.abs(b.x0 - 26) < 1e-4 && Math.abs(b.x1 - 46) < 1e-4);
  assert.ok(Math.abs(b.y0 - 15) < 1e-4 && Math.abs(b.y1 - 45) < 1e-4);
  assert.ok(Math.abs(b.score - 0.9) < 1e-6);
});

test('sigmoid clips extreme logits like MediaPipe', () => {
  assert.equal(sigmoid(1000), sigmoid(100));
  assert.equal(sigmoid(0), 0.5);
});
