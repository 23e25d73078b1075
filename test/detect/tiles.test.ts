import { test } from 'node:test';
import assert from 'node:assert/strict';
import { facePasses } from '../../src/detect/mediapipe-face/face.ts';
import { cutByTileEdge, gridTiles, windowStarts } from '../../src/detect/tiles.ts';

test('windows cover the whole length with at least the asked overlap', () => {
  const starts = windowStarts(1000, 192, 58);
  assert.equal(starts[0], 0);
  assert.equal(starts.at(-1)! + 192, 1000);
  for (let i = 1; i < starts.length; i++) assert.ok(starts[i - 1]! + 192 - starts[i]! >= 58);
  assert.deepEqual(windowStarts(100, 192, 50), [0]);
});

test('grid tiles are clamped to small images', () => {
  const tiles = gridTiles(150, 400, 192, 60);
  assert.ok(tiles.every((t) => t.x0 === 0 && t.x1 === 150));
  assert.equal(tiles.at(-1)!.y1, 400);
});

test('face passes: whole image, then finer tiles within the run budget', () => {
  const passes = facePasses(640, 480, 192, { zooms: [1, 2], maxRuns: 100 });
  assert.equal(passes.length, 3);
  assert.equal(passes[0]!.length, 1);
  assert.ok(passes[1]!.every((t) => t.x1 - t.x0 === 192));
  assert.ok(passes[2]!.every((t) => t.x1 - t.x0 === 96));
  // A budget too small for the zoom-2 tiles leaves that level nothing: it would repeat zoom 1.
  assert.equal(facePasses(640, 480, 192, { zooms: [1, 2], maxRuns: passes[1]!.length + 1 }).length, 2);
  // A full-HD frame does not fit 48 runs at zoom 1: it gets larger tiles instead of none.
  const hd = facePasses(1920, 1080, 192, { zooms: [1, 2], maxRuns: 48 });
  assert.equal(hd.length, 2);
  assert.ok(hd[1]!.length <= 47 && hd[1]![0]!.x1 - hd[1]![0]!.x0 > 192 && hd[1]![0]!.x1 - hd[1]![0]!.x0 < 1080);
});

test('large frames: no upscaled tiles, and model input within the pixel budget; small frames unaffected', () => {
  const plan = { zooms: [1, 2], maxRuns: 48, largeFrames: { fromSide: 1024, zooms: [1], baseInputPixels: 1.7e6, inputPixelsPerFramePixel: 0.25 } };
  for (const [w, h] of [[1920, 1080], [4000, 3000]] as const) {
    const passes = facePasses(w, h, 512, plan);
    const runs = passes.reduce((n, p) => n + p.length, 0);
    assert.ok(runs > 1 && runs * 512 * 512 <= 1.7e6 + 0.25 * w * h, `${w}x${h}: ${runs} runs`);
    assert.ok(passes.slice(1).every((level) => level.every((t) => t.x1 - t.x0 >= 512)), 'no zoom > 1 tile');
  }
  assert.deepEqual(facePasses(640, 480, 192, plan), facePasses(640, 480, 192, { zooms: [1, 2], maxRuns: 48 }));
});

test('a box cut by an inner tile side is dropped, one at the image border is kept', () => {
  const tile = { x0: 100, y0: 0, x1: 292, y1: 192 };
  assert.equal(cutByTileEdge({ x0: 101, y0: 50, x1: 130, y1: 80 }, tile, 640, 480, 2), true);
  assert.equal(cutByTileEdge({ x0: 150, y0: 0, x1: 180, y1: 30 }, tile, 640, 480, 2), false);
  assert.equal(cutByTileEdge({ x0: 150, y0: 50, x1: 180, y1: 80 }, tile, 640, 480, 2), false);
});
