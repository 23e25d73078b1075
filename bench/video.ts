// Video throughput on CPU: 1080p frames per second for faces + plates, against the codec floor
// (ffmpeg decoding and re-encoding the same clip alone, same x264 settings, measured in the same run),
// and peak RSS on a longer clip to show memory does not grow with length. Not a test.
//
// The 1080p clip is made here: test/fixtures/faces.jpg (public-domain/CC0 composite, three faces)
// scaled up and panned slowly across the frame, plus a sine tone.
// Run alone: node --import tsx bench/video.ts

import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createDetectionEngine } from '../src/detect/engine.ts';
import { crfFromQuality, X264_PRESET } from '../src/pipeline/video/encode-args.ts';
import { requireFfmpeg } from '../src/pipeline/video/ffmpeg.ts';
import { processVideo, type VideoResult } from '../src/pipeline/video/index.ts';
import { DEFAULT_PARAMS, type ObjectClass } from '../src/types.ts';

const run = promisify(execFile);
const FACES = fileURLToPath(new URL('../test/fixtures/faces.jpg', import.meta.url));
const FRAMES_1080P = Number(process.env.BENCH_VIDEO_FRAMES ?? 24);
const FRAMES_LONG = Number(process.env.BENCH_VIDEO_LONG_FRAMES ?? 1800);

async function makeClip(path: string, width: number, height: number, frames: number): Promise<void> {
  const { ffmpeg } = requireFfmpeg();
  const seconds = frames / 25;
  await run(ffmpeg, [
    '-v', 'error', '-y',
    '-loop', '1', '-framerate', '25', '-i', FACES,
    '-f', 'lavfi', '-i', `sine=frequency=330:duration=${seconds}`,
    '-filter_complex',
    // Scaled 15 % larger than the frame so that the crop can pan across it.
    `[0:v]scale=${Math.round(width * 1.15)}:${Math.round(height * 1.15)},crop=${width}:${height}:x='(in_w-out_w)*t/${seconds}':y='(in_h-out_h)/2',format=yuv420p[v]`,
    '-map', '[v]', '-map', '1:a', '-frames:v', String(frames),
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-c:a', 'aac', '-shortest', path,
  ]);
}

/** ffmpeg alone: decode the clip and encode it with the pipeline's x264 settings. */
async function codecFloorMs(input: string, output: string): Promise<number> {
  const { ffmpeg } = requireFfmpeg();
  const t = performance.now();
  await run(ffmpeg, [
    '-v', 'error', '-y', '-i', input, '-map', '0:v:0', '-map', '0:a?',
    '-c:v', 'libx264', '-preset', X264_PRESET, '-crf', String(crfFromQuality(DEFAULT_PARAMS.quality)), '-pix_fmt', 'yuv420p',
    '-c:a', 'copy', output,
  ]);
  return performance.now() - t;
}

async function timedProcess(input: string, outputDir: string, stem: string, classes: ObjectClass[]): Promise<{ ms: number; peakRssMb: number; result: VideoResult }> {
  const engine = await createDetectionEngine({ classes, provider: 'cpu' });
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  try {
    const t = performance.now();
    const result = await processVideo({ id: stem, inputPath: input, outputDir, stem, params: { ...DEFAULT_PARAMS, classes }, engine });
    return { ms: performance.now() - t, peakRssMb: peak / 2 ** 20, result };
  } finally {
    clearInterval(sampler);
    await engine.dispose();
  }
}

export async function benchVideo(): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-video-'));
  const lines: string[] = [];
  try {
    const clip = join(dir, 'clip1080.mp4');
    await makeClip(clip, 1920, 1080, FRAMES_1080P);
    const floorMs = await codecFloorMs(clip, join(dir, 'floor.mp4'));
    const passthrough = await timedProcess(clip, join(dir, 'out'), 'passthrough', []);
    const full = await timedProcess(clip, join(dir, 'out'), 'faces-plates', ['face', 'license-plate']);
    const n = full.result.frames;
    const fps = (ms: number, frames = n) => ((frames * 1000) / ms).toFixed(2);
    const t = full.result.timings;
    lines.push(
      `video 1080p (${n} frames, faces.jpg panned; x264 ${X264_PRESET} crf ${crfFromQuality(DEFAULT_PARAMS.quality)}):`,
      `  codec floor (ffmpeg decode+encode alone): ${fps(floorMs)} fps (${floorMs.toFixed(0)} ms)`,
      `  pipeline, no classes (RGB pipes only):    ${fps(passthrough.ms)} fps, ${(passthrough.ms / floorMs).toFixed(2)}x floor`,
      `  pipeline, faces + plates:                 ${fps(full.ms)} fps, ${(full.ms / floorMs).toFixed(2)}x floor, peak RSS ${full.peakRssMb.toFixed(0)} MB`,
      `  per frame: detect ${(t.detect! / n).toFixed(0)} ms, render ${(t.render! / n).toFixed(0)} ms, encoder wait ${(t.encodeWait! / n).toFixed(0)} ms, decoder wait ${(t.decodeWait! / n).toFixed(0)} ms`,
    );

    const long = join(dir, 'long720.mp4');
    await makeClip(long, 1280, 720, FRAMES_LONG);
    const rssBefore = process.memoryUsage().rss / 2 ** 20;
    const mem = await timedProcess(long, join(dir, 'out'), 'long', []);
    lines.push(
      `  memory: ${mem.result.frames}-frame 720p clip streamed (no classes): RSS ${rssBefore.toFixed(0)} MB before, peak ${mem.peakRssMb.toFixed(0)} MB, ${fps(mem.ms, mem.result.frames)} fps`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return lines;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const line of await benchVideo()) console.log(line);
}
