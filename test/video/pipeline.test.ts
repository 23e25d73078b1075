// End to end through real ffmpeg and the real face detector on a clip generated at test time.

import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createDetectionEngine, type DetectionEngine } from '../../src/detect/engine.ts';
import { UndecodableFileError } from '../../src/errors.ts';
import { processVideo, readVideoMetadata } from '../../src/pipeline/video/index.ts';
import { DEFAULT_PARAMS, type ProcessParams } from '../../src/types.ts';
import { CLIP, audioPacketsMd5, decodeAllFrames, faceBoxAt, makeFaceClip, meanAbsDiff, probeJson } from './clips.ts';

let dir: string;
let engine: DetectionEngine;
let withAudio: string;
let withoutAudio: string;
const faces: ProcessParams = { ...DEFAULT_PARAMS, classes: ['face'], method: 'blacken' };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'video-pipeline-'));
  withAudio = join(dir, 'with-audio.mp4');
  withoutAudio = join(dir, 'without-audio.mp4');
  await makeFaceClip(withAudio, { audio: true });
  await makeFaceClip(withoutAudio, { audio: false, seconds: 1 });
  engine = await createDetectionEngine({ classes: ['face'], provider: 'cpu' });
});

after(async () => {
  await engine?.dispose();
  await rm(dir, { recursive: true, force: true });
});

test('faces are blackened in every frame; frames, rate, duration, audio bits and tags survive; GPS does not', async () => {
  const outputDir = join(dir, 'out-faces');
  const progress: Array<[number, number]> = [];
  const result = await processVideo({
    id: 't1', inputPath: withAudio, outputDir, stem: 'pan', params: faces, engine,
    onProgress: (done, total) => progress.push([done, total]),
  });

  assert.equal(result.outputs.anonymised, join(outputDir, 'pan.mp4'));
  assert.equal(result.frames, 30);
  assert.equal(result.width, CLIP.width);
  assert.equal(result.hasAudio, true);
  assert.equal(result.audio, 'copied');

  const [before, after] = [await probeJson(withAudio), await probeJson(result.outputs.anonymised!)];
  const video = after.streams.find((s) => s.codec_type === 'video')!;
  const srcVideo = before.streams.find((s) => s.codec_type === 'video')!;
  assert.equal(video.codec_name, 'h264');
  assert.equal(video.r_frame_rate, '15000/1001');
  assert.equal(video.nb_frames, '30');
  assert.equal(video.duration, srcVideo.duration);
  assert.ok(after.streams.some((s) => s.codec_type === 'audio'), 'audio stream present');
  assert.equal(await audioPacketsMd5(result.outputs.anonymised!), await audioPacketsMd5(withAudio));
  assert.ok(Math.abs(Number(after.format.duration) - Number(before.format.duration)) < 0.03);

  assert.equal(before.format.tags?.location, CLIP.location, 'the source really carries GPS');
  const tags = after.format.tags ?? {};
  assert.equal(tags.title, 'Astronaut pan');
  for (const key of Object.keys(tags)) assert.doesNotMatch(key, /location|iso6709/i);
  assert.ok(!Object.values(tags).includes(CLIP.location));

  // Pixels: the face region (known from the clip's own motion) is black in every output frame,
  // while a background patch stays as it was (only codec noise).
  const original = await decodeAllFrames(withAudio, CLIP.width, CLIP.height);
  const output = await decodeAllFrames(result.outputs.anonymised!, CLIP.width, CLIP.height);
  assert.equal(output.length, 30);
  output.forEach((frame, i) => {
    const face = faceBoxAt(i);
    const core = { x0: face.x0 + 6, y0: face.y0 + 6, x1: face.x1 - 6, y1: face.y1 - 6 };
    const black = { data: Buffer.alloc(frame.data.length), width: frame.width, height: frame.height };
    assert.ok(meanAbsDiff(frame, black, core) < 20, `frame ${i}: face not blackened`);
    assert.ok(meanAbsDiff(original[i]!, black, core) > 80, `frame ${i}: the original face is not dark`);
    const background = { x0: 230, y0: 10, x1: 310, y1: 50 };
    assert.ok(meanAbsDiff(frame, original[i]!, background) < 12, `frame ${i}: background changed`);
  });

  // Metadata: one face track through the clip, ids on every detection, timestamps from the exact rate.
  const frames = await readVideoMetadata(outputDir, 'pan', 0, 499);
  const meta = { frames };
  assert.equal(frames.length, 30);
  assert.deepEqual(frames.map((f) => f.id), Array.from({ length: 30 }, (_, i) => i), 'one entry per frame, ids from 0');
  assert.equal(frames[15]!.timestamp, Number((15 * 1001 / 15000).toFixed(6)));
  assert.ok(frames.every((f) => f.duration > 0 && f.size[0] === CLIP.width && f.size[1] === CLIP.height), 'size and duration per frame');
  assert.ok(frames.every((f) => f.detections.every((d, i) => d.id === i && d.parent_image === f.id && d.bbox.every(Number.isInteger))));
  assert.deepEqual((await readdir(outputDir)).filter((n) => n.endsWith('.json')), ['pan-0-29.json'], "Celantur's file name, beside the video");
  const faceTrack = (f: (typeof frames)[number], i: number) =>
    f.detections.find((d) => d.type_label === 'face' && d.bbox[0] < faceBoxAt(i).x1 && d.bbox[2] > faceBoxAt(i).x0 && d.bbox[1] < faceBoxAt(i).y1 && d.bbox[3] > faceBoxAt(i).y0);
  const trackIds = meta.frames.map((f, i) => faceTrack(f, i)?.track_id);
  assert.ok(trackIds.every((id) => typeof id === 'number'), `face found in every frame: ${trackIds.join(',')}`);
  assert.equal(new Set(trackIds).size, 1, 'one track for the one face');
  assert.ok(meta.frames.every((f) => f.detections.every((d) => d.is_anonymised && Number.isInteger(d.track_id))));

  // Progress: at least every 5 frames, increasing, ending at 30 of 30.
  assert.ok(progress.length >= 6);
  assert.deepEqual(progress.at(-1), [30, 30]);
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i]![0] >= progress[i - 1]![0]);
});

