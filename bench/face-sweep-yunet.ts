/**
 * YuNet (the `yunet` model pack) on an evaluation set's face images: runs each search plan once per image
 * at the decode floor, then sweeps the raw score threshold (coverage, small coverage, recall@0.5, FP/image,
 * ms/image). `node --import tsx bench/face-sweep-yunet.ts [dataset] [packs-dir] [limit]`
 * (defaults: ../shared/eval, ../shared/models-extra).
 */
import sharp from 'sharp';
import { SessionFactory } from '../src/detect/session.ts';
import { YUNET_PLANS, YunetFaceDetector, type YunetPlan } from '../src/detect/yunet/yunet.ts';
import { readEvalDataset } from '../src/eval/dataset.ts';
import { addTally, emptyTally, scoreImageLabel } from '../src/eval/metrics.ts';
import type { Detection } from '../src/types.ts';

const [dataset = '../shared/eval', packsDir = '../shared/models-extra', limitArg] = process.argv.slice(2);
const PLANS: Record<string, YunetPlan> = {
  zoom1: { ...YUNET_PLANS.balanced, maxZoom: 1 },
  zoom1_5: { ...YUNET_PLANS.balanced, maxZoom: 1.5 },
  balanced: YUNET_PLANS.balanced,
  zoom2_5: { ...YUNET_PLANS.balanced, maxZoom: 2.5 },
};
const THRESHOLDS = [0.5, 0.54, 0.57, 0.6, 0.62, 0.64, 0.66, 0.7];

let images = (await readEvalDataset(dataset)).filter((im) => im.annotated.includes('face'));
if (limitArg) images = images.slice(0, Number(limitArg));
const factory = new SessionFactory({ provider: 'cpu', modelsDir: packsDir, threads: 2 });
const yunet = await YunetFaceDetector.create(factory);
const decoded = [];
for (const im of images) {
  const { data, info } = await sharp(im.file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  decoded.push({ data, width: info.width, height: info.height });
}
for (const [name, plan] of Object.entries(PLANS)) {
  const found: Detection[][] = [];
  await yunet.detectRaw(decoded[0]!, plan);
  const t = performance.now();
  for (const rgb of decoded) found.push(await yunet.detectRaw(rgb, plan));
  const ms = (performance.now() - t) / images.length;
  const rows: string[] = [];
  for (const th of THRESHOLDS) {
    const tally = emptyTally();
    images.forEach((im, i) => {
      const truth = im.truth.filter((x) => x.cls === 'face').map((x) => x.box);
      addTally(tally, scoreImageLabel(truth, found[i]!.filter((d) => d.score >= th).map((d) => ({ ...d.box, score: d.score })), im.ignore));
    });
    rows.push(`  th ${th.toFixed(2)}: coverage ${(tally.covered / tally.truth).toFixed(3)} small ${(tally.smallCovered / tally.smallTruth).toFixed(3)} recall@0.5 ${(tally.matchedAtIou / tally.truth).toFixed(3)} FP/img ${(tally.falsePositives / images.length).toFixed(2)}`);
  }
  console.log(`${name} (${ms.toFixed(0)} ms/img, ${images.length} images)\n${rows.join('\n')}`);
}
await factory.dispose();
