import { test } from 'node:test';
import assert from 'node:assert/strict';
import { textBoxesFromMap } from '../../src/detect/ppocr-plate/text-map.ts';

function paint(map: Float32Array, width: number, x0: number, y0: number, x1: number, y1: number, p: number): void {
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) map[y * width + x] = p;
}

test('text regions become boxes grown by the DB unclip distance; weak regions are dropped', () => {
  const width = 100;
  const height = 60;
  const map = new Float32Array(width * height);
  paint(map, width, 10, 10, 50, 20, 0.9); // 40×10 core
  paint(map, width, 60, 40, 90, 50, 0.4); // above the binary threshold but below the box threshold
  const boxes = textBoxesFromMap(map, width, height);
  assert.equal(boxes.length, 1);
  const d = (40 * 10 * 1.5) / (2 * 50); // 6 px
  const b = boxes[0]!;
  assert.deepEqual([b.x0, b.y0, b.x1, b.y1], [10 - d, 10 - d, 50 + d, 20 + d]);
  assert.ok(Math.abs(b.score - 0.9) < 1e-6);
});

test('separate regions stay separate (4-connectivity)', () => {
  const width = 40;
  const map = new Float32Array(width * 20);
  paint(map, width, 2, 2, 10, 8, 0.95);
  paint(map, width, 10, 8, 18, 14, 0.95); // touches only diagonally
  assert.equal(textBoxesFromMap(map, width, 20).length, 2);
});
