/**
 * Large-frame face recall: development images pasted (native size where they fit) into 1080p mosaics,
 * scored against their moved ground truth. `node --import tsx bench/face-large-frames.ts [new|balanced|old|try SSD_PIXELS FULL_PIXELS SSD_ZOOM]`
 * (new = --face-search fast, balanced = the default, old = thorough: the 48-run plan everywhere; each with its MTCNN vote unless
 * NO_MTCNN is set). `yunet-fast|yunet-balanced|yunet-thorough` run the YuNet pack's plans instead (pack read from
 * PACKS_DIR, default ../shared/models-extra). SIZES=12mp adds 12 MP mosaics (64 images each, 2 frames).
 * The dataset path is ../shared/eval.
 */
import sharp, { type OverlayOptions } from 'sharp';
import { FaceEnsemble, mtcnnVote, ssdEnsemble } from '../src/detect/face-ensemble/face-ensemble.ts';
import { SessionFactory } from '../src/detect/session.ts';
import { readEvalDataset } from '../src/eval/dataset.ts';
import { addTally, emptyTally, scoreImageLabel } from '../src/eval/metrics.ts';
import { DEFAULT_THRESHOLDS, type Box } from '../src/types.ts';
import { YUNET_PLANS, YunetFaceDetector } from '../src/detect/yunet/yunet.ts';
import type { FaceSearch } from '../src/detect/face-ensemble/face-ensemble.ts';
const images = (await readEvalDataset('../shared/eval')).filter((im) => im.annotated.includes('face'));
const f = new SessionFactory({ provider: 'cpu' });
const which = process.argv[2] ?? 'new';
const sb = Number(process.argv[3] ?? 1.7e6), fb = Number(process.argv[4] ?? 0.4e6), sz = Number(process.argv[5] ?? 1);
const yunetLevel = which.startsWith('yunet-') ? (which.slice(6) as FaceSearch) : undefined;
// YUNET_PLAN='{"inputPixels":9e6,"tileInput":2048}' overrides fields of the level's plan.
const yunetPlan = yunetLevel ? { ...YUNET_PLANS[yunetLevel], ...(JSON.parse(process.env.YUNET_PLAN ?? '{}') as object) } : undefined;
const ens = yunetLevel ? await YunetFaceDetector.create(new SessionFactory({ provider: 'cpu', modelsDir: process.env.PACKS_DIR ?? '../shared/models-extra' }), yunetLevel, yunetPlan) : await FaceEnsemble.create(f, which === 'new' ? ssdEnsemble('fast') : which === 'balanced' ? ssdEnsemble('balanced') : which === 'try' ? [{ model: 'full-range', largeFrames: { fromSide: 1024, zooms: [1], baseInputPixels: fb, inputPixelsPerFramePixel: 0 } }, { model: 'ssd-mobilenet', zooms: [2], largeFrames: { fromSide: 1024, zooms: [sz], baseInputPixels: sb, inputPixelsPerFramePixel: 0 } }] : [{ model: 'full-range' }, { model: 'ssd-mobilenet', zooms: [2] }], process.env.NO_MTCNN || which === 'try' ? undefined : mtcnnVote(which === 'new' ? 'fast' : which === 'balanced' ? 'balanced' : 'thorough'));
const sizes: (readonly [number, number, number, number, number])[] = [[1920, 1080, 4, 3, 8]];
if (process.env.SIZES === '12mp') sizes.push([4000, 3000, 8, 8, 2]);
for (const [W, H, cols, rows, maxMosaics] of sizes) {
  const cw = Math.floor(W / cols), ch = Math.floor(H / rows);
  const tally = emptyTally(); let ms = 0; let n = 0;
  for (let start = 0; start + cols * rows <= images.length && n < maxMosaics; start += cols * rows, n++) {
    const comps: OverlayOptions[] = []; const truth: Box[] = []; const ignore: Box[] = [];
    for (let k = 0; k < cols * rows; k++) {
      const im = images[start + k]!;
      const m = await sharp(im.file).metadata();
      const s = Math.min(1, cw / m.width!, ch / m.height!);
      const buf = await sharp(im.file).resize(Math.floor(m.width! * s), Math.floor(m.height! * s)).toBuffer();
      const ox = (k % cols) * cw, oy = Math.floor(k / cols) * ch;
      comps.push({ input: buf, left: ox, top: oy });
      const map = (b: Box) => ({ x0: ox + b.x0 * s, y0: oy + b.y0 * s, x1: ox + b.x1 * s, y1: oy + b.y1 * s });
      truth.push(...im.truth.filter((t) => t.cls === 'face').map((t) => map(t.box)));
      ignore.push(...im.ignore.map(map));
    }
    const { data, info } = await sharp({ create: { width: W, height: H, channels: 3, background: { r: 0, g: 0, b: 0 } } }).composite(comps).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const t = performance.now();
    const d = await ens.detect({ data, width: info.width, height: info.height }, { classes: ['face'], thresholds: DEFAULT_THRESHOLDS });
    ms += performance.now() - t;
    addTally(tally, scoreImageLabel(truth, d.map((x) => ({ ...x.box, score: x.score })), ignore));
  }
  console.log(which, yunetPlan ? JSON.stringify(yunetPlan) : '', `${W}x${H}`, n, 'mosaics', `coverage ${(tally.covered / tally.truth).toFixed(3)} small ${(tally.smallCovered / tally.smallTruth).toFixed(3)} (${tally.smallTruth}) recall@0.5 ${(tally.matchedAtIou / tally.truth).toFixed(3)} FP/mosaic ${(tally.falsePositives / n).toFixed(2)} truth ${tally.truth} ms/mosaic ${(ms / n).toFixed(0)}`);
}
