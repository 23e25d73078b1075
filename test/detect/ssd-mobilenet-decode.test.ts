import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSsdMobilenet } from '../../src/detect/ssd-mobilenet/ssd-mobilenet-decode.ts';

// Two anchors (ymin, xmin, ymax, xmax): a 0.2-sized one centred at (0.5, 0.5) and one at the corner.
const anchors = Float32Array.from([0.4, 0.4, 0.6, 0.6, 0, 0, 0.1, 0.1]);

test('centre-size decoding: offsets scale by 1/10 of the anchor, sizes by exp(t/5)', () => {
  // ty = 1 moves the centre down by 0.1·ha; tw = 5·ln 2 doubles the width.
  const encodings = Float32Array.from([1, 0, 0, 5 * Math.LN2, 0, 0, 0, 0]);
  const logits = Float32Array.from([0, 2, 0, 0, -5, 0]);
  const boxes = decodeSsdMobilenet(encodings, logits, anchors, 100, 0.5);
  assert.equal(boxes.length, 1, 'the anchor with a face logit of -5 (p 0.007) is skipped');
  const b = boxes[0]!;
  assert.ok(Math.abs(b.score - 1 / (1 + Math.exp(-2))) < 1e-6);
  const expected = { x0: 30, x1: 70, y0: 42, y1: 62 };
  for (const k of ['x0', 'x1', 'y0', 'y1'] as const) assert.ok(Math.abs(b[k] - expected[k]) < 1e-4, `${k} ${b[k]}`);
});

test('mismatched tensor sizes are rejected', () => {
  assert.throws(() => decodeSsdMobilenet(new Float32Array(4), new Float32Array(6), anchors, 100, 0.5), RangeError);
});
