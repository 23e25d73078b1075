/**
 * YuNet test-time augmentation on an evaluation set's face images: runs each pass kind once per image (mirrored,
 * other zooms; boxes at the decode floor, NMS'd per pass), then fuses them per variant (score voting, `voteBoxes`)
 * and sweeps the raw score threshold. Prints, per variant, the lowest threshold with ≤ 0.45 and ≤ 0.40 FP/image and
 * coverage, small (< 20 px) coverage, recall@0.5 and ms/image (sum of its passes' times) there.
 * `node --import tsx bench/face-vote-yunet.ts [dataset] [packs-dir] [limit]` (defaults: ../shared/eval, ../shared/models-extra).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';
import type { ScoredBox } from '../src/detect/boxes.ts';
import { SessionFactory } from '../src/detect/session.ts';
import { RetinafaceDetector } from './retinaface.ts';
import { mergeYunetPasses, YunetFaceDetector, type YunetPass } from '../src/detect/yunet/yunet.ts';
import type { VoteOptions } from '../src/detect/yunet/yunet-decode.ts';
import { readEvalDataset } from '../src/eval/dataset.ts';
import { addTally, emptyTally, scoreImageLabel } from '../src/eval/metrics.ts';

const [dataset = '../shared/eval', packsDir = '../shared/models-extra', limitArg] = process.argv.slice(2);
let images = (await readEvalDataset(dataset)).filter((im) => im.annotated.includes('face'));
if (limitArg) images = images.slice(0, Number(limitArg));
const factory = new SessionFactory({ provider: 'cpu', modelsDir: packsDir, threads: 2 });
const yunet = await YunetFaceDetector.create(factory);
const yunetS = await YunetFaceDetector.create(factory, 'balanced', undefined, 'yunet_s_dynamic.onnx');
const retina = await RetinafaceDetector.create(factory);

const UPSCALED_MAX_INPUT = 320;
/** Pass kinds: zoom, mirrored; upscaled passes keep faces up to 160 image px (as the 2× plan), native ones from 128 px. */
const KINDS: Record<string, { zoom: number; flip: boolean; model?: 'yunet-s' | 'retinaface'}> = {
  ys2: { zoom: 2, flip: false, model: 'yunet-s' },
  rf15: { zoom: 1.5, flip: false, model: 'retinaface' },
  rf1: { zoom: 1, flip: false, model: 'retinaface' },
  n1: { zoom: 1, flip: false },
  n05: { zoom: 0.5, flip: false },
  n1f: { zoom: 1, flip: true },
  z2: { zoom: 2, flip: false },
  z2f: { zoom: 2, flip: true },
  z175: { zoom: 1.75, flip: false },
  z225: { zoom: 2.25, flip: false },
  z225f: { zoom: 2.25, flip: true },
  z25: { zoom: 2.5, flip: false },
  z15: { zoom: 1.5, flip: false },
};
const SPLIT = UPSCALED_MAX_INPUT / 2;
const passOf = (kind: string, width: number, height: number, vote?: number): YunetPass => {
  const { zoom, flip } = KINDS[kind]!;
  const region = { x0: 0, y0: 0, x1: width, y1: height };
  return zoom <= 1 ? { region, zoom, flip, minFace: SPLIT * 0.8, vote } : { region, zoom, flip, maxFace: Math.min(SPLIT, UPSCALED_MAX_INPUT / zoom), vote };
};

