import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LookaheadTracker, iou, type TrackedFrame } from '../../src/pipeline/video/tracker.ts';
import type { Box, Detection, ObjectClass } from '../../src/types.ts';

const box = (x: number, y: number, size = 40): Box => ({ x0: x, y0: y, x1: x + size, y1: y + size });
const det = (b: Box, cls: ObjectClass = 'face', score = 0.9): Detection => ({ cls, score, box: b });

/** Runs a whole sequence through the tracker and returns every frame in order. */
function run(sequence: Detection[][], options = {}): TrackedFrame<number>[] {
  const tracker = new LookaheadTracker<number>({ growthPerFrame: 0, ...options });
  const out: TrackedFrame<number>[] = [];
  sequence.forEach((dets, i) => out.push(...tracker.push(i, dets)));
  out.push(...tracker.flush());
  return out;
}

test('every frame comes out once, in order, with its payload, and no more than lookahead+1 are held', () => {
  const tracker = new LookaheadTracker<number>({ lookahead: 5, preRoll: 5 });
  const seen: number[] = [];
  for (let i = 0; i < 40; i++) {
    for (const f of tracker.push(i, [det(box(10 + i, 10))])) {
      assert.equal(f.payload, f.index);
      seen.push(f.index);
    }
    assert.ok(tracker.pending <= 6, `held ${tracker.pending} frames`);
  }
  seen.push(...tracker.flush().map((f) => f.index));
  assert.deepEqual(seen, Array.from({ length: 40 }, (_, i) => i));
});

test('a moving object keeps one track id across frames; two objects get two ids', () => {
  const frames = run(Array.from({ length: 20 }, (_, i) => [det(box(10 + 5 * i, 10)), det(box(300 - 5 * i, 200))]));
  const idsA = new Set(frames.map((f) => f.detections.find((d) => d.box.y0 === 10)!.trackId));
  const idsB = new Set(frames.map((f) => f.detections.find((d) => d.box.y0 === 200)!.trackId));
  assert.equal(idsA.size, 1);
  assert.equal(idsB.size, 1);
  assert.notEqual([...idsA][0], [...idsB][0]);
  assert.ok(frames.every((f) => f.detections.length === 2 && f.detections.every((d) => d.source === 'detected')));
});

test('frames where the detector misses an object get an interpolated box with the same track id', () => {
  const sequence = Array.from({ length: 15 }, (_, i) => (i === 6 || i === 7 ? [] : [det(box(10 + 6 * i, 50))]));
  const frames = run(sequence);
  const id = frames[0]!.detections[0]!.trackId;
  for (const missed of [6, 7]) {
    const [filled, ...rest] = frames[missed]!.detections;
    assert.equal(rest.length, 0);
    assert.equal(filled!.source, 'interpolated');
    assert.equal(filled!.trackId, id);
    // Constant motion: the interpolated box is where the object really was.
    assert.deepEqual(filled!.box, box(10 + 6 * missed, 50));
  }
});

test('a lost object is anonymised at its predicted position for maxCoast frames, then dropped', () => {
  const sequence = Array.from({ length: 20 }, (_, i) => (i <= 9 ? [det(box(20 + 4 * i, 30))] : []));
  const frames = run(sequence, { maxCoast: 4 });
  for (let i = 10; i <= 13; i++) {
    const [d] = frames[i]!.detections;
    assert.equal(d?.source, 'predicted', `frame ${i}`);
    assert.deepEqual(d!.box, box(20 + 4 * i, 30), `frame ${i} follows the velocity`);
  }
  for (let i = 14; i < 20; i++) assert.equal(frames[i]!.detections.length, 0, `frame ${i}`);
});

test('an object is anonymised preRoll frames before its first detection, moving backwards along its path', () => {
  const sequence = Array.from({ length: 20 }, (_, i) => (i >= 10 ? [det(box(100 + 3 * (i - 10), 60))] : []));
  const frames = run(sequence, { lookahead: 6, preRoll: 5 });
  const id = frames[10]!.detections[0]!.trackId;
  for (let i = 0; i <= 4; i++) assert.equal(frames[i]!.detections.length, 0, `frame ${i}`);
  for (let i = 5; i <= 9; i++) {
    const [d] = frames[i]!.detections;
    assert.equal(d?.source, 'backfilled', `frame ${i}`);
    assert.equal(d!.trackId, id);
    assert.deepEqual(d!.box, box(100 + 3 * (i - 10), 60));
  }
});

test('extrapolated boxes grow with distance so a fast object stays covered', () => {
  const sequence = Array.from({ length: 8 }, (_, i) => (i < 3 ? [det(box(100, 100))] : []));
  const frames = run(sequence, { maxCoast: 4, growthPerFrame: 0.1 });
  const widths = [3, 4, 5, 6].map((i) => frames[i]!.detections[0]!.box.x1 - frames[i]!.detections[0]!.box.x0);
  assert.deepEqual(widths, [44, 48, 52, 56]);
});

test('overlapping detections of different classes never share a track', () => {
  const frames = run(Array.from({ length: 5 }, () => [det(box(10, 10), 'face'), det(box(12, 12), 'license-plate')]));
  const ids = new Set(frames.flatMap((f) => f.detections.map((d) => `${d.cls}:${d.trackId}`)));
  assert.equal(ids.size, 2);
});

test('filled boxes are clipped to the frame and vanish once fully outside', () => {
  // Leaving through the right edge at 20 px per frame.
  const sequence = Array.from({ length: 12 }, (_, i) => (i <= 5 ? [det(box(60 + 20 * i, 10))] : []));
  const frames = run(sequence, { frameWidth: 200, frameHeight: 100, maxCoast: 6 });
  const predicted = frames[6]!.detections[0]!;
  assert.equal(predicted.box.x1, 200);
  assert.equal(predicted.box.x0, 180);
  assert.equal(frames[8]!.detections.length, 0);
});

test('iou', () => {
  assert.equal(iou(box(0, 0, 10), box(0, 0, 10)), 1);
  assert.equal(iou(box(0, 0, 10), box(10, 0, 10)), 0);
  assert.ok(Math.abs(iou(box(0, 0, 10), box(5, 0, 10)) - 1 / 3) < 1e-12);
});
