// Test clips made at test time with the real ffmpeg: the public-domain astronaut photo
// (test/fixtures/astronaut.jpg) panning across a noisy background, optionally with a sine tone and
// GPS tags the way phones write them.

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { requireFfmpeg } from '../../src/pipeline/video/ffmpeg.ts';
import type { RgbImage } from '../../src/types.ts';

const run = promisify(execFile);
export const ASTRONAUT = fileURLToPath(new URL('../fixtures/astronaut.jpg', import.meta.url));

export const CLIP = {
  width: 320,
  height: 240,
  fps: '15000/1001',
  seconds: 2,
  /** Astronaut scaled to this size; the detector boxes her face at about (51,17)-(90,59) of it. */
  photoSize: 160,
  photoY: 60,
  photoX: (t: number) => 20 + 40 * t,
  faceInPhoto: { x0: 51, y0: 17, x1: 90, y1: 59 },
  location: '+48.8577+002.2950/',
};

/** Where the face is in frame `i` (from the overlay's own motion, not from the detector). */
export function faceBoxAt(i: number): { x0: number; y0: number; x1: number; y1: number } {
  const [num, den] = CLIP.fps.split('/').map(Number) as [number, number];
  const x = Math.floor(CLIP.photoX((i * den) / num));
  const f = CLIP.faceInPhoto;
  return { x0: x + f.x0, y0: CLIP.photoY + f.y0, x1: x + f.x1, y1: CLIP.photoY + f.y1 };
}

export async function makeFaceClip(path: string, options: { audio: boolean; seconds?: number }): Promise<void> {
  const { ffmpeg } = requireFfmpeg();
  const seconds = options.seconds ?? CLIP.seconds;
  const { width, height, fps, photoSize, photoY } = CLIP;
  const args = [
    '-v', 'error', '-y',
    '-f', 'lavfi', '-i', `color=c=0x707070:s=${width}x${height}:r=${fps}:d=${seconds}`,
    '-loop', '1', '-framerate', fps, '-i', ASTRONAUT,
  ];
  if (options.audio) args.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=44100:duration=${seconds}`);
  args.push(
    '-filter_complex',
    `[0:v]noise=alls=12:allf=t[bg];[1:v]scale=${photoSize}:${photoSize}[p];[bg][p]overlay=x='20+40*t':y=${photoY}:shortest=1,format=yuv420p[v]`,
    '-map', '[v]',
  );
  if (options.audio) args.push('-map', '2:a', '-c:a', 'aac', '-b:a', '96k');
  args.push(
    '-t', String(seconds),
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18',
    '-metadata', 'title=Astronaut pan',
    '-metadata', `location=${CLIP.location}`,
    '-metadata', `com.apple.quicktime.location.ISO6709=${CLIP.location}`,
    '-movflags', 'use_metadata_tags',
    path,
  );
  await run(ffmpeg, args);
}

export async function probeJson(path: string): Promise<{
  streams: Array<{ codec_type: string; codec_name: string; width?: number; height?: number; r_frame_rate: string; nb_frames?: string; duration?: string }>;
  format: { duration: string; tags?: Record<string, string> };
}> {
  const { ffprobe } = requireFfmpeg();
  const { stdout } = await run(ffprobe, ['-v', 'error', '-show_format', '-show_streams', '-of', 'json', path]);
  return JSON.parse(stdout);
}

/** md5 over the audio packets as stored (no decoding): equal only if the audio was copied bit for bit. */
export async function audioPacketsMd5(path: string): Promise<string> {
  const { ffmpeg } = requireFfmpeg();
  const { stdout } = await run(ffmpeg, ['-v', 'error', '-i', path, '-map', '0:a', '-c', 'copy', '-f', 'md5', '-']);
  return stdout.trim();
}

export async function decodeAllFrames(path: string, width: number, height: number): Promise<RgbImage[]> {
  const { ffmpeg } = requireFfmpeg();
  const { stdout } = await run(ffmpeg, ['-v', 'error', '-i', path, '-map', '0:v:0', '-vsync', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], {
    encoding: 'buffer',
    maxBuffer: 1 << 28,
  });
  const size = width * height * 3;
  const frames: RgbImage[] = [];
  for (let o = 0; o + size <= stdout.length; o += size) frames.push({ data: stdout.subarray(o, o + size), width, height });
  return frames;
}

/** Mean absolute difference per channel value between two frames inside a box. */
export function meanAbsDiff(a: RgbImage, b: RgbImage, box: { x0: number; y0: number; x1: number; y1: number }): number {
  let sum = 0;
  let n = 0;
  for (let y = box.y0; y < box.y1; y++) {
    const row = y * a.width * 3;
    for (let i = row + box.x0 * 3; i < row + box.x1 * 3; i++) {
      sum += Math.abs(a.data[i]! - b.data[i]!);
      n++;
    }
  }
  return sum / n;
}
