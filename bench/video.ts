// Video throughput on CPU: 1080p frames per second for faces + plates, against the codec floor
// (ffmpeg decoding and re-encoding the same clip alone, same x264 settings, measured in the same run),
// and peak RSS on a longer clip to show memory does not grow with length. Not a test.
//
// The 1080p clip is made here: test/fixtures/faces.jpg (public-domain/CC0 composite, three faces)
// scaled up and panned slowly across the frame, plus a sine tone.
// Run alone: node --import tsx bench/video.ts

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createDetectionEngine } from '../src/detect/engine.ts';
import { crfFromQuality, X264_PRESET } from '../src/pipeline/video/encode-args.ts';
import { requireFfmpeg } from '../src/pipeline/video/ffmpeg.ts';
import { DEFAULT_DETECT_EVERY, processVideo, readVideoMetadata, type FrameMetadata, type VideoResult } from '../src/pipeline/video/index.ts';
import { DEFAULT_PARAMS, type ObjectClass } from '../src/types.ts';

const run = promisify(execFile);
const FACES = fileURLToPath(new URL('../test/fixtures/faces.jpg', import.meta.url));
const FRAMES_1080P = Number(process.env.BENCH_VIDEO_FRAMES ?? 24);
const FRAMES_LONG = Number(process.env.BENCH_VIDEO_LONG_FRAMES ?? 1800);
const REAL_CLIPS = fileURLToPath(new URL('../../shared/eval/videos', import.meta.url));
const SHARED_PACKS = fileURLToPath(new URL('../../shared/models-extra', import.meta.url));
/** The model packs the benches load: ANONYMISER_PACKS_DIR, else ../shared/models-extra when present (the YuNet pack the Docker image ships). */
export const BENCH_PACKS_DIR: string | undefined = process.env.ANONYMISER_PACKS_DIR ?? (existsSync(SHARED_PACKS) ? SHARED_PACKS : undefined);

