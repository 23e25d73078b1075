// The video pipeline's steps (open, frame loop, frame sink, finalise): a stored probe is used instead of
// a second ffprobe, and a cancellation between steps leaves nothing behind.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createDetectionEngine, type DetectionEngine } from '../../src/detect/engine.ts';
import { probeMedia, processVideo } from '../../src/pipeline/video/index.ts';
import { DEFAULT_PARAMS, type ProcessParams } from '../../src/types.ts';
import { makeFaceClip } from './clips.ts';

let dir: string;
let engine: DetectionEngine;
let clip: string;
const faces: ProcessParams = { ...DEFAULT_PARAMS, classes: ['face'], method: 'blacken' };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'video-steps-'));
  clip = join(dir, 'pan.mp4');
  await makeFaceClip(clip, { audio: false, seconds: 1 });
  engine = await createDetectionEngine({ classes: ['face'], provider: 'cpu' });
});

after(async () => {
  await engine?.dispose();
  await rm(dir, { recursive: true, force: true });
});

test('the probe handed in (stored on the task at upload) is the one the pipeline works from', async () => {
  const probe = await probeMedia(clip);
  assert.equal(probe.frameCount, 15);
  // A stored probe that says 45 frames: progress totals come from it, which they could not if the file were probed again.
  const totals = new Set<number>();
  const result = await processVideo({
    id: 'p1', inputPath: clip, outputDir: join(dir, 'out-probe'), stem: 'p', params: faces, engine,
    media: { ...probe, frameCount: 45 },
    onProgress: (_done, total) => totals.add(total),
  });
  assert.equal(result.frames, 15);
  assert.ok(totals.has(45), `progress totals ${[...totals].join(',')}`);
});

test('a task cancelled before it starts creates no output folder', async () => {
  const outputDir = join(dir, 'out-cancelled-early');
  const controller = new AbortController();
  controller.abort(new Error('stopped'));
  await assert.rejects(
    processVideo({ id: 'p2', inputPath: clip, outputDir, stem: 'c', params: faces, engine, signal: controller.signal }),
    /stopped/,
  );
  assert.equal(existsSync(outputDir), false);
});

test('a task cancelled after its last frame is detected does not finalise: no video, no metadata left', async () => {
  const outputDir = join(dir, 'out-cancelled-late');
  const controller = new AbortController();
  let calls = 0;
  const stopping: DetectionEngine = {
    provider: engine.provider,
    classes: engine.classes,
    dispose: async () => {},
    detect: async (image, options) => {
      const r = await engine.detect(image, options);
      if (++calls === 15) controller.abort(new Error('stopped'));
      return r;
    },
  };
  await assert.rejects(
    processVideo({ id: 'p3', inputPath: clip, outputDir, stem: 'c', params: faces, engine: stopping, signal: controller.signal, detectEvery: 1 }),
    /stopped/,
  );
  assert.equal(calls, 15);
  assert.deepEqual(await readdir(outputDir), []);
});
