import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AppError } from '../../src/errors.ts';
import { buildFrameMetadata } from '../../src/render/index.ts';
import { VideoMetadataWriter, hasVideoMetadata, readVideoMetadata, readVideoMetadataRange, type FrameMetadata } from '../../src/pipeline/video/metadata.ts';

function frame(i: number): FrameMetadata {
  return buildFrameMetadata({
    frame: i,
    timestamp: i / 25,
    durationSeconds: 0.0123,
    width: 640,
    height: 360,
    detections: [{ cls: 'face', score: 0.9, box: { x0: i + 0.4, y0: 0, x1: i + 10.2, y1: 10 }, trackId: 1 + (i % 3), source: 'detected' }],
    anonymised: [true],
  });
}

test('a frame has Celantur\'s fields: id, size, duration, detections with integer boxes, type codes and the frame as parent', () => {
  const f = frame(7);
  assert.deepEqual(f, {
    id: 7,
    size: [640, 360],
    duration: 0.012,
    timestamp: 0.28,
    detections: [
      { id: 0, parent_image: 7, offset: [7, 0], bbox: [7, 0, 18, 10], type: 103, score: 0.9, is_anonymised: true, type_label: 'face', color: null, track_id: 2, source: 'detected' },
    ],
  });
});

test('metadata is written in lists of at most 500 frames named <stem>-<start>-<end>.json in the output folder and read back by range', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'video-meta-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const writer = new VideoMetadataWriter(dir, 'clip');
  for (let i = 0; i < 1203; i++) await writer.add(frame(i));
  await writer.flush();

  const files = (await readdir(dir)).sort();
  assert.deepEqual(files, ['clip-0-499.json', 'clip-1000-1202.json', 'clip-500-999.json']);
  const first = JSON.parse(await readFile(join(dir, 'clip-0-499.json'), 'utf8'));
  assert.ok(Array.isArray(first) && first.length === 500, 'each file is a JSON list of frames');
  assert.deepEqual(first[3], frame(3));

  const across = await readVideoMetadata(dir, 'clip', 490, 510);
  assert.ok(Array.isArray(across));
  assert.deepEqual(across.map((f) => f.id), Array.from({ length: 21 }, (_, i) => 490 + i));
  assert.equal(across[0]!.detections[0]!.track_id, 1 + (490 % 3));

  const tooMany = await readVideoMetadataRange(dir, 'clip', 100, 900);
  assert.equal(tooMany.totalFrames, 1203);
  assert.equal(tooMany.clamped, true);
  assert.equal(tooMany.end, 599);
  assert.equal(tooMany.frames.length, 500);

  const pastEnd = await readVideoMetadata(dir, 'clip', 1200, 5000);
  assert.deepEqual(pastEnd.map((f) => f.id), [1200, 1201, 1202]);

  assert.equal(await hasVideoMetadata(dir, 'clip'), true);
  assert.equal(await hasVideoMetadata(dir, 'cli'), false);
});

test('another file sharing the prefix is not taken for metadata; discard removes what was written', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'video-meta-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'a-7-9.json'), '{"not":"frames"}'); // e.g. image metadata of "a-7-9.jpg"
  const writer = new VideoMetadataWriter(dir, 'a');
  for (let i = 0; i < 3; i++) await writer.add(frame(i));
  await writer.flush();
  assert.deepEqual((await readVideoMetadata(dir, 'a', 0, 100)).map((f) => f.id), [0, 1, 2]);
  await writer.discard();
  assert.deepEqual(await readdir(dir), ['a-7-9.json']);
});

test('files written before the Celantur shape (<stem>_frames/, {start, end, frames}) are still served, as a list', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'video-meta-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'old_frames'));
  const legacy = { start: 0, end: 1, frames: [0, 1].map((i) => ({ frame: i, timestamp: i / 25, detections: [] })) };
  await writeFile(join(dir, 'old_frames', 'old-0-1.json'), JSON.stringify(legacy));
  const frames = await readVideoMetadata(join(dir, 'old_frames'), 'old', 0, 1);
  assert.deepEqual(frames.map((f) => f.id), [0, 1]);
});

test('bad ranges and missing metadata are typed errors', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'video-meta-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await assert.rejects(readVideoMetadata(dir, 'nothing', 0, 10), (e: AppError) => e.status === 404);
  const writer = new VideoMetadataWriter(dir, 'short');
  for (let i = 0; i < 10; i++) await writer.add(frame(i));
  await writer.flush();
  await assert.rejects(readVideoMetadata(dir, 'short', 5, 2), (e: AppError) => e.status === 400);
  await assert.rejects(readVideoMetadata(dir, 'short', -1, 2), (e: AppError) => e.status === 400);
  await assert.rejects(readVideoMetadata(dir, 'short', 10, 20), (e: AppError) => e.status === 400);
});
