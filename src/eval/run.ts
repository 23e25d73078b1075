import sharp from 'sharp';
import { createDetectionEngine } from '../detect/engine.ts';
import type { ExecutionProviderChoice, FaceDetectorChoice } from '../detect/types.ts';
import type { FaceSearch } from '../detect/face-ensemble/face-ensemble.ts';
import { DEFAULT_THRESHOLDS, OBJECT_CLASSES, type ObjectClass, type RgbImage } from '../types.ts';
import { readEvalDataset } from './dataset.ts';
import { addTally, emptyTally, scoreImageLabel, type LabelTally } from './metrics.ts';

export interface ClassReport {
  cls: ObjectClass;
  /** Images on which this class is annotated (and so scored). */
  images: number;
  tally: LabelTally;
  recallAtIou: number;
  coverageRecall: number;
  smallCoverageRecall: number;
  precision: number;
  falsePositivesPerImage: number;
}

export interface EvalReport {
  dataset: string;
  images: number;
  provider: string;
  /** The face detector in use (null when faces were not evaluated). */
  faceDetector: string | null;
  classes: ClassReport[];
  /** Mean wall time of the engine per image (decoding excluded). */
  msPerImage: number;
  /** Mean milliseconds per detector stage per image. */
  stageMs: Record<string, number>;
}

export interface EvalOptions {
  dataset: string;
  classes?: ObjectClass[];
  provider?: ExecutionProviderChoice;
  limit?: number;
  thresholds?: Partial<Record<ObjectClass, number>>;
  threads?: number;
  modelsDir?: string;
  packsDir?: string;
  faceDetector?: FaceDetectorChoice;
  faceSearch?: FaceSearch;
  /** Progress and engine messages, one line each (warnings prefixed with "warning:"). */
  log?: (message: string) => void;
}

function ratio(a: number, b: number): number {
  return b === 0 ? Number.NaN : a / b;
}

async function decodeAsStored(file: string): Promise<RgbImage> {
  // No .rotate(): the boxes are in the pixel grid as stored.
  const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`${file}: decoded to ${info.channels} channels`);
  return { data, width: info.width, height: info.height };
}

export async function runEvaluation(opts: EvalOptions): Promise<EvalReport> {
  const classes = opts.classes ?? [...OBJECT_CLASSES];
  const thresholds = { ...DEFAULT_THRESHOLDS, ...opts.thresholds };
  let images = await readEvalDataset(opts.dataset);
  images = images.filter((im) => im.annotated.some((c) => classes.includes(c)));
  if (opts.limit !== undefined) images = images.slice(0, opts.limit);
  const engine = await createDetectionEngine({ classes, provider: opts.provider ?? 'auto', threads: opts.threads, modelsDir: opts.modelsDir, packsDir: opts.packsDir, faceDetector: opts.faceDetector, faceSearch: opts.faceSearch, log: (level, message) => opts.log?.(level === 'warn' ? `warning: ${message}` : message) });
  const tallies = new Map(classes.map((c) => [c, { images: 0, tally: emptyTally() }]));
  const stageMs: Record<string, number> = {};
  let engineMs = 0;
  try {
    for (const [index, im] of images.entries()) {
      const rgb = await decodeAsStored(im.file);
      const start = performance.now();
      const result = await engine.detect(rgb, { classes, thresholds });
      engineMs += performance.now() - start;
      for (const [stage, ms] of Object.entries(result.timings)) stageMs[stage] = (stageMs[stage] ?? 0) + ms;
      for (const cls of classes) {
        if (!im.annotated.includes(cls)) continue;
        const truth = im.truth.filter((t) => t.cls === cls).map((t) => t.box);
        const dets = result.detections.filter((d) => d.cls === cls).map((d) => ({ ...d.box, score: d.score }));
        const entry = tallies.get(cls)!;
        entry.images++;
        addTally(entry.tally, scoreImageLabel(truth, dets, im.ignore));
      }
      if ((index + 1) % 50 === 0) opts.log?.(`evaluated ${index + 1}/${images.length} images`);
    }
  } finally {
    await engine.dispose();
  }
  const n = Math.max(images.length, 1);
  return {
    dataset: opts.dataset,
    images: images.length,
    provider: engine.provider,
    faceDetector: engine.faceDetector ?? null,
    classes: classes.map((cls) => {
      const { images: scored, tally } = tallies.get(cls)!;
      return {
        cls,
        images: scored,
        tally,
        recallAtIou: ratio(tally.matchedAtIou, tally.truth),
        coverageRecall: ratio(tally.covered, tally.truth),
        smallCoverageRecall: ratio(tally.smallCovered, tally.smallTruth),
        precision: ratio(tally.detections - tally.falsePositives, tally.detections),
        falsePositivesPerImage: ratio(tally.falsePositives, scored),
      };
    }),
    msPerImage: engineMs / n,
    stageMs: Object.fromEntries(Object.entries(stageMs).map(([k, v]) => [k, v / n])),
  };
}
