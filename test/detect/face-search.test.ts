import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_FACE_OPTIONS, FACE_MODELS, facePasses } from '../../src/detect/mediapipe-face/face.ts';
import { ssdEnsemble, type FaceSearch } from '../../src/detect/face-ensemble/face-ensemble.ts';

/** Model-input pixels the SSD member spends on a frame: what --face-search trades against time. */
function ssdInputPixels(search: FaceSearch, width: number, height: number): number {
  const member = ssdEnsemble(search).find((m) => m.model === 'ssd-mobilenet')!;
  const size = FACE_MODELS['ssd-mobilenet'].inputSize;
  const runs = facePasses(width, height, size, { ...DEFAULT_FACE_OPTIONS, ...member }).flat().length;
  return runs * size * size;
}

test('--face-search spends more on large frames from fast to balanced to thorough', () => {
  for (const [w, h] of [[1920, 1080], [4000, 3000]] as const) {
    const fast = ssdInputPixels('fast', w, h);
    const balanced = ssdInputPixels('balanced', w, h);
    const thorough = ssdInputPixels('thorough', w, h);
    assert.ok(fast < balanced && balanced < thorough, `${w}×${h}: ${fast} < ${balanced} < ${thorough}`);
  }
});

test('--face-search leaves small frames searched in full (upscaled tiles included)', () => {
  const small = (s: FaceSearch) => ssdInputPixels(s, 640, 427);
  assert.equal(small('fast'), small('thorough'));
  assert.equal(small('balanced'), small('thorough'));
  assert.ok(small('fast') > FACE_MODELS['ssd-mobilenet'].inputSize ** 2, 'more than the whole-image pass');
});

test('the SSD searches frames up to 640 px with finer (2.5x) tiles, larger ones up to 1024 px at 2x', () => {
  const member = ssdEnsemble('balanced').find((m) => m.model === 'ssd-mobilenet')!;
  const size = FACE_MODELS['ssd-mobilenet'].inputSize;
  const tileSides = (w: number, h: number) => facePasses(w, h, size, { ...DEFAULT_FACE_OPTIONS, ...member }).slice(1).map((p) => p[0]!.x1 - p[0]!.x0);
  assert.deepEqual(tileSides(400, 300), [Math.round(size / 2.5)]);
  assert.deepEqual(tileSides(640, 427), [Math.round(size / 2.5)]);
  assert.deepEqual(tileSides(800, 600), [size / 2]);
});
