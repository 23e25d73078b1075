// Inference threading on this machine: one image through the whole pipeline, several times, with the sessions
// on the calling thread or in worker threads and chosen intra-op thread counts; prints median ms per stage and
// the process's CPU time per image. Not a test. Used to pick MODEL_THREADS (src/detect/session.ts).
//   SESSION_WORKERS=0|1   (default 1)   THREADS=n (every model)   MODEL_THREADS="nanodet_coco.onnx=1,yunet_n_dynamic.onnx=2"
//   IMAGE=12mp|1080p (default 12mp)   CLASSES=face,license-plate,person,vehicle   RUNS=3   CONCURRENCY=1
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDetectionEngine } from '../src/detect/engine.ts';
import { MODEL_THREADS } from '../src/detect/session.ts';
import { processImage } from '../src/pipeline/image/index.ts';
import { DEFAULT_PARAMS, type ObjectClass } from '../src/types.ts';
import { makeBenchImages } from './images.ts';

const env = process.env;
const runs = Number(env.RUNS ?? 3);
const concurrency = Number(env.CONCURRENCY ?? 1);
const classes = (env.CLASSES ?? 'face,license-plate,person,vehicle').split(',') as ObjectClass[];
for (const pair of (env.MODEL_THREADS ?? '').split(',').filter(Boolean)) {
  const [file, n] = pair.split('=');
  MODEL_THREADS[file!] = Number(n);
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const dir = await mkdtemp(join(tmpdir(), 'anonymiser-threads-'));
try {
  const images = await makeBenchImages(dir);
  const image = images.find((i) => (env.IMAGE ?? '12mp') === '1080p' ? i.width === 1920 : i.width === 4000)!;
  const engine = await createDetectionEngine({
    classes,
    provider: 'cpu',
    packsDir: env.ANONYMISER_PACKS_DIR ?? '../shared/models-extra',
    threads: env.THREADS ? Number(env.THREADS) : undefined,
    sessionWorkers: env.SESSION_WORKERS !== '0',
  });
  const params = { ...structuredClone(DEFAULT_PARAMS), classes };
  let n = 0;
  const one = () => processImage({ id: `t${n}`, inputPath: image.path, outputDir: join(dir, 'out'), stem: `o${n++}`, params, engine });
  await one();
  const timings: Record<string, number>[] = [];
  const walls: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const results = await Promise.all(Array.from({ length: concurrency }, () => one()));
    walls.push(performance.now() - start);
    timings.push(...results.map((r) => r.timings));
  }
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const stages = [...new Set(timings.flatMap((t) => Object.keys(t)))];
  const images_ = runs * concurrency;
  console.log(
    `${image.label} ${classes.join('+')} workers=${env.SESSION_WORKERS !== '0'} threads=${env.THREADS ?? '-'} model_threads=${env.MODEL_THREADS ?? '-'} concurrency=${concurrency}: ` +
      `${median(walls).toFixed(0)} ms per batch (median), ${((images_ * 1000) / wall).toFixed(2)} images/s, CPU ${((cpu.user + cpu.system) / 1000 / images_).toFixed(0)} ms/image; ` +
      stages.map((s) => `${s} ${median(timings.map((t) => t[s] ?? 0)).toFixed(0)}`).join(', '),
  );
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  await engine.dispose();
} finally {
  await rm(dir, { recursive: true, force: true });
}
