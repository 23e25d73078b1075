/**
 * What MTCNN adds to the face pair on an evaluation set: runs the default members (full range, SSD) and
 * the MTCNN cascade once per image, takes O-Net's probability for every grouped candidate, then scores
 * three rules over thresholds (coverage / FP per image): the pair alone (lone weights as shipped), the
 * pair + O-Net vote (no cascade, as on large frames) and the pair + cascade + O-Net vote (the default
 * on frames up to 1024 px).
 * `node --import tsx bench/face-sweep-mtcnn.ts [dataset] [limit]`
 */
import sharp from 'sharp';
import { DECODE_FLOOR, FaceDetector } from '../src/detect/mediapipe-face/face.ts';
import { fuseFaces, groupFaces, ssdEnsemble, unpadFaceBox, voteScore, type ScoredFace } from '../src/detect/face-ensemble/face-ensemble.ts';
import { MtcnnFaceDetector } from '../src/detect/mtcnn/mtcnn.ts';
import { SessionFactory } from '../src/detect/session.ts';
import { readEvalDataset } from '../src/eval/dataset.ts';
import { addTally, emptyTally, scoreImageLabel } from '../src/eval/metrics.ts';
import type { Detection } from '../src/types.ts';

const [dataset = '../shared/eval', limitArg] = process.argv.slice(2);
let images = (await readEvalDataset(dataset)).filter((im) => im.annotated.includes('face'));
if (limitArg) images = images.slice(0, Number(limitArg));
const factory = new SessionFactory({ provider: 'cpu' });
const memberOptions = ssdEnsemble('balanced');
const members = await Promise.all(memberOptions.map(({ loneWeight: _, ...o }) => FaceDetector.create(factory, o)));
const mtcnn = await MtcnnFaceDetector.create(factory);

interface PerImage {
  pair: Detection[][];
  withCascade: (ScoredFace & { onet: number })[];
  withoutCascade: (ScoredFace & { onet: number })[];
}
const rows: PerImage[] = [];
const ms = { pair: 0, cascade: 0, onet: 0 };
for (const im of images) {
  const { data, info } = await sharp(im.file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const rgb = { data, width: info.width, height: info.height };
  let t = performance.now();
  const pair: Detection[][] = [];
  for (const m of members) pair.push(await m.detectAbove(rgb, DECODE_FLOOR));
  ms.pair += performance.now() - t;
  t = performance.now();
  const cascade = await mtcnn.detectAbove(rgb, 0.3);
  ms.cascade += performance.now() - t;
  const withVote = async (groups: ScoredFace[]) => {
    const started = performance.now();
    const p = await mtcnn.faceProbability(rgb, groups.map((g) => unpadFaceBox(g.box)));
    ms.onet += performance.now() - started;
    return groups.map((g, i) => ({ ...g, onet: p[i]! }));
  };
  rows.push({ pair, withCascade: await withVote(groupFaces([...pair, cascade])), withoutCascade: await withVote(groupFaces(pair)) });
}
console.log(`${images.length} images; ms/image: pair ${(ms.pair / images.length).toFixed(0)}, MTCNN cascade ${(ms.cascade / images.length).toFixed(0)}, O-Net votes ${(ms.onet / images.length / 2).toFixed(0)}`);

const lone = memberOptions.map((m) => m.loneWeight ?? 1 / memberOptions.length);
const rules: Record<string, (r: PerImage) => Detection[]> = {
  'pair (lone weights)': (r) => fuseFaces(r.pair, lone),
  'pair + O-Net vote': (r) => r.withoutCascade.map((g) => ({ cls: 'face', box: g.box, score: voteScore(g.scores, 2, g.onet) })),
  'pair + cascade + O-Net': (r) => r.withCascade.map((g) => ({ cls: 'face', box: g.box, score: voteScore(g.scores, 2, g.onet) })),
};
const thresholds = [0.26, 0.28, 0.3, 0.32, 0.34, 0.36, 0.38, 0.4];
for (const [name, rule] of Object.entries(rules)) {
  const cells = thresholds.map((th) => {
    const tally = emptyTally();
    images.forEach((im, i) => {
      const kept = rule(rows[i]!).filter((d) => d.score >= th);
      addTally(tally, scoreImageLabel(im.truth.filter((t) => t.cls === 'face').map((t) => t.box), kept.map((d) => ({ ...d.box, score: d.score })), im.ignore));
    });
    return `${th}: ${(tally.covered / tally.truth).toFixed(3)}/${(tally.falsePositives / images.length).toFixed(2)}`;
  });
  console.log(`${name.padEnd(24)} ${cells.join(' | ')}`);
}
await factory.dispose();
