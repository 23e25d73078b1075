// `npm run bench`: per-stage cost of the image pipeline on CPU against the codec floor
// (sharp decode + JPEG encode of the same image, measured in the same run). Not a test.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createDetectionEngine, type DetectionEngine } from '../src/detect/engine.ts';
import { processImage, type ImageResult } from '../src/pipeline/image/index.ts';
import { DEFAULT_PARAMS, type ObjectClass } from '../src/types.ts';
import { makeBenchImages, type BenchImage } from './images.ts';
import type { VideoFigures } from './video.ts';
import { fileURLToPath } from 'node:url';

const SHARED_PACKS = fileURLToPath(new URL('../../shared/models-extra', import.meta.url));
/** ANONYMISER_PACKS_DIR, else ../shared/models-extra when present (the YuNet pack the Docker image ships). */
const PACKS_DIR = process.env.ANONYMISER_PACKS_DIR ?? (existsSync(SHARED_PACKS) ? SHARED_PACKS : undefined);

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CLASS_SETS: { label: string; classes: ObjectClass[] }[] = [
  { label: 'faces+plates', classes: ['face', 'license-plate'] },
  { label: 'all four', classes: ['face', 'license-plate', 'person', 'vehicle'] },
];

/** Median: other work on the machine makes single runs jump; the median resists that better than the mean. */
const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));

/** Decode to raw pixels + encode JPEG q90: the least any anonymiser that re-encodes must spend. */
async function codecFloor(image: BenchImage, runs: number): Promise<{ decode: number[]; encode: number[] }> {
  const bytes = await readFile(image.path);
  const decode: number[] = [];
  const encode: number[] = [];
  for (let i = 0; i < runs + 1; i++) {
    const t0 = performance.now();
    const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
    const t1 = performance.now();
    await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
    const t2 = performance.now();
    if (i === 0) continue; // warm-up
    decode.push(t1 - t0);
    encode.push(t2 - t1);
  }
  return { decode, encode };
}

async function runOnce(engine: DetectionEngine, image: BenchImage, classes: ObjectClass[], outDir: string, n: number): Promise<{ result: ImageResult; ms: number }> {
  const params = { ...structuredClone(DEFAULT_PARAMS), classes };
  const t0 = performance.now();
  const result = await processImage({ id: `bench-${n}`, inputPath: image.path, outputDir: outDir, stem: `out-${n}`, params, engine });
  return { result, ms: performance.now() - t0 };
}

/** Images per second with `concurrency` images in flight on one engine (as the task queue runs them). */
async function throughput(engine: DetectionEngine, image: BenchImage, classes: ObjectClass[], outDir: string, concurrency: number): Promise<number> {
  const total = concurrency * 2;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await runOnce(engine, image, classes, outDir, next++);
    }),
  );
  return (total * 1000) / (performance.now() - t0);
}

