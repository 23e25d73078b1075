/**
 * Persons and vehicles on an evaluation set's street images: runs NanoDet once per image per search variant
 * (tile zoom levels) at a low floor, then sweeps each class's threshold (coverage, small coverage, FP/image)
 * and breaks the misses down by size and source class at the default thresholds.
 * `node --import tsx bench/object-sweep.ts [dataset] [variant…]` (default ../shared/eval; variants below).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { ObjectDetector } from '../src/detect/nanodet/objects.ts';
import { SessionFactory } from '../src/detect/session.ts';
import { readEvalDataset } from '../src/eval/dataset.ts';
import { addTally, emptyTally, scoreImageLabel } from '../src/eval/metrics.ts';
import { DEFAULT_THRESHOLDS, type Box, type Detection } from '../src/types.ts';
import { intersectionArea } from '../src/detect/boxes.ts';

const [dataset = '../shared/eval', ...only] = process.argv.slice(2);
const VARIANTS: Record<string, number[]> = { native: [1], 'zoom1.5': [1.5], zoom2: [2], 'native+1.5': [1, 1.5], 'native+2': [1, 2] };
const THRESHOLDS = [0.25, 0.28, 0.3, 0.32, 0.34, 0.36, 0.4, 0.45];

const raw = JSON.parse(await readFile(path.join(dataset, 'annotations.json'), 'utf8')) as { images: { file: string; boxes: { label: string; source_label?: string; x: number; y: number; w: number; h: number }[] }[] };
const sourceLabels = new Map(raw.images.map((im) => [path.join(dataset, im.file), im.boxes]));
const images = (await readEvalDataset(dataset)).filter((im) => im.annotated.includes('person') || im.annotated.includes('vehicle'));
const factory = new SessionFactory({ provider: 'cpu', threads: 2 });
const decoded = [];
for (const im of images) {
  const { data, info } = await sharp(im.file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  decoded.push({ data, width: info.width, height: info.height });
}
const bucket = (b: Box) => { const h = b.y1 - b.y0; return h < 32 ? '<32' : h < 96 ? '32-96' : '>=96'; };
for (const [name, zooms] of Object.entries(VARIANTS)) {
  if (only.length && !only.includes(name)) continue;
  const detector = await ObjectDetector.create(factory, { tileZooms: zooms });
  const found: Detection[][] = [];
  const t = performance.now();
  for (const rgb of decoded) found.push(await detector.detect(rgb, { classes: ['person', 'vehicle'], thresholds: { ...DEFAULT_THRESHOLDS, person: 0.2, vehicle: 0.2 } }));
  const ms = (performance.now() - t) / images.length;
  console.log(`${name} (tile zooms ${zooms.join(', ')}): ${ms.toFixed(0)} ms/img, ${images.length} images`);
  for (const cls of ['person', 'vehicle'] as const) {
    for (const th of THRESHOLDS) {
      const tally = emptyTally();
      let n = 0;
      images.forEach((im, i) => {
        if (!im.annotated.includes(cls)) return;
        n++;
        const truth = im.truth.filter((x) => x.cls === cls).map((x) => x.box);
        addTally(tally, scoreImageLabel(truth, found[i]!.filter((d) => d.cls === cls && d.score >= th).map((d) => ({ ...d.box, score: d.score })), im.ignore));
      });
      console.log(`  ${cls} th ${th.toFixed(2)}: coverage ${(tally.covered / tally.truth).toFixed(3)} small ${(tally.smallCovered / tally.smallTruth).toFixed(3)} recall@0.5 ${(tally.matchedAtIou / tally.truth).toFixed(3)} FP/img ${(tally.falsePositives / n).toFixed(2)} (${tally.truth} gt)`);
    }
    // Misses at the default threshold, by height and source class (coverage rule: < 70 % of the box under detections).
    const misses = new Map<string, [number, number]>();
    images.forEach((im, i) => {
      if (!im.annotated.includes(cls)) return;
      const dets = found[i]!.filter((d) => d.cls === cls && d.score >= DEFAULT_THRESHOLDS[cls]).map((d) => d.box);
      for (const b of (sourceLabels.get(im.file) ?? []).filter((x) => (x.label === cls))) {
        const box = { x0: b.x, y0: b.y, x1: b.x + b.w, y1: b.y + b.h };
        const covered = coveredFraction(box, dets) >= 0.7;
        for (const key of [`size ${bucket(box)}`, `class ${b.source_label ?? cls}`]) {
          const e = misses.get(key) ?? [0, 0];
          e[0]++;
          if (!covered) e[1]++;
          misses.set(key, e);
        }
      }
    });
    console.log(`  ${cls} misses at ${DEFAULT_THRESHOLDS[cls]}: ${[...misses].sort().map(([k, [all, miss]]) => `${k} ${miss}/${all}`).join(', ')}`);
  }
}
await factory.dispose();

/** Fraction of `box` under the union of `dets`, on a coarse grid (enough for a breakdown). */
function coveredFraction(box: Box, dets: Box[]): number {
  const n = 20;
  let inside = 0;
  const w = (box.x1 - box.x0) / n, h = (box.y1 - box.y0) / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    const x = box.x0 + (i + 0.5) * w, y = box.y0 + (j + 0.5) * h;
    if (dets.some((d) => intersectionArea(d, { x0: x, y0: y, x1: x + 1e-3, y1: y + 1e-3 }) > 0)) inside++;
  }
  return inside / (n * n);
}
