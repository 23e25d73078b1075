/**
 * Face ensemble candidates on an evaluation set: runs each member once per image at the decode floor,
 * then scores member combinations over a threshold sweep (coverage, small coverage, FP/image, ms/image).
 * `node --import tsx bench/face-sweep.ts <dataset> [limit]`
 */
import sharp from 'sharp';
import { DECODE_FLOOR, FaceDetector, type FaceDetectorOptions } from '../src/detect/mediapipe-face/face.ts';
import { fuseFaces } from '../src/detect/face-ensemble/face-ensemble.ts';
import { SessionFactory } from '../src/detect/session.ts';
import { readEvalDataset } from '../src/eval/dataset.ts';
import { addTally, emptyTally, scoreImageLabel } from '../src/eval/metrics.ts';
import type { Detection } from '../src/types.ts';

const [dataset = '../shared/eval', limitArg] = process.argv.slice(2);
const MEMBERS: Record<string, Partial<FaceDetectorOptions>> = {
  full: { model: 'full-range' },
  back: { model: 'back-256' },
  ssdWhole: { model: 'ssd-mobilenet', zooms: [] },
  ssdTiles2: { model: 'ssd-mobilenet', zooms: [2] },
};
const COMBOS: string[][] = [['full', 'back'], ['ssdWhole'], ['ssdTiles2'], ['full', 'back', 'ssdWhole'], ['full', 'back', 'ssdTiles2'], ['back', 'ssdTiles2'], ['full', 'ssdTiles2']];
const THRESHOLDS = [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8];

let images = (await readEvalDataset(dataset)).filter((im) => im.annotated.includes('face'));
if (limitArg) images = images.slice(0, Number(limitArg));
const factory = new SessionFactory({ provider: 'cpu' });
const detectors = Object.fromEntries(await Promise.all(Object.entries(MEMBERS).map(async ([k, o]) => [k, await FaceDetector.create(factory, o)] as const)));
const found: Record<string, Detection[][]> = Object.fromEntries(Object.keys(MEMBERS).map((k) => [k, []]));
const ms: Record<string, number> = Object.fromEntries(Object.keys(MEMBERS).map((k) => [k, 0]));
for (const im of images) {
  const { data, info } = await sharp(im.file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const rgb = { data, width: info.width, height: info.height };
  for (const [k, d] of Object.entries(detectors)) {
    const t = performance.now();
    found[k]!.push(await d.detectAbove(rgb, DECODE_FLOOR));
    ms[k]! += performance.now() - t;
  }
}
console.log(`${images.length} images; ms/image per member: ${Object.entries(ms).map(([k, v]) => `${k} ${(v / images.length).toFixed(0)}`).join(', ')}`);
for (const combo of COMBOS) {
  const perImage = images.map((_, i) => fuseFaces(combo.map((k) => found[k]![i]!)));
  const rows: string[] = [];
  for (const th of THRESHOLDS) {
    const tally = emptyTally();
    images.forEach((im, i) => {
      const truth = im.truth.filter((t) => t.cls === 'face').map((t) => t.box);
      const dets = perImage[i]!.filter((d) => d.score >= th).map((d) => ({ ...d.box, score: d.score }));
      addTally(tally, scoreImageLabel(truth, dets, im.ignore));
    });
    rows.push(`  th ${th.toFixed(2)}: coverage ${(tally.covered / tally.truth).toFixed(3)} recall@0.5 ${(tally.matchedAtIou / tally.truth).toFixed(3)} small ${(tally.smallCovered / tally.smallTruth).toFixed(3)} FP/img ${(tally.falsePositives / images.length).toFixed(2)}`);
  }
  console.log(`${combo.join('+')} (${combo.reduce((n, k) => n + ms[k]!, 0) / images.length | 0} ms/img)\n${rows.join('\n')}`);
}
await factory.dispose?.();
