/**
 * Licence plates on an evaluation set's plate images: NanoDet's vehicles once per image (from the plate context
 * score, as the engine hands them over), then PP-OCR per variant of the plate search (whole-frame pass size,
 * vehicle crop size), scored like `anonymiser eval` at the default threshold, with the model-input pixels and
 * the CPU time each variant spent. Not a test.
 * `node --import tsx bench/plate-sweep.ts [dataset] [variant…]` (default ../shared/eval; variants below).
 */
import sharp from 'sharp';
import { ObjectDetector } from '../src/detect/nanodet/objects.ts';
import { PlateDetector, type PlateDetectorOptions } from '../src/detect/ppocr-plate/plate.ts';
import { PLATE_CONTEXT_VEHICLE_SCORE } from '../src/detect/ppocr-plate/plugin.ts';
import { SessionFactory } from '../src/detect/session.ts';
import { readEvalDataset } from '../src/eval/dataset.ts';
import { addTally, emptyTally, scoreImageLabel } from '../src/eval/metrics.ts';
import { DEFAULT_THRESHOLDS, type Box } from '../src/types.ts';

const [dataset = '../shared/eval', ...only] = process.argv.slice(2);
// Every variant names both sizes, so that the figures stay reproducible when the defaults change.
const VARIANTS: Record<string, Partial<PlateDetectorOptions>> = {
  'frame1280+crop640': { frameMaxSide: 1280, vehicleCropSide: 640 }, // before
  'frame1152+crop640': { frameMaxSide: 1152, vehicleCropSide: 640 },
  'frame1024+crop640': { frameMaxSide: 1024, vehicleCropSide: 640 },
  'frame960+crop640': { frameMaxSide: 960, vehicleCropSide: 640 },
  'frame896+crop640': { frameMaxSide: 896, vehicleCropSide: 640 },
  'frame1280+crop512': { frameMaxSide: 1280, vehicleCropSide: 512 },
  'frame1152+crop512': { frameMaxSide: 1152, vehicleCropSide: 512 }, // shipped
  'frame1024+crop512': { frameMaxSide: 1024, vehicleCropSide: 512 },
  'frame1024+crop448': { frameMaxSide: 1024, vehicleCropSide: 448 },
  'frame1024+crop576': { frameMaxSide: 1024, vehicleCropSide: 576 },
};

const images = (await readEvalDataset(dataset)).filter((im) => im.annotated.includes('license-plate'));
const factory = new SessionFactory({ provider: 'cpu', threads: 1 });
const objects = await ObjectDetector.create(factory);
const decoded = [];
for (const im of images) {
  const { data, info } = await sharp(im.file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const rgb = { data, width: info.width, height: info.height };
  const found = await objects.detect(rgb, { classes: ['vehicle'], thresholds: { ...DEFAULT_THRESHOLDS, vehicle: PLATE_CONTEXT_VEHICLE_SCORE } });
  decoded.push({ rgb, vehicles: found.filter((d) => d.score >= PLATE_CONTEXT_VEHICLE_SCORE).map((d) => d.box) as Box[] });
}
const thresholds = DEFAULT_THRESHOLDS;
for (const [name, options] of Object.entries(VARIANTS)) {
  if (only.length && !only.includes(name)) continue;
  const plates = await PlateDetector.create(factory, options);
  const session = (plates as unknown as { session: { run(f: Record<string, { dims: readonly number[] }>): Promise<unknown> } }).session;
  const run = session.run.bind(session);
  let pixels = 0;
  session.run = (feeds) => {
    const dims = Object.values(feeds)[0]!.dims;
    pixels += dims[2]! * dims[3]!;
    return run(feeds);
  };
  const tally = emptyTally();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const [i, im] of images.entries()) {
    const found = await plates.detect(decoded[i]!.rgb, { classes: ['license-plate'], thresholds }, decoded[i]!.vehicles);
    const truth = im.truth.filter((t) => t.cls === 'license-plate').map((t) => t.box);
    addTally(tally, scoreImageLabel(truth, found.map((d) => ({ ...d.box, score: d.score })), im.ignore));
  }
  const cpu = process.cpuUsage(cpu0);
  const n = images.length;
  console.log(
    `${name.padEnd(18)} coverage ${(tally.covered / tally.truth).toFixed(3)} recall@0.5 ${(tally.matchedAtIou / tally.truth).toFixed(3)} ` +
      `FP/img ${(tally.falsePositives / n).toFixed(2)} (${tally.truth} gt, ${n} images); input ${(pixels / n / 1e6).toFixed(2)} MP/img, ` +
      `CPU ${((cpu.user + cpu.system) / 1000 / n).toFixed(0)} ms/img, wall ${((performance.now() - t0) / n).toFixed(0)} ms/img`,
  );
}
await factory.dispose();