export async function makeClip(path: string, width: number, height: number, frames: number): Promise<void> {
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

export async function timedProcess(input: string, outputDir: string, stem: string, classes: ObjectClass[], detectEvery = DEFAULT_DETECT_EVERY): Promise<{ ms: number; peakRssMb: number; result: VideoResult; faceDetector: string | null }> {
  const engine = await createDetectionEngine({ classes, provider: 'cpu', packsDir: BENCH_PACKS_DIR });
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  try {
    const t = performance.now();
    const result = await processVideo({ id: stem, inputPath: input, outputDir, stem, params: { ...DEFAULT_PARAMS, classes }, engine, detectEvery });
    return { ms: performance.now() - t, peakRssMb: peak / 2 ** 20, result, faceDetector: engine.faceDetector ?? null };
  } finally {
    clearInterval(sampler);
    await engine.dispose();
  }
}

/** Pixels of the union of `boxes` (metadata bbox [x0, y0, x1, y1]) as a mask of the frame. */
function unionMask(boxes: number[][], width: number, height: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  for (const [x0, y0, x1, y1] of boxes) {
    const xa = Math.max(0, Math.floor(x0!));
    const xb = Math.min(width, Math.ceil(x1!));
    for (let y = Math.max(0, Math.floor(y0!)); y < Math.min(height, Math.ceil(y1!)); y++) mask.fill(1, y * width + xa, y * width + xb);
  }
  return mask;
}

export interface StrideCoverage {
  /** Smallest per-frame share of the stride-1 boxes' area that the stride-N boxes cover (frames with boxes). */
  minFrame: number;
  /** Covered area over all frames / stride-1 area over all frames. */
  overall: number;
  framesBelow98: number;
  framesWithBoxes: number;
}

/** Frame by frame: how much of the area of the stride-1 boxes the stride-N boxes cover (no annotations needed). */
export async function strideCoverage(dirRef: string, stemRef: string, dirTest: string, stemTest: string, width: number, height: number, frames: number, keep: (d: FrameMetadata['detections'][number]) => boolean = () => true): Promise<StrideCoverage> {
  const ref = (await readVideoMetadata(dirRef, stemRef, 0, frames - 1)).map((f) => ({ ...f, detections: f.detections.filter(keep) }));
  const got = await readVideoMetadata(dirTest, stemTest, 0, frames - 1);
  let minFrame = 1;
  let area = 0;
  let covered = 0;
  let framesBelow98 = 0;
  let framesWithBoxes = 0;
  for (let i = 0; i < ref.length; i++) {
    const a = unionMask(ref[i]!.detections.map((d) => d.bbox), width, height);
    const b = unionMask((got[i]?.detections ?? []).map((d) => d.bbox), width, height);
    let fa = 0;
    let fc = 0;
    for (let p = 0; p < a.length; p++) if (a[p]) { fa++; if (b[p]) fc++; }
    if (fa === 0) continue;
    framesWithBoxes++;
    area += fa;
    covered += fc;
    minFrame = Math.min(minFrame, fc / fa);
    if (fc / fa < 0.98) framesBelow98++;
  }
  return { minFrame, overall: area ? covered / area : 1, framesBelow98, framesWithBoxes };
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/**
 * The same coverage on parts of the stride-1 boxes: faces only, and the detector's own boxes only
 * (without the tracker's fills of stride 1: boxes coasting after, or backfilled before, a detection
 * on one frame, which a run that detects fewer frames cannot reproduce when the detection flickers).
 */
async function breakdown(dir: string, stemRef: string, stemTest: string, width: number, height: number, frames: number): Promise<string> {
  const faces = await strideCoverage(dir, stemRef, dir, stemTest, width, height, frames, (d) => d.type_label === 'face');
  const detected = await strideCoverage(dir, stemRef, dir, stemTest, width, height, frames, (d) => d.source === 'detected');
  const line = (c: StrideCoverage) => c.framesWithBoxes ? `min frame ${pct(c.minFrame)}, overall ${pct(c.overall)}, ${c.framesBelow98} of ${c.framesWithBoxes} frames under 98 %` : 'none';
  return `faces ${line(faces)}; detector boxes (no stride-1 tracker fills) ${line(detected)}`;
}

/** The first `frames` frames of a clip, re-encoded near-losslessly (so that both stride runs see the same input). */
export async function trimmed(input: string, output: string, frames: number): Promise<void> {
  const { ffmpeg } = requireFfmpeg();
  await run(ffmpeg, ['-v', 'error', '-y', '-i', input, '-map', '0:v:0', '-frames:v', String(frames), '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '16', output]);
}

export interface VideoFigures {
  fps1080: number;
  floorFps: number;
  detectEvery: number;
  coverage: { clip: string; coverage: StrideCoverage }[];
  peakRssMb: number;
}

/** `print` gets each line as soon as it is measured (a long run cut short keeps what it had). */
export async function benchVideo(print: (line: string) => void = () => {}): Promise<{ lines: string[]; figures: VideoFigures }> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-video-'));
  const lines: string[] = [];
  const say = (...more: string[]) => {
    lines.push(...more);
    more.forEach((l) => print(l));
  };
  const classes: ObjectClass[] = ['face', 'license-plate'];
  const stride = Number(process.env.BENCH_DETECT_EVERY ?? DEFAULT_DETECT_EVERY);
  /** Other strides measured beside the default (BENCH_OTHER_STRIDES, comma-separated), to choose the default from. */
  const others = (process.env.BENCH_OTHER_STRIDES ?? '').split(',').map(Number).filter((n) => n > 1 && n !== stride);
  const figures: VideoFigures = { fps1080: 0, floorFps: 0, detectEvery: stride, coverage: [], peakRssMb: 0 };
  try {
    const clip = join(dir, 'clip1080.mp4');
    await makeClip(clip, 1920, 1080, FRAMES_1080P);
    const floorMs = await codecFloorMs(clip, join(dir, 'floor.mp4'));
    const passthrough = await timedProcess(clip, join(dir, 'out'), 'passthrough', []);
    const every = await timedProcess(clip, join(dir, 'out'), 'faces-plates-1', classes, 1);
    const full = await timedProcess(clip, join(dir, 'out'), 'faces-plates', classes, stride);
    const n = full.result.frames;
    const fps = (ms: number, frames = n) => ((frames * 1000) / ms).toFixed(2);
    const t = full.result.timings;
    const cov = await strideCoverage(join(dir, 'out'), 'faces-plates-1', join(dir, 'out'), 'faces-plates', 1920, 1080, n);
    figures.fps1080 = (n * 1000) / full.ms;
    figures.floorFps = (n * 1000) / floorMs;
    figures.peakRssMb = Math.max(every.peakRssMb, full.peakRssMb);
    figures.coverage.push({ clip: '1080p pan', coverage: cov });
    const d = full.result.detectedFrames;
    say(
      `video 1080p (${n} frames, faces.jpg panned; x264 ${X264_PRESET} crf ${crfFromQuality(DEFAULT_PARAMS.quality)}; faces by ${full.faceDetector ?? '-'}, packs ${BENCH_PACKS_DIR ?? 'none (bundled models only)'}):`,
      `  codec floor (ffmpeg decode+encode alone): ${fps(floorMs)} fps (${floorMs.toFixed(0)} ms)`,
      `  pipeline, no classes (RGB pipes only):    ${fps(passthrough.ms)} fps, ${(passthrough.ms / floorMs).toFixed(2)}x floor`,
      `  pipeline, faces + plates, every frame:    ${fps(every.ms)} fps, ${(every.ms / floorMs).toFixed(2)}x floor, peak RSS ${every.peakRssMb.toFixed(0)} MB`,
      `  pipeline, faces + plates, --detect-every ${stride}: ${fps(full.ms)} fps, ${(full.ms / floorMs).toFixed(2)}x floor, peak RSS ${full.peakRssMb.toFixed(0)} MB; detected ${n - d.carry} of ${n} frames (${d['scene-cut']} scene cuts, ${d.lost} lost patches)`,
      `  stride ${stride} boxes cover stride-1 boxes: min frame ${pct(cov.minFrame)}, overall ${pct(cov.overall)}, ${cov.framesBelow98} of ${cov.framesWithBoxes} frames under 98 %`,
      `    of which: ${await breakdown(join(dir, 'out'), 'faces-plates-1', 'faces-plates', 1920, 1080, n)}`,
      `  per frame (stride ${stride}): detect ${(t.detect! / n).toFixed(0)} ms, render ${(t.render! / n).toFixed(0)} ms, encoder wait ${(t.encodeWait! / n).toFixed(0)} ms, decoder wait ${(t.decodeWait! / n).toFixed(0)} ms`,
    );

    for (const k of others) {
      const o = await timedProcess(clip, join(dir, 'out'), `faces-plates-s${k}`, classes, k);
      const c = await strideCoverage(join(dir, 'out'), 'faces-plates-1', join(dir, 'out'), `faces-plates-s${k}`, 1920, 1080, n);
      say(`  --detect-every ${k}: ${fps(o.ms)} fps; coverage of stride-1 boxes min frame ${pct(c.minFrame)}, overall ${pct(c.overall)}, ${c.framesBelow98} of ${c.framesWithBoxes} frames under 98 %`);
    }

    // Real clips (../shared/eval/videos, not in the repository): the same stride check, no annotations needed.
    const realFrames = Number(process.env.BENCH_VIDEO_REAL_FRAMES ?? 60);
    if (existsSync(REAL_CLIPS)) {
      for (const name of (await readdir(REAL_CLIPS)).filter((f) => f.endsWith('.mp4')).sort()) {
        const src = join(dir, `real-${name}`);
        await trimmed(join(REAL_CLIPS, name), src, realFrames);
        const a = await timedProcess(src, join(dir, 'out'), `${name}-1`, classes, 1);
        const b = await timedProcess(src, join(dir, 'out'), `${name}-n`, classes, stride);
        const c = await strideCoverage(join(dir, 'out'), `${name}-1`, join(dir, 'out'), `${name}-n`, a.result.width, a.result.height, a.result.frames);
        figures.coverage.push({ clip: name, coverage: c });
        for (const k of others) {
          const o = await timedProcess(src, join(dir, 'out'), `${name}-s${k}`, classes, k);
          const ck = await strideCoverage(join(dir, 'out'), `${name}-1`, join(dir, 'out'), `${name}-s${k}`, a.result.width, a.result.height, a.result.frames);
          say(`    ${name} --detect-every ${k}: ${fps(o.ms, o.result.frames)} fps; coverage min frame ${pct(ck.minFrame)}, overall ${pct(ck.overall)}, ${ck.framesBelow98} of ${ck.framesWithBoxes} frames under 98 %`);
        }
        say(
          `  real clip ${name} (${a.result.width}×${a.result.height}, first ${a.result.frames} frames): every frame ${fps(a.ms, a.result.frames)} fps, stride ${stride} ${fps(b.ms, b.result.frames)} fps; coverage min frame ${pct(c.minFrame)}, overall ${pct(c.overall)}, ${c.framesBelow98} of ${c.framesWithBoxes} frames under 98 %`,
          `    of which: ${await breakdown(join(dir, 'out'), `${name}-1`, `${name}-n`, a.result.width, a.result.height, a.result.frames)}`,
        );
      }
    } else {
      say(`  real clips: ${REAL_CLIPS} not present; stride coverage measured on the generated pan only`);
    }

    const long = join(dir, 'long720.mp4');
    await makeClip(long, 1280, 720, FRAMES_LONG);
    const rssBefore = process.memoryUsage().rss / 2 ** 20;
    const mem = await timedProcess(long, join(dir, 'out'), 'long', []);
    say(
      `  memory: ${mem.result.frames}-frame 720p clip streamed (no classes): RSS ${rssBefore.toFixed(0)} MB before, peak ${mem.peakRssMb.toFixed(0)} MB, ${fps(mem.ms, mem.result.frames)} fps`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { lines, figures };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await benchVideo((line) => console.log(line));
}
