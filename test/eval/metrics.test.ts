import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  countFalsePositives,
  countMatchesAtIou,
  coveredFraction,
  coveredTruth,
  scoreImageLabel,
  withoutIgnored,
} from '../../src/eval/metrics.ts';

const box = (x0: number, y0: number, x1: number, y1: number, score = 1) => ({ x0, y0, x1, y1, score });

test('covered fraction uses the union of the covering boxes, counting overlaps once', () => {
  const target = box(0, 0, 10, 10);
  assert.equal(coveredFraction(target, [box(0, 0, 5, 10), box(5, 0, 10, 10)]), 1);
  assert.equal(coveredFraction(target, [box(0, 0, 6, 10), box(4, 0, 8, 10)]), 0.8);
  assert.equal(coveredFraction(target, [box(-5, -5, 5, 5)]), 0.25);
  assert.equal(coveredFraction(target, []), 0);
});

test('coverage recall: 70 % of a box must be covered, by one box or several', () => {
  const truth = [box(0, 0, 10, 10), box(20, 0, 30, 10), box(40, 0, 50, 10)];
  const dets = [box(0, 0, 7, 10), box(20, 0, 26, 10), box(40, 0, 44, 10), box(44, 0, 48, 10)];
  assert.deepEqual(coveredTruth(truth, dets), [true, false, true]);
});

test('recall@0.5 matches one-to-one, best score first', () => {
  const truth = [box(0, 0, 10, 10)];
  // Two good detections of one object: only one can match.
  assert.equal(countMatchesAtIou(truth, [box(0, 0, 10, 10, 0.9), box(1, 0, 11, 10, 0.8)]), 1);
  // IoU 1/3 is not a match.
  assert.equal(countMatchesAtIou(truth, [box(5, 0, 15, 10)]), 0);
  // The higher score takes the box it overlaps best; the second detection takes the remaining one.
  const two = [box(0, 0, 10, 10), box(8, 0, 18, 10)];
  assert.equal(countMatchesAtIou(two, [box(4, 0, 14, 10, 0.5), box(0, 0, 10, 10, 0.9), box(8, 0, 18, 10, 0.7)]), 2);
});

test('a false positive has under 30 % of its area on ground truth of its label', () => {
  const truth = [box(0, 0, 10, 10)];
  assert.equal(countFalsePositives(truth, [box(0, 0, 20, 10)]), 0); // 50 % on truth
  assert.equal(countFalsePositives(truth, [box(0, 0, 40, 10)]), 1); // 25 %
  assert.equal(countFalsePositives(truth, [box(100, 100, 110, 110)]), 1);
});

test('boxes mostly inside an ignore region drop out of both sides', () => {
  const ignore = [box(100, 100, 200, 200)];
  assert.deepEqual(withoutIgnored([box(110, 110, 150, 150), box(80, 80, 120, 120)], ignore), [box(80, 80, 120, 120)]);
  const t = scoreImageLabel([box(0, 0, 10, 10), box(120, 120, 140, 140)], [box(0, 0, 10, 10), box(150, 150, 170, 170)], ignore);
  assert.deepEqual(t, { truth: 1, matchedAtIou: 1, covered: 1, smallTruth: 1, smallCovered: 1, detections: 1, falsePositives: 0 });
});

test('small boxes are those under 20 px high', () => {
  const t = scoreImageLabel([box(0, 0, 10, 19), box(50, 0, 60, 20)], [box(0, 0, 10, 19)], []);
  assert.equal(t.smallTruth, 1);
  assert.equal(t.smallCovered, 1);
  assert.equal(t.covered, 1);
});