async function benchImage(engine: DetectionEngine, image: BenchImage, classes: ObjectClass[], outDir: string): Promise<{ lines: string[]; ratio: number }> {
  await runOnce(engine, image, classes, outDir, 0); // warm-up: first inference allocates
  const runs: { result: ImageResult; ms: number }[] = [];
  const floorDecode: number[] = [];
  const floorEncode: number[] = [];
  // The floor is measured next to each pipeline run so both see the same machine load.
  for (let i = 0; i < RUNS; i++) {
    const f = await codecFloor(image, 1);
    floorDecode.push(...f.decode);
    floorEncode.push(...f.encode);
    runs.push(await runOnce(engine, image, classes, outDir, i));
  }
  const floor = { decode: median(floorDecode), encode: median(floorEncode) };
  const stages = [...new Set(runs.flatMap((r) => Object.keys(r.result.timings)))];
  const stageLine = stages.map((s) => `${s} ${fmt(median(runs.map((r) => r.result.timings[s] ?? 0)))}`).join(', ');
  const e2e = median(runs.map((r) => r.ms));
  const floorMs = floor.decode + floor.encode;
  const c1 = await throughput(engine, image, classes, outDir, 1);
  const c2 = await throughput(engine, image, classes, outDir, 2);
  const lines = [
    `  ${image.label}: ${runs[0].result.detections.length} objects`,
    `    ms per stage: ${stageLine}`,
    `    end-to-end ${fmt(e2e)} ms; codec floor ${fmt(floorMs)} ms (decode ${fmt(floor.decode)} + JPEG q90 encode ${fmt(floor.encode)}); ratio ${(e2e / floorMs).toFixed(2)}×`,
    `    images/s: ${c1.toFixed(2)} at concurrency 1, ${c2.toFixed(2)} at concurrency 2`,
  ];
  return { lines, ratio: e2e / floorMs };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'anonymiser-bench-'));
  const lines: string[] = [];
  const print = (line: string) => {
    lines.push(line);
    console.log(line);
  };
  try {
    const images = await makeBenchImages(dir);
    /** End-to-end / codec floor, by "<class set>|<image width>", for the targets (issue 14). */
    const ratios = new Map<string, number>();
    let video: VideoFigures | undefined;
    const loadAtStart = loadavg();
    print(`load average at start ${loadAtStart.map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores (the machine is shared: figures are medians)`);
    print(`image pipeline benchmark, CPU, median of ${RUNS} timed runs after one warm-up (BENCH_RUNS to change); method blur, save-mask all`);
    print(`inputs made from test/fixtures/faces.jpg (public domain/CC0): 12 MP = scaled to 2000 px and tiled 2×3; 1080p = scaled to cover`);
    // BENCH_SETS="all four" (comma-separated labels) benches only those class sets.
    const onlySets = process.env.BENCH_SETS?.split(',').map((s) => s.trim());
    for (const set of CLASS_SETS.filter((s) => !onlySets || onlySets.includes(s.label))) {
      let engine: DetectionEngine;
      try {
        // ANONYMISER_PACKS_DIR (e.g. a folder filled by `anonymiser models fetch`) benches the model packs too.
        engine = await createDetectionEngine({ classes: set.classes, provider: 'cpu', packsDir: PACKS_DIR });
      } catch (err) {
        print(`${set.label}: engine unavailable: ${(err as Error).message}`);
        continue;
      }
      print(`${set.label} (provider ${engine.provider}${engine.faceDetector ? `, faces by ${engine.faceDetector}` : ''}):`);
      try {
        for (const image of images) {
          const { lines: imageLines, ratio } = await benchImage(engine, image, set.classes, join(dir, 'out'));
          for (const line of imageLines) print(line);
          ratios.set(`${set.label}|${image.width}`, ratio);
        }
      } finally {
        await engine.dispose();
      }
    }
    print(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);

    // ---- video (added by the video pipeline engineer: bench/video.ts exports benchVideo(): Promise<string[]>) ----
    const videoBench = new URL('./video.ts', import.meta.url);
    if (process.env.BENCH_VIDEO === '0') {
      print('video: skipped (BENCH_VIDEO=0)');
    } else if (existsSync(videoBench)) {
      const { benchVideo } = (await import(videoBench.href)) as typeof import("./video.ts");
      const v = await benchVideo(print);
      video = v.figures;
    } else {
      print('video: bench/video.ts not present yet');
    }
    // ---- end video ----

    // ---- load and faults (hardening, issue 11: bench/load.ts; BENCH_LOAD=0 skips it) ----
    if (process.env.BENCH_LOAD !== '0') {
      const { benchLoad } = await import('./load.ts');
      for (const line of await benchLoad()) print(line);
    }
    // ---- end load ----

    // ---- replicas (scale-out, issue 15: bench/replicas.ts; BENCH_REPLICAS=0 skips it) ----
    if (process.env.BENCH_REPLICAS !== '0') {
      const { benchReplicas } = await import('./replicas.ts');
      for (const line of await benchReplicas()) print(line);
    }
    // ---- end replicas ----
    // ---- targets (issue 14), each beside its figure; the codec floors were measured in this run ----
    const peakRss = process.resourceUsage().maxRSS / 1024;
    const mark = (ok: boolean | undefined) => (ok === undefined ? 'not measured' : ok ? 'met' : 'NOT met');
    const twelve = ratios.get('all four|4000');
    const hd = ratios.get('faces+plates|1920');
    const minCoverage = video?.coverage.length ? Math.min(...video.coverage.map((c) => c.coverage.minFrame)) : undefined;
    print(`targets (2-core CPU; load average at end ${loadavg().map((l) => l.toFixed(1)).join(' ')}):`);
    print(`  12 MP all four            ${twelve?.toFixed(2) ?? '-'}× codec floor      target <= 8×      ${mark(twelve === undefined ? undefined : twelve <= 8)}`);
    print(`  1080p faces+plates        ${hd?.toFixed(2) ?? '-'}× codec floor      target <= 15×     ${mark(hd === undefined ? undefined : hd <= 15)}`);
    print(`  1080p video faces+plates  ${video ? video.fps1080.toFixed(2) : '-'} fps (--detect-every ${video?.detectEvery ?? '-'}; codec floor ${video ? video.floorFps.toFixed(1) : '-'} fps)   target >= 4 fps   ${mark(video && video.fps1080 >= 4)}`);
    print(`  stride coverage           min frame ${minCoverage === undefined ? '-' : (minCoverage * 100).toFixed(1) + ' %'} over ${video?.coverage.map((c) => c.clip).join(', ') ?? '-'}   target >= 98 %   ${mark(minCoverage === undefined ? undefined : minCoverage >= 0.98)}`);
    print(`  peak RSS                  ${peakRss.toFixed(0)} MiB                 target <= 1536 MiB  ${mark(peakRss <= 1536)}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