test('a video without audio works and comes out without audio', async () => {
  const outputDir = join(dir, 'out-silent');
  // No classes: the real engine detects nothing, so this checks the stream path alone.
  const result = await processVideo({ id: 't2', inputPath: withoutAudio, outputDir, stem: 'silent', params: { ...faces, classes: [] }, engine });
  assert.equal(result.hasAudio, false);
  assert.equal(result.audio, 'none');
  const probe = await probeJson(result.outputs.anonymised!);
  assert.deepEqual(probe.streams.map((s) => s.codec_type), ['video']);
  assert.equal(probe.streams[0]!.nb_frames, '15');
  const original = await decodeAllFrames(withoutAudio, CLIP.width, CLIP.height);
  const output = await decodeAllFrames(result.outputs.anonymised!, CLIP.width, CLIP.height);
  const whole = { x0: 0, y0: 0, x1: CLIP.width, y1: CLIP.height };
  output.forEach((frame, i) => assert.ok(meanAbsDiff(frame, original[i]!, whole) < 6, `frame ${i} changed without detections`));
});

test('aborting stops both ffmpeg processes and leaves no files behind', async () => {
  const outputDir = join(dir, 'out-abort');
  const controller = new AbortController();
  const progress: number[] = [];
  await assert.rejects(
    processVideo({
      id: 't3', inputPath: withAudio, outputDir, stem: 'aborted', params: faces, engine, signal: controller.signal,
      onProgress: (done) => {
        progress.push(done);
        controller.abort();
      },
    }),
    (err: Error) => err.name === 'AbortError',
  );
  assert.ok(progress.length >= 1 && progress[0]! < 30, 'aborted part-way');
  assert.deepEqual(await readdir(outputDir), []);
});

test('a file ffprobe cannot read, or one without video, is an UndecodableFileError', async () => {
  const garbage = join(dir, 'garbage.mp4');
  await writeFile(garbage, Buffer.from('this is not a video at all'.repeat(100)));
  await assert.rejects(
    processVideo({ id: 't4', inputPath: garbage, outputDir: join(dir, 'out-garbage'), stem: 'g', params: faces, engine }),
    UndecodableFileError,
  );
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { requireFfmpeg } = await import('../../src/pipeline/video/ffmpeg.ts');
  const audioOnly = join(dir, 'audio-only.m4a');
  await promisify(execFile)(requireFfmpeg().ffmpeg, ['-v', 'error', '-f', 'lavfi', '-i', 'sine=duration=1', '-c:a', 'aac', audioOnly]);
  await assert.rejects(
    processVideo({ id: 't5', inputPath: audioOnly, outputDir: join(dir, 'out-audio-only'), stem: 'a', params: faces, engine }),
    UndecodableFileError,
  );
});

test('frames where the detector misses the face are still anonymised (tracker fill), with the same track id', async () => {
  const outputDir = join(dir, 'out-missed');
  const missed = new Set([4, 5, 6]);
  let frame = 0;
  // The real engine, with its answers on three frames thrown away: what a flickering detector does.
  const flickering: DetectionEngine = {
    provider: engine.provider,
    classes: engine.classes,
    dispose: async () => {},
    detect: async (image, options) => {
      const result = await engine.detect(image, options);
      return missed.has(frame++) ? { ...result, detections: [] } : result;
    },
  };
  // Every frame detected (no stride), so that the thrown-away answers are the frames named above.
  const result = await processVideo({ id: 't6', inputPath: withoutAudio, outputDir, stem: 'missed', params: faces, engine: flickering, detectEvery: 1 });
  const output = await decodeAllFrames(result.outputs.anonymised!, CLIP.width, CLIP.height);
  const meta = { frames: await readVideoMetadata(outputDir, 'missed', 0, 14) };
  const trackOnFrame = (i: number) => meta.frames[i]!.detections.find((d) => d.bbox[0] < faceBoxAt(i).x1 && d.bbox[2] > faceBoxAt(i).x0);
  for (const i of missed) {
    const face = faceBoxAt(i);
    const core = { x0: face.x0 + 6, y0: face.y0 + 6, x1: face.x1 - 6, y1: face.y1 - 6 };
    const black = { data: Buffer.alloc(output[i]!.data.length), width: CLIP.width, height: CLIP.height };
    assert.ok(meanAbsDiff(output[i]!, black, core) < 20, `frame ${i}: face flashed through`);
    assert.equal(trackOnFrame(i)?.source, 'interpolated');
    assert.equal(trackOnFrame(i)?.track_id, trackOnFrame(3)?.track_id);
  }
});
