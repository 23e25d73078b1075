// The frames held between two detected frames (detection stride): their boxes come from both ends.
// Synthetic frames: a textured square on a noisy background, accelerating and growing, so that
// neither constant-velocity extrapolation nor a fixed-size template alone would follow it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StrideScheduler, type HeldFrame, type Keyframe } from '../../src/pipeline/video/stride.ts';
import type { Box, Detection, RgbImage } from '../../src/types.ts';

const W = 640;
const H = 360;

/** Deterministic pseudo-random bytes (xorshift), so the frames are the same on every run. */
function noise(seed: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = s & 0xff;
  }
  return out;
}

const background = noise(7, W * H);
const texture = noise(99, 64 * 64);

/** The background (dim, fixed) with the square's texture scaled into `box` (bright). */
function frame(box: Box): RgbImage {
  const data = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let v = 40 + (background[y * W + x]! >> 3);
      if (x >= box.x0 && x < box.x1 && y >= box.y0 && y < box.y1) {
        const tx = Math.floor(((x - box.x0) / (box.x1 - box.x0)) * 8);
        const ty = Math.floor(((y - box.y0) / (box.y1 - box.y0)) * 8);
        v = 120 + (texture[ty * 8 + tx]! >> 1);
      }
      const o = (y * W + x) * 3;
      data[o] = data[o + 1] = data[o + 2] = v;
    }
  }
  return { data, width: W, height: H };
}

/** Frame i: x accelerates (2 px, then up to 26 px per frame), the side grows from 60 to 92 px. */
function truth(i: number): Box {
  const side = 60 + 4 * i;
  const x = 100 + 2 * i + 1.5 * i * i;
  return { x0: Math.round(x), y0: 120, x1: Math.round(x + side), y1: 120 + side };
}

const contains = (outer: Box, inner: Box, slack: number) =>
  outer.x0 <= inner.x0 + slack && outer.y0 <= inner.y0 + slack && outer.x1 >= inner.x1 - slack && outer.y1 >= inner.y1 - slack;
const area = (b: Box) => (b.x1 - b.x0) * (b.y1 - b.y0);

test('boxes between two detections follow an accelerating, growing object and end on the later detection', () => {
  const N = 8;
  const stride = new StrideScheduler({ detectEvery: N });
  const det = (i: number): Detection => ({ cls: 'face', score: 0.9, box: truth(i) });

  assert.equal(stride.plan(frame(truth(0))), 'first');
  stride.detected([det(0)]);
  const start: Keyframe = { index: 0, detections: [det(0)], thumb: stride.thumb };
  const held: HeldFrame[] = [];
  for (let i = 1; i < N; i++) {
    assert.equal(stride.plan(frame(truth(i))), 'carry', `frame ${i}`);
    held.push({ index: i, thumb: stride.thumb, forward: stride.forward() });
  }
  assert.equal(stride.plan(frame(truth(N))), 'stride');
  const end: Keyframe = { index: N, detections: [det(N)], thumb: stride.thumb };
  const boxes = stride.fill(start, held, end, stride.forward());

  assert.equal(boxes.length, N - 1);
  boxes.forEach((list, k) => {
    const i = k + 1;
    assert.equal(list.length, 1, `frame ${i}: one box`);
    const estimate = list[0]!.box;
    const shown = list[0]!.shown ?? estimate;
    // The estimate is on the object within 3 thumbnail pixels a side (the template search's resolution is
    // one), and the box anonymised (the estimate grown by its uncertainty) covers it.
    const off = Math.max(...(['x0', 'y0', 'x1', 'y1'] as const).map((k) => Math.abs(estimate[k] - truth(i)[k])));
    assert.ok(off <= 3, `frame ${i}: estimate ${JSON.stringify(estimate)} is ${off} px off ${JSON.stringify(truth(i))}`);
    assert.ok(contains(shown, truth(i), 0), `frame ${i}: ${JSON.stringify(shown)} does not cover ${JSON.stringify(truth(i))}`);
    assert.ok(area(shown) < 2 * area(truth(i)), `frame ${i}: box ${area(shown)} px² for an object of ${area(truth(i))}`);
  });
});

test('an object only in the later detected frame is followed backwards through the held frames', () => {
  const N = 6;
  const stride = new StrideScheduler({ detectEvery: N });
  stride.plan(frame({ x0: -100, y0: 0, x1: -50, y1: 50 })); // nothing: the object is off-frame
  stride.detected([]);
  const start: Keyframe = { index: 0, detections: [], thumb: stride.thumb };
  const held: HeldFrame[] = [];
  const at = (i: number): Box => ({ x0: 300 - 6 * i, y0: 150, x1: 370 - 6 * i, y1: 220 });
  // It appears at frame 2 (the cut test is not triggered by a 70 px square) and moves left.
  for (let i = 1; i < N; i++) {
    stride.plan(frame(i >= 2 ? at(i) : { x0: -100, y0: 0, x1: -50, y1: 50 }));
    held.push({ index: i, thumb: stride.thumb, forward: stride.forward() });
  }
  stride.plan(frame(at(N)));
  const end: Keyframe = { index: N, detections: [{ cls: 'face', score: 0.9, box: at(N) }], thumb: stride.thumb };
  const boxes = stride.fill(start, held, end, stride.forward());
  for (let i = 2; i < N; i++) {
    const got = boxes[i - 1]![0]?.shown ?? boxes[i - 1]![0]?.box;
    assert.ok(got && contains(got, at(i), 1), `frame ${i}: ${JSON.stringify(got)} does not cover ${JSON.stringify(at(i))}`);
  }
  assert.equal(boxes[0]!.length, 0, 'not placed on the frame before it appeared (its patch is not there)');
});
