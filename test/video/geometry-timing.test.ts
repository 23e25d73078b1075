// Stream handling that does not depend on detection: variable frame rate and rotation.
// The real engine runs with no classes, so every frame passes through decode → render → encode unchanged.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { createDetectionEngine, type DetectionEngine } from '../../src/detect/engine.ts';
import { probeMedia, requireFfmpeg } from '../../src/pipeline/video/ffmpeg.ts';
import { processVideo } from '../../src/pipeline/video/index.ts';
import { DEFAULT_PARAMS } from '../../src/types.ts';
import { audioPacketsMd5, decodeAllFrames, meanAbsDiff, probeJson } from './clips.ts';

const run = promisify(execFile);
const params = { ...DEFAULT_PARAMS, classes: [] };
let dir: string;
let engine: DetectionEngine;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'video-timing-'));
  engine = await createDetectionEngine({ classes: [], provider: 'cpu' });
});
after(async () => {
  await engine?.dispose();
  await rm(dir, { recursive: true, force: true });
});

const whole = (w: number, h: number) => ({ x0: 0, y0: 0, x1: w, y1: h });

test('variable frame rate: a 0.5 s gap in the source stays a 0.5 s gap (held frame), duration and audio kept', async () => {
  const { ffmpeg } = requireFfmpeg();
  const input = join(dir, 'vfr.mp4');
  // 60 frames at 30 fps with a half-second pause after frame 30.
  await run(ffmpeg, [
    '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=160x120:r=30:d=2', '-f', 'lavfi', '-i', 'sine=d=2.5',
    '-vf', "setpts='(N/30+if(gt(N,30),0.5,0))/TB'", '-vsync', 'vfr', '-c:v', 'libx264', '-crf', '18', '-c:a', 'aac', input,
  ]);
  const media = await probeMedia(input);
  assert.equal(media.variableFrameRate, true);

  const result = await processVideo({ id: 'vfr', inputPath: input, outputDir: join(dir, 'vfr-out'), stem: 'vfr', params, engine });
  assert.equal(result.fps, 30);
  assert.equal(result.frames, 75); // 2.5 s on the 30 fps grid
  const probe = await probeJson(result.outputs.anonymised!);
  assert.equal(Number(probe.streams[0]!.duration), 2.5);
  assert.equal(await audioPacketsMd5(result.outputs.anonymised!), await audioPacketsMd5(input));

  const source = await decodeAllFrames(input, 160, 120);
  const output = await decodeAllFrames(result.outputs.anonymised!, 160, 120);
  const box = whole(160, 120);
  // Source frame 30 (t = 1.0 s) is on screen until frame 31 at t = 1.533 s; ffmpeg's rate
  // conversion may switch one output frame early (frame 45), so check up to frame 44.
  for (const i of [30, 38, 44]) assert.ok(meanAbsDiff(output[i]!, source[30]!, box) < 4, `output frame ${i} shows source frame 30`);
  assert.ok(meanAbsDiff(output[46]!, source[31]!, box) < 4, 'output frame 46 (t = 1.533 s) shows source frame 31');
  assert.ok(meanAbsDiff(output[60]!, source[45]!, box) < 4, 'output frame 60 (t = 2.0 s) shows source frame 45');
});

test('a rotated phone video is anonymised upright and not rotated twice on playback', async () => {
  const { ffmpeg } = requireFfmpeg();
  const stored = join(dir, 'stored.mp4');
  const rotated = join(dir, 'rotated.mp4');
  await run(ffmpeg, ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=160x96:r=25:d=0.6', '-c:v', 'libx264', '-crf', '18', stored]);
  await run(ffmpeg, ['-v', 'error', '-i', stored, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', rotated]);
  const media = await probeMedia(rotated);
  assert.equal(media.width, 96);
  assert.equal(media.height, 160);
  assert.ok(media.rotation === 90 || media.rotation === 270);

  const result = await processVideo({ id: 'rot', inputPath: rotated, outputDir: join(dir, 'rot-out'), stem: 'rot', params, engine });
  const out = await probeMedia(result.outputs.anonymised!);
  assert.equal(out.rotation, 0);
  assert.deepEqual([out.width, out.height], [96, 160]);
  // What a player shows for the source (decoded with rotation applied) is what the output holds.
  const shown = await decodeAllFrames(rotated, 96, 160);
  const output = await decodeAllFrames(result.outputs.anonymised!, 96, 160);
  assert.equal(output.length, shown.length);
  output.forEach((frame, i) => assert.ok(meanAbsDiff(frame, shown[i]!, whole(96, 160)) < 4, `frame ${i}`));
});

test('an odd-sized source is encoded (4:2:0 needs even sides: one extra edge row and column)', async () => {
  const { ffmpeg } = requireFfmpeg();
  const odd = join(dir, 'odd.mp4');
  await run(ffmpeg, ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=25:d=0.4', '-vf', 'scale=161:121,format=yuv444p', '-c:v', 'libx264', odd]);
  const result = await processVideo({ id: 'odd', inputPath: odd, outputDir: join(dir, 'odd-out'), stem: 'odd', params, engine });
  const probe = await probeJson(result.outputs.anonymised!);
  assert.deepEqual([probe.streams[0]!.width, probe.streams[0]!.height, probe.streams[0]!.nb_frames], [162, 122, '10']);
});
