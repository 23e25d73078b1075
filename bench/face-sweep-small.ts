/**
 * Small-face variants of the face ensemble on an evaluation set: runs full range and the SSD with and
 * without an extra zoom-3 level on small frames, unpadded, once per image (cached in /tmp), then scores
 * fusion rules x box padding x threshold (coverage, small coverage, FP/image).
 * `node --import tsx bench/face-sweep-small.ts <dataset> [limit]`
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { DECODE_FLOOR, FaceDetector, type FaceDetectorOptions } from '../src/detect/mediapipe-face/face.ts';
import { fuseFaces } from '../src/detect/face-ensemble/face-ensemble.ts';
import { SessionFactory } from '../src/detect/session.ts';
import { readEvalDataset } from '../src/eval/dataset.ts';
import { addTally, emptyTally, scoreImageLabel } from '../src/eval/metrics.ts';
import type { Detection } from '../src/types.ts';

const [dataset = '../shared/eval', limitArg] = process.argv.slice(2);
const NO_PAD = { padX: 0, padTop: 0, padBottom: 0 };
const MEMBERS: Record<string, Partial<FaceDetectorOptions>> = {
  full: { model: 'full-range', ...NO_PAD },
  ssd2: { model: 'ssd-mobilenet', zooms: [2], ...NO_PAD },
  ssd23: { model: 'ssd-mobilenet', zooms: [2], smallFrames: { maxSide: 640, zooms: [2, 3] }, ...NO_PAD },
  ssd3: { model: 'ssd-mobilenet', zooms: [2], smallFrames: { maxSide: 640, zooms: [3] }, ...NO_PAD },
  ssd25: { model: 'ssd-mobilenet', zooms: [2], smallFrames: { maxSide: 640, zooms: [2.5] }, ...NO_PAD },
};
const run = process.env.MEMBERS?.split(',') ?? Object.keys(MEMBERS);
for (const k of Object.keys(MEMBERS)) if (!run.includes(k)) delete MEMBERS[k];
let images = (await readEvalDataset(dataset)).filter((im) => im.annotated.includes('face'));
if (limitArg) images = images.slice(0, Number(limitArg));
const cache = `/tmp/face-sweep-small-${images.length}-${run.join('+')}.json`;
let found: Record<string, Detection[][]>;
let sizes: number[];
if (existsSync(cache)) ({ found, sizes } = JSON.parse(readFileSync(cache, 'utf8')));
else {
  const factory = new SessionFactory({ provider: 'cpu' });
  const detectors = Object.fromEntries(await Promise.all(Object.entries(MEMBERS).map(async ([k, o]) => [k, await FaceDetector.create(factory, o)] as const)));
  found = Object.fromEntries(Object.keys(MEMBERS).map((k) => [k, []]));
  sizes = [];
  const ms: Record<string, number> = Object.fromEntries(Object.keys(MEMBERS).map((k) => [k, 0]));
  for (const im of images) {
    const { data, info } = await sharp(im.file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const rgb = { data, width: info.width, height: info.height };
    sizes.push(Math.max(info.width, info.height));
    for (const [k, d] of Object.entries(detectors)) {
      const t = performance.now();
      found[k]!.push(await d.detectAbove(rgb, DECODE_FLOOR));
      ms[k]! += performance.now() - t;
    }
  }
  console.log(`${images.length} images; ms/image per member: ${Object.entries(ms).map(([k, v]) => `${k} ${(v / images.length).toFixed(0)}`).join(', ')}`);
  writeFileSync(cache, JSON.stringify({ found, sizes }));
}
const PADS: Record<string, [number, number, number]> = { shipped: [0.1, 0.1, 0.25], wide: [0.15, 0.15, 0.3], wider: [0.2, 0.2, 0.3], sym: [0.15, 0.15, 0.15] };
const pad = (dets: Detection[], [px, pt, pb]: [number, number, number], w: number) =>
  dets.map((d) => {
    const bw = d.box.x1 - d.box.x0;
    const bh = d.box.y1 - d.box.y0;
    return { ...d, box: { x0: d.box.x0 - bw * px, x1: d.box.x1 + bw * px, y0: d.box.y0 - bh * pt, y1: d.box.y1 + bh * pb } };
  });
// Fusion: mean of the two scores (lone faces weighted 0.5), or lone SSD faces weighted more.
const RULES: Record<string, [number, number]> = { mean: [0.5, 0.5], 'ssd*0.55': [0.5, 0.55], 'ssd*0.6': [0.5, 0.6], 'ssd*0.667': [0.5, 0.667] };
const only = process.env.ONLY?.split(',');
const rawImages: { file: string; subset?: string }[] = JSON.parse(readFileSync(`${dataset}/annotations.json`, 'utf8')).images;
const subsetOf = (file: string) => rawImages.find((r) => file.endsWith(r.file))?.subset ?? '?';
for (const ssd of run.filter((k) => k !== 'full')) {
  for (const [pk, p] of Object.entries(PADS)) {
    if (only && !only.includes(pk)) continue;
    for (const [rk, weights] of Object.entries(RULES)) {
      const rows: string[] = [];
      for (const th of [0.3, 0.35, 0.4]) {
        const tally = emptyTally();
        const bySubset = new Map<string, ReturnType<typeof emptyTally>>();
        images.forEach((im, i) => {
          const perModel = [found.full![i]!, found[ssd]![i]!].map((d) => pad(d, p, sizes[i]!));
          const kept = fuseFaces(perModel, weights).filter((d) => d.score >= th);
          const truth = im.truth.filter((t) => t.cls === 'face').map((t) => t.box);
          const scored = scoreImageLabel(truth, kept.map((d) => ({ ...d.box, score: d.score })), im.ignore);
          addTally(tally, scored);
          const sub = subsetOf(im.file);
          if (!bySubset.has(sub)) bySubset.set(sub, emptyTally());
          addTally(bySubset.get(sub)!, scored);
        });
        rows.push(`th ${th.toFixed(2)}: cov ${(tally.covered / tally.truth).toFixed(3)} r@.5 ${(tally.matchedAtIou / tally.truth).toFixed(3)} small ${(tally.smallCovered / tally.smallTruth).toFixed(3)} FP ${(tally.falsePositives / images.length).toFixed(2)} | ${[...bySubset].map(([k, t]) => `${k} ${(t.covered / t.truth).toFixed(3)}/${t.falsePositives}fp`).join(' ')}`);
      }
      console.log(`${ssd} pad=${pk} ${rk}\n  ${rows.join('\n  ')}`);
    }
  }
}