const decoded: { data: Buffer; width: number; height: number }[] = [];
for (const im of images) {
  const { data, info } = await sharp(im.file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  decoded.push({ data, width: info.width, height: info.height });
}
// CACHE=<file.json>: pass boxes and times read from / written to that file (for quick re-fusion).
const cache = process.env.CACHE && existsSync(process.env.CACHE) ? (JSON.parse(readFileSync(process.env.CACHE, 'utf8')) as { boxes: Record<string, ScoredBox[][]>; ms: Record<string, number> }) : undefined;
const boxes: Record<string, ScoredBox[][]> = cache?.boxes ?? {};
const msPerKind: Record<string, number> = cache?.ms ?? {};
for (const kind of Object.keys(KINDS)) {
  if (boxes[kind]) continue;
  const model = KINDS[kind]!.model;
  const run = (rgb: (typeof decoded)[number]) => {
    const pass = passOf(kind, rgb.width, rgb.height);
    if (model === 'retinaface') return retina.boxes(rgb, pass.zoom, 0.2, pass.maxFace);
    return (model === 'yunet-s' ? yunetS : yunet).passBoxes(rgb, pass, true);
  };
  await run(decoded[0]!);
  const t = performance.now();
  boxes[kind] = [];
  for (const rgb of decoded) boxes[kind]!.push(await run(rgb));
  msPerKind[kind] = (performance.now() - t) / decoded.length;
}
if (process.env.CACHE) writeFileSync(process.env.CACHE, JSON.stringify({ boxes, ms: msPerKind }));
console.log(`${images.length} images; ms/img per pass: ${Object.entries(msPerKind).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);

/** A variant: groups of pass kinds; a group of one is not voted, a larger group is fused by voting. */
type Variant = { groups: string[][]; vote?: VoteOptions };
const mean = (lone: number, iou = 0.5): VoteOptions => ({ iou, combine: 'mean', agreeBonus: 0, lone });
const max = (bonus: number, lone: number): VoteOptions => ({ iou: 0.5, combine: 'max', agreeBonus: bonus, lone });
const VARIANTS: Record<string, Variant> = {
  'n1 + z2 (today)': { groups: [['n1'], ['z2']] },
  'n1 + rf15 alone': { groups: [['n1'], ['rf15']] },
  'n1 + ys2 alone': { groups: [['n1'], ['ys2']] },
  'n1 + vote(z2,rf15) mean lone 0.5': { groups: [['n1'], ['z2', 'rf15']], vote: mean(0.5) },
  'n1 + vote(z2,rf15) mean lone 0.7': { groups: [['n1'], ['z2', 'rf15']], vote: mean(0.7) },
  'n1 + vote(z2,rf15) mean lone 0.8': { groups: [['n1'], ['z2', 'rf15']], vote: mean(0.8) },
  'n1 + vote(z2,rf15) max lone 0.7': { groups: [['n1'], ['z2', 'rf15']], vote: max(0, 0.7) },
  'n1 + vote(z2,rf15) max+0.05 lone 0.8': { groups: [['n1'], ['z2', 'rf15']], vote: max(0.05, 0.8) },
  'n1 + vote(z2,rf1) mean lone 0.7': { groups: [['n1'], ['z2', 'rf1']], vote: mean(0.7) },
  'n1 + vote(z2,ys2) mean lone 0.7': { groups: [['n1'], ['z2', 'ys2']], vote: mean(0.7) },
  'n1 + vote(z2,ys2) mean lone 0.8': { groups: [['n1'], ['z2', 'ys2']], vote: mean(0.8) },
  'n1 + vote(z2,z2f,rf15) mean lone 0.8': { groups: [['n1'], ['z2', 'z2f', 'rf15']], vote: mean(0.8) },
  'n1 + vote(z2,ys2,rf15) mean lone 0.8': { groups: [['n1'], ['z2', 'ys2', 'rf15']], vote: mean(0.8) },
  'n1 + vote(z2,z2f) mean lone 0.8 iou 0.3': { groups: [['n1'], ['z2', 'z2f']], vote: mean(0.8, 0.3) },
  'n1 + vote(z2,z2f) mean lone 0.8 iou 0.4': { groups: [['n1'], ['z2', 'z2f']], vote: mean(0.8, 0.4) },
  'n1 + vote(z2,z2f) mean lone 0.9 iou 0.4': { groups: [['n1'], ['z2', 'z2f']], vote: mean(0.9, 0.4) },
  'n1 + vote(z2,z2f) mean lone 1 iou 0.4': { groups: [['n1'], ['z2', 'z2f']], vote: mean(1, 0.4) },
  'n1 + vote(z2,z2f) mean lone 0.7 iou 0.3': { groups: [['n1'], ['z2', 'z2f']], vote: mean(0.7, 0.3) },
  'n1 + vote(z2,z2f,ys2) mean lone 0.8 iou 0.4': { groups: [['n1'], ['z2', 'z2f', 'ys2']], vote: mean(0.8, 0.4) },
  'n1 + vote(z2,ys2) mean lone 0.8 iou 0.4': { groups: [['n1'], ['z2', 'ys2']], vote: mean(0.8, 0.4) },
  'n1 + vote(z2,z25) mean lone 0.8 iou 0.4': { groups: [['n1'], ['z2', 'z25']], vote: mean(0.8, 0.4) },
  'n05 + z2': { groups: [['n05'], ['z2']] },
  'n05 + vote(z2,z2f) mean lone 0.8 iou 0.4': { groups: [['n05'], ['z2', 'z2f']], vote: mean(0.8, 0.4) },
  'n1 + z2 + z2f (no vote, union)': { groups: [['n1'], ['z2'], ['z2f']] },
  'n1 + vote(z2,z2f) mean lone 0.5': { groups: [['n1'], ['z2', 'z2f']], vote: mean(0.5) },
  'n1 + vote(z2,z2f) mean lone 0.7': { groups: [['n1'], ['z2', 'z2f']], vote: mean(0.7) },
  'n1 + vote(z2,z2f) mean lone 0.8': { groups: [['n1'], ['z2', 'z2f']], vote: mean(0.8) },
  'n1 + vote(z2,z2f) mean lone 0.9': { groups: [['n1'], ['z2', 'z2f']], vote: mean(0.9) },
  'n1 + vote(z2,z2f) max+0.05 lone 0.8': { groups: [['n1'], ['z2', 'z2f']], vote: max(0.05, 0.8) },
  'n1 + vote(z2,z2f) max+0.1 lone 0.9': { groups: [['n1'], ['z2', 'z2f']], vote: max(0.1, 0.9) },
  'n1 + vote(z2,z2f) max lone 0.8': { groups: [['n1'], ['z2', 'z2f']], vote: max(0, 0.8) },
  'vote(n1,n1f) + vote(z2,z2f) mean lone 0.8': { groups: [['n1', 'n1f'], ['z2', 'z2f']], vote: mean(0.8) },
  'n1 + vote(z2,z25) mean lone 0.8': { groups: [['n1'], ['z2', 'z25']], vote: mean(0.8) },
  'n1 + vote(z175,z225) mean lone 0.8': { groups: [['n1'], ['z175', 'z225']], vote: mean(0.8) },
  'n1 + vote(z2,z225f) mean lone 0.8': { groups: [['n1'], ['z2', 'z225f']], vote: mean(0.8) },
  'n1 + vote(z15,z2) mean lone 0.8': { groups: [['n1'], ['z15', 'z2']], vote: mean(0.8) },
  'n1 + vote(z2,z2f,z25) mean lone 0.8': { groups: [['n1'], ['z2', 'z2f', 'z25']], vote: mean(0.8) },
  'n1 + vote(z175,z2f,z225) mean lone 0.8': { groups: [['n1'], ['z175', 'z2f', 'z225']], vote: mean(0.8) },
};
const only = process.env.VARIANTS ? new RegExp(process.env.VARIANTS) : undefined;
const THRESHOLDS = Array.from({ length: 101 }, (_, i) => 0.3 + i * 0.005);
for (const [name, variant] of Object.entries(VARIANTS)) {
  if (only && !only.test(name)) continue;
  const kinds = variant.groups.flat();
  const found = decoded.map((rgb, i) => {
    const passes: YunetPass[] = [];
    const perPass: ScoredBox[][] = [];
    variant.groups.forEach((group, g) => {
      for (const kind of group) {
        passes.push(passOf(kind, rgb.width, rgb.height, group.length > 1 ? g : undefined));
        perPass.push(boxes[kind]![i]!);
      }
    });
    return mergeYunetPasses(passes, perPass, variant.vote ?? mean(0.5), rgb.width, rgb.height);
  });
  const rows = THRESHOLDS.map((th) => {
    const tally = emptyTally();
    images.forEach((im, i) => {
      const truth = im.truth.filter((x) => x.cls === 'face').map((x) => x.box);
      addTally(tally, scoreImageLabel(truth, found[i]!.filter((d) => d.score >= th).map((d) => ({ ...d.box, score: d.score })), im.ignore));
    });
    return { th, coverage: tally.covered / tally.truth, small: tally.smallCovered / tally.smallTruth, recall: tally.matchedAtIou / tally.truth, fp: tally.falsePositives / images.length };
  });
  const at = (budget: number) => {
    const r = rows.find((x) => x.fp <= budget);
    return r ? `th ${r.th.toFixed(3)} cov ${r.coverage.toFixed(3)} small ${r.small.toFixed(3)} r@.5 ${r.recall.toFixed(3)} FP ${r.fp.toFixed(2)}` : 'none';
  };
  const ms = kinds.reduce((s, k) => s + msPerKind[k]!, 0);
  console.log(`${name.padEnd(44)} ${ms.toFixed(0).padStart(3)} ms | ≤0.45: ${at(0.45)} | ≤0.40: ${at(0.4)} | ≤0.35: ${at(0.35)}`);
}
await factory.dispose();
