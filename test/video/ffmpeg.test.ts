import assert from 'node:assert/strict';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { crfFromQuality, keptContainerTags } from '../../src/pipeline/video/encode-args.ts';
import { CLIP, makeFaceClip } from './clips.ts';

test('FFMPEG_PATH / FFPROBE_PATH win over PATH and the installer packages; probeMedia describes the clip', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'video-ffmpeg-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const require = createRequire(import.meta.url);
  const ffmpegLink = join(dir, 'my-ffmpeg');
  const ffprobeLink = join(dir, 'my-ffprobe');
  await symlink((require('@ffmpeg-installer/ffmpeg') as { path: string }).path, ffmpegLink);
  await symlink((require('@ffprobe-installer/ffprobe') as { path: string }).path, ffprobeLink);
  process.env.FFMPEG_PATH = ffmpegLink;
  process.env.FFPROBE_PATH = ffprobeLink;
  // Imported only now: the resolution is cached for the life of the process.
  const { resolveFfmpeg, probeMedia } = await import('../../src/pipeline/video/ffmpeg.ts');
  assert.deepEqual(resolveFfmpeg(), { ffmpeg: ffmpegLink, ffprobe: ffprobeLink });

  const clip = join(dir, 'clip.mp4');
  await makeFaceClip(clip, { audio: true, seconds: 1 });
  const media = await probeMedia(clip);
  assert.deepEqual(media.fps, { num: 15000, den: 1001 });
  assert.equal(media.variableFrameRate, false);
  assert.equal(media.frameCount, 15);
  assert.equal(media.frameCountExact, true);
  assert.deepEqual([media.width, media.height, media.rotation], [CLIP.width, CLIP.height, 0]);
  assert.equal(media.codec, 'h264');
  assert.equal(media.hasAudio, true);
  assert.equal(media.audio[0]!.codec, 'aac');
  assert.equal(media.tags.location, CLIP.location);
});

test('quality maps to CRF monotonically: 100 → 12, 90 → 16, 1 → 51', () => {
  assert.equal(crfFromQuality(100), 12);
  assert.equal(crfFromQuality(90), 16);
  assert.equal(crfFromQuality(1), 51);
  for (let q = 2; q <= 100; q++) assert.ok(crfFromQuality(q) <= crfFromQuality(q - 1));
});

test('GPS tags in every spelling are dropped, other tags kept', () => {
  const kept = keptContainerTags({
    title: 'Holiday',
    creation_time: '2024-05-01T10:00:00Z',
    location: '+48.8577+002.2950/',
    'location-eng': '+48.8577+002.2950/',
    'com.apple.quicktime.location.ISO6709': '+48.8577+002.2950+035.000/',
    'com.apple.quicktime.make': 'Apple',
    major_brand: 'isom',
  });
  assert.deepEqual(kept, { title: 'Holiday', creation_time: '2024-05-01T10:00:00Z', 'com.apple.quicktime.make': 'Apple' });
});
