// Detection stride (--detect-every): the detectors run on every Nth frame only, and the face stays
// covered on the frames in between; a scene cut is detected at once. Real ffmpeg, real face detector,
// clips generated at test time from the public-domain astronaut photo.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { createDetectionEngine, type DetectionEngine } from '../../src/detect/engine.ts';
import { requireFfmpeg } from '../../src/pipeline/video/ffmpeg.ts';
import { processVideo, readVideoMetadata } from '../../src/pipeline/video/index.ts';
import { DEFAULT_PARAMS, type ProcessParams, type RgbImage } from '../../src/types.ts';
import { ASTRONAUT, CLIP, decodeAllFrames, meanAbsDiff } from './clips.ts';

const run = promisify(execFile);
const { width: W, height: H } = CLIP;
const FPS = 15;
/** Fast pan: 120 px/s at 15 fps, 8 px per frame, so two carried frames move the face 16 px (40 % of its width). */
const SPEED = 120;
const faces: ProcessParams = { ...DEFAULT_PARAMS, classes: ['face'], method: 'blacken' };

let dir: string;
let engine: DetectionEngine;
let pan: string;
let cut: string;

/** The real engine, counting its calls. */
function counting(): { engine: DetectionEngine; calls: () => number } {
  let n = 0;
  return {
    calls: () => n,
    engine: { provider: engine.provider, classes: engine.classes, dispose: async () => {}, detect: (image, options) => (n++, engine.detect(image, options)) },
  };
}

/** Face of the astronaut (photo scaled to 160 px at x,y): about (51,17)-(90,59) of the photo. */
const faceAt = (x: number, y: number) => ({ x0: x + CLIP.faceInPhoto.x0, y0: y + CLIP.faceInPhoto.y0, x1: x + CLIP.faceInPhoto.x1, y1: y + CLIP.faceInPhoto.y1 });
const panX = (i: number) => Math.floor(20 + (SPEED * i) / FPS);

/** One second of the astronaut (160 px) moving along x = `x` (an ffmpeg expression in t, seconds) on noisy grey. */
async function astronautMoving(path: string, x: string): Promise<void> {
  await run(requireFfmpeg().ffmpeg, [
    '-v', 'error', '-y',
    '-f', 'lavfi', '-i', `color=c=0x707070:s=${W}x${H}:r=${FPS}:d=1`,
    '-loop', '1', '-framerate', String(FPS), '-i', ASTRONAUT,
    '-filter_complex', `[0:v]noise=alls=12:allf=t[bg];[1:v]scale=160:160[p];[bg][p]overlay=x='${x}':y=60:shortest=1,format=yuv420p[v]`,
    '-map', '[v]', '-t', '1', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', path,
  ]);
}

function assertBlack(frame: RgbImage, face: { x0: number; y0: number; x1: number; y1: number }, what: string): void {
  const core = { x0: face.x0 + 6, y0: face.y0 + 6, x1: face.x1 - 6, y1: face.y1 - 6 };
  const black = { data: Buffer.alloc(frame.data.length), width: frame.width, height: frame.height };
  assert.ok(meanAbsDiff(frame, black, core) < 20, `${what}: face not blackened`);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'video-stride-'));
  const { ffmpeg } = requireFfmpeg();
  pan = join(dir, 'pan.mp4');
  await astronautMoving(pan, `20+${SPEED}*t`);
  // Scene A (10 frames): the astronaut still, left, on grey. Scene B (10 frames): the astronaut on the
  // right of a dark, noisy background — a hard cut at frame 10.
  cut = join(dir, 'cut.mp4');
  await run(ffmpeg, [
    '-v', 'error', '-y',
    '-f', 'lavfi', '-i', `color=c=0x909090:s=${W}x${H}:r=${FPS}:d=1`,
    '-f', 'lavfi', '-i', `color=c=0x181818:s=${W}x${H}:r=${FPS}:d=1`,
    '-loop', '1', '-framerate', String(FPS), '-i', ASTRONAUT,
    '-filter_complex',
    `[2:v]scale=160:160,split[p1][p2];[0:v][p1]overlay=x=10:y=40:shortest=1,trim=end_frame=10[a];[1:v]noise=alls=20:allf=t[bn];[bn][p2]overlay=x=150:y=70:shortest=1,trim=end_frame=10,setpts=PTS-STARTPTS[b];[a][b]concat=n=2:v=1,format=yuv420p[v]`,
    '-map', '[v]', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', cut,
  ]);
  engine = await createDetectionEngine({ classes: ['face'], provider: 'cpu' });
});

after(async () => {
  await engine?.dispose();
  await rm(dir, { recursive: true, force: true });
});

