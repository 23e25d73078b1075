import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AppError } from '../../src/errors.ts';
import { VideoMetadataWriter, readVideoMetadata, type FrameMetadata } from '../../src/pipeline/video/metadata.ts';

function frame(i: number): FrameMetadata {
  return {
    frame: i,
    timestamp: i / 25,
    detections: [{ id: 0, track_id: 1 + (i % 3), type_label: 'face', score: 0.9, bbox: [i, 0, i + 10, 10], is_anonymised: true, source: 'detected' }],
  };
}

test('metadata is written in files of at most 500 frames named <stem>-<start>-<end>.json and read back by range', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'video-meta-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const writer = new VideoMetadataWriter(dir, 'clip');
  await writer.open();
  for (let i = 0; i < 1203; i++) await writer.add(frame(i));
  await writer.flush();

  const files = (await readdir(join(dir, 'clip_frames'))).sort();
  assert.deepEqual(files, ['clip-0-499.json', 'clip-1000-1202.json', 'clip-500-999.json']);

  const across = await readVideoMetadata(dir, 'clip', 490, 510);
  assert.equal(across.total_frames, 1203);
  assert.equal(across.clamped, false);
  assert.deepEqual(across.frames.map((f) => f.frame), Array.from({ length: 21 }, (_, i) => 490 + i));
  assert.equal(across.frames[0]!.detections[0]!.track_id, 1 + (490 % 3));

  const tooMany = await readVideoMetadata(dir, 'clip', 100, 900);
  assert.equal(tooMany.clamped, true);
  assert.equal(tooMany.end, 599);
  assert.equal(tooMany.frames.length, 500);

  const pastEnd = await readVideoMetadata(dir, 'clip', 1200, 5000);
  assert.equal(pastEnd.clamped, true);
  assert.deepEqual(pastEnd.frames.map((f) => f.frame), [1200, 1201, 1202]);
});

test('bad ranges and missing metadata are typed errors', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'video-meta-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await assert.rejects(readVideoMetadata(dir, 'nothing', 0, 10), (e: AppError) => e.status === 404);
  const writer = new VideoMetadataWriter(dir, 'short');
  await writer.open();
  for (let i = 0; i < 10; i++) await writer.add(frame(i));
  await writer.flush();
  await assert.rejects(readVideoMetadata(dir, 'short', 5, 2), (e: AppError) => e.status === 400);
  await assert.rejects(readVideoMetadata(dir, 'short', -1, 2), (e: AppError) => e.status === 400);
  await assert.rejects(readVideoMetadata(dir, 'short', 10, 20), (e: AppError) => e.status === 400);
});