test('--detect-every 3: a fast-moving face is covered on every frame while the detector runs on a third of them', async () => {
  const outputDir = join(dir, 'out-pan');
  const counter = counting();
  const result = await processVideo({ id: 's1', inputPath: pan, outputDir, stem: 'pan', params: faces, engine: counter.engine, detectEvery: 3 });
  assert.equal(result.frames, 15);
  assert.ok(counter.calls() <= 6, `detector ran on ${counter.calls()} of 15 frames`);
  assert.equal(result.detectedFrames.carry, 15 - counter.calls());
  const output = await decodeAllFrames(result.outputs.anonymised!, W, H);
  output.forEach((frame, i) => assertBlack(frame, faceAt(panX(i), 60), `frame ${i}`));
  const meta = await readVideoMetadata(outputDir, 'pan', 0, 14);
  const sources = meta.map((f) => f.detections.find((d) => d.type_label === 'face')?.source);
  assert.ok(sources.filter((s) => s === 'tracked').length >= 8, `boxes carried between detections: ${sources.join(',')}`);
  assert.equal(new Set(meta.flatMap((f) => f.detections.map((d) => d.track_id))).size, 1, 'one track for the one face');
});

test('a scene cut is detected at once, whatever the stride: the face of the new scene is covered from its first frame', async () => {
  const outputDir = join(dir, 'out-cut');
  const counter = counting();
  const result = await processVideo({ id: 's2', inputPath: cut, outputDir, stem: 'cut', params: faces, engine: counter.engine, detectEvery: 30 });
  assert.equal(result.frames, 20);
  assert.equal(result.detectedFrames['scene-cut'], 1);
  // The first frame, the last frame of scene A (it closes the frames held since the first), the cut, and the last frame (it closes the rest).
  assert.equal(counter.calls(), 4, 'the first frame, the last before the cut, the cut and the last');
  assert.equal(result.detectedFrames.closing, 2);
  const output = await decodeAllFrames(result.outputs.anonymised!, W, H);
  for (let i = 0; i < 10; i++) assertBlack(output[i]!, faceAt(10, 40), `scene A frame ${i}`);
  for (let i = 10; i < 20; i++) assertBlack(output[i]!, faceAt(150, 70), `scene B frame ${i}`);
});

test('--detect-every 5: an accelerating face is covered on every frame (boxes placed from both detected ends, not extrapolated)', async () => {
  // x = 20 + 60 t + 120 t² over one second: 4 px per frame at the start, 20 px per frame at the end.
  const accel = join(dir, 'accel.mp4');
  const xAt = (i: number) => Math.floor(20 + 60 * (i / FPS) + 120 * (i / FPS) ** 2);
  await astronautMoving(accel, '20+60*t+120*t*t');
  const outputDir = join(dir, 'out-accel');
  const counter = counting();
  const result = await processVideo({ id: 's3', inputPath: accel, outputDir, stem: 'accel', params: faces, engine: counter.engine, detectEvery: 5 });
  assert.equal(result.frames, 15);
  assert.ok(counter.calls() <= 5, `detector ran on ${counter.calls()} of 15 frames`);
  const output = await decodeAllFrames(result.outputs.anonymised!, W, H);
  output.forEach((frame, i) => assertBlack(frame, faceAt(xAt(i), 60), `frame ${i}`));
});

test('--detect-every 5: a face that appears between two detected frames is covered from the frame it appears in', async () => {
  const { ffmpeg } = requireFfmpeg();
  // The astronaut is pasted in at frame 7 (t = 7/15 s), standing still; frames 5 and 10 are detected by stride.
  const appear = join(dir, 'appear.mp4');
  await run(ffmpeg, [
    '-v', 'error', '-y',
    '-f', 'lavfi', '-i', `color=c=0x707070:s=${W}x${H}:r=${FPS}:d=1`,
    '-loop', '1', '-framerate', String(FPS), '-i', ASTRONAUT,
    '-filter_complex', `[0:v]noise=alls=12:allf=t[bg];[1:v]scale=160:160[p];[bg][p]overlay=x=120:y=50:shortest=1:enable='gte(n,7)',format=yuv420p[v]`,
    '-map', '[v]', '-t', '1', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', appear,
  ]);
  const outputDir = join(dir, 'out-appear');
  const result = await processVideo({ id: 's4', inputPath: appear, outputDir, stem: 'appear', params: faces, engine, detectEvery: 5 });
  const output = await decodeAllFrames(result.outputs.anonymised!, W, H);
  for (let i = 7; i < 15; i++) assertBlack(output[i]!, faceAt(120, 50), `frame ${i}`);
});
