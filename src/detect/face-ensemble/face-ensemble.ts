import type { Detection, RgbImage } from '../../types.ts';
import { DECODE_FLOOR, DEFAULT_FACE_OPTIONS, FaceDetector, sameFace, type FaceDetectorOptions } from '../mediapipe-face/face.ts';
import { MtcnnFaceDetector } from '../mtcnn/mtcnn.ts';
import type { SessionFactory } from '../session.ts';
import type { Detector, DetectOptions } from '../types.ts';

/**
 * Faces from detectors with different training and anchors. Their false positives rarely coincide
 * while real faces are usually seen by both, so a face's score is the mean of the models' scores
 * (0 where one model saw nothing; a member may weight its lone faces differently). Default pair: MediaPipe full range + SSD MobileNetV1 (WIDER FACE,
 * whole image and 2x tiles): on the development set 0.771 coverage at 0.32 FP/image against 0.697 at
 * 0.33 for full range + BlazeFace back-256, at the same time per image (bench/face-sweep.ts).
 */
export interface ScoredFace {
  box: Detection['box'];
  scores: number[];
}

/**
 * Pairs up detections of the same face across models and averages their scores. A face only model m
 * saw scores `loneWeights[m]` times its score (default 1/models, the mean with 0s), so a model whose
 * lone detections are more often real can be trusted more without raising the others' false positives.
 */
export function fuseFaces(perModel: readonly Detection[][], loneWeights: readonly number[] = perModel.map(() => 1 / perModel.length)): Detection[] {
  return groupFaces(perModel).map((f) => {
    const seenBy = f.scores.flatMap((score, m) => (score > 0 ? [m] : []));
    const score = seenBy.length === 1 ? f.scores[seenBy[0]!]! * loneWeights[seenBy[0]!]! : f.scores.reduce((a, b) => a + b, 0) / f.scores.length;
    return { cls: 'face' as const, score, box: f.box };
  });
}

/** Pairs up detections of the same face across models: one entry per face with each model's score (0: not seen). */
export function groupFaces(perModel: readonly Detection[][]): ScoredFace[] {
  const faces: ScoredFace[] = [];
  perModel.forEach((detections, m) => {
    for (const d of [...detections].sort((a, b) => b.score - a.score)) {
      const match = faces.find((f) => f.scores[m] === 0 && sameFace(f.box, d.box));
      if (match) {
        match.scores[m] = d.score;
        // The higher-scored model's box stays: averaging boxes of differently padded models blurs both.
        if (d.score > Math.max(...match.scores.filter((_, k) => k !== m))) match.box = d.box;
      } else {
        const scores = perModel.map(() => 0);
        scores[m] = d.score;
        faces.push({ box: d.box, scores });
      }
    }
  });
  return faces;
}

/**
 * Members of the default ensemble. Frames up to 1024 px: the SSD runs whole image + 2x tiles (2.5x up to
 * 640 px), full range whole image + 1x and 2x tiles.
 * Larger frames: no upscaling, and most of a pixel budget goes to the SSD's tiles (the better model for
 * small faces), full range getting a few coarse tiles, so that 1080p costs ~2.5 MP of model input
 * (~0.35 s on 2 cores) and 12 MP ~4.7 MP (see README).
 */
/**
 * How much work goes into frames over 1024 px (smaller frames are always searched fully, upscaled 2x):
 * - fast: ~2.5 MP of model input at 1080p (~0.35 s on 2 cores); faces under ~20 px in such frames are mostly missed;
 * - balanced: the SSD gets 4.5 MP (~0.67 s at 1080p); about half of those small faces are found again;
 * - thorough: large frames searched like small ones, upscaled tiles included (~2.2 s at 1080p), the most recall.
 * Figures from bench/face-large-frames.ts (src/detect/README.md).
 */
export type FaceSearch = 'fast' | 'balanced' | 'thorough';

/** A member of the ensemble: its detector options, and the weight of faces it alone sees (default 1/members). */
export type FaceMember = Partial<FaceDetectorOptions> & { loneWeight?: number };

/**
 * The SSD on frames up to 640 px: tiles at zoom 2.5 instead of 2 bring 12-20 px faces to 30-50 px,
 * and a face only the SSD sees counts 0.6 of its score (kept from 0.5 at the default 0.3, was 0.6):
 * on the development set coverage 0.771 -> 0.783, small faces 0.547 -> 0.612, 0.32 -> 0.42 FP/image,
 * SSD time ~1.4x (bench/face-sweep-small.ts). Zoom 2 + 3 found slightly more (0.792) at 2.4x the SSD time.
 */
const SSD_SMALL_FRAMES = { maxSide: 640, zooms: [2.5] };
const SSD_LONE_WEIGHT = 0.6;

export const FACE_SEARCH_LEVELS: readonly FaceSearch[] = ['fast', 'balanced', 'thorough'];

export function ssdEnsemble(search: FaceSearch): FaceMember[] {
  const ssd = { model: 'ssd-mobilenet', zooms: [2], smallFrames: SSD_SMALL_FRAMES, loneWeight: SSD_LONE_WEIGHT } as const;
  if (search === 'thorough') return [{ model: 'full-range' }, ssd];
  const [fullRangePixels, ssdPixels] = search === 'balanced' ? [0.2e6, 4.5e6] : [0.4e6, 1.7e6];
  return [
    { model: 'full-range', largeFrames: { fromSide: 1024, zooms: [1], baseInputPixels: fullRangePixels, inputPixelsPerFramePixel: 0 } },
    { ...ssd, largeFrames: { fromSide: 1024, zooms: [1], baseInputPixels: ssdPixels, inputPixelsPerFramePixel: 0.25 } },
  ];
}
/** How far the MTCNN cascade runs per search level (its O-Net vote is always cast). */
export function mtcnnVote(search: FaceSearch): MtcnnVote {
  return { cascadeMaxSide: search === 'fast' ? 0 : search === 'balanced' ? 1024 : Number.POSITIVE_INFINITY };
}

/** The previous pair, used when the SSD model file is absent. */
export const MEDIAPIPE_ENSEMBLE: FaceMember[] = [{ model: 'full-range' }, { model: 'back-256' }];

/**
 * MTCNN as a third, differently built opinion: its O-Net (a 48x48 face/non-face classifier) scores
 * every candidate face of the other models, and on frames up to `cascadeMaxSide` px its whole cascade
 * also runs as a member, for the 8-20 px faces the anchor models miss. A face's score is then the mean
 * of three votes: full range, the SSD, and MTCNN (its detection score or its O-Net probability,
 * whichever is higher). On the development set (bench/face-sweep-mtcnn.ts) at the default threshold
 * 0.34 this gives 0.810 coverage at 0.42 FP/image against 0.783 at 0.42 for the pair alone (at 0.3);
 * the O-Net vote without the cascade gives 0.787 at 0.33.
 */
export interface MtcnnVote {
  /** Frames whose longer side is at most this run the whole MTCNN cascade; 0: never (O-Net vote only). */
  cascadeMaxSide: number;
}

/** MTCNN detections below this are not kept: its O-Net probability is in the vote anyway. */
const MTCNN_FLOOR = 0.3;

/**
 * A member of the ensemble: any face detector (a `Detector` with the face class; the engine's face
 * plugins all are), asked for its faces down to the decode floor, and the weight of faces it alone sees.
 */
export interface EnsembleMember {
  detector: Detector;
  loneWeight?: number;
}

/** The third vote: a face/non-face probability for any box, and (optionally run) its own detections. */
export interface FaceVoter extends Detector {
  faceProbability(image: RgbImage, boxes: readonly Detection['box'][]): Promise<number[]>;
}

export class FaceEnsemble implements Detector {
  readonly name: string;
  readonly classes = ['face'] as const;

  private constructor(
    private readonly members: readonly Detector[],
    private readonly loneWeights: number[],
    private readonly mtcnn?: { detector: FaceVoter; vote: MtcnnVote },
  ) {
    const names = members.map((m) => m.name.replace(/^face:/, ''));
    if (mtcnn) names.push(mtcnn.detector.name.replace(/^face:/, ''));
    this.name = `face:ensemble(${names.join(',')})`;
  }

  /** The ensemble of the bundled anchor models (MediaPipe full range, back-256, the SSD), MTCNN voting when `mtcnnVote` is given. */
  static async create(factory: SessionFactory, members: FaceMember[] = ssdEnsemble('balanced'), mtcnnVote?: MtcnnVote): Promise<FaceEnsemble> {
    const detectors: EnsembleMember[] = [];
    for (const { loneWeight, ...m } of members) detectors.push({ detector: await FaceDetector.create(factory, m), ...(loneWeight === undefined ? {} : { loneWeight }) });
    const mtcnn = mtcnnVote ? { detector: await MtcnnFaceDetector.create(factory), vote: mtcnnVote } : undefined;
    return FaceEnsemble.of(detectors, mtcnn);
  }

  /** An ensemble of any face detectors, with an optional third voter. */
  static of(members: readonly EnsembleMember[], voter?: { detector: FaceVoter; vote: MtcnnVote }): FaceEnsemble {
    if (members.length === 0) throw new TypeError('a face ensemble needs at least one member');
    for (const m of members) if (!m.detector.classes.includes('face')) throw new TypeError(`${m.detector.name} detects no faces`);
    return new FaceEnsemble(
      members.map((m) => m.detector),
      members.map((m) => m.loneWeight ?? 1 / members.length),
      voter,
    );
  }

  async detect(image: RgbImage, options: DetectOptions): Promise<Detection[]> {
    if (!options.classes.includes('face')) return [];
    // Members are asked for everything above the decode floor: the fused score does the thresholding.
    const above = (minScore: number): DetectOptions => ({ classes: ['face'], thresholds: { ...options.thresholds, face: minScore } });
    const perModel: Detection[][] = [];
    for (const m of this.members) perModel.push(await m.detect(image, above(DECODE_FLOOR)));
    if (!this.mtcnn) return fuseFaces(perModel, this.loneWeights).filter((d) => d.score >= options.thresholds.face);
    const { detector, vote } = this.mtcnn;
    const cascade = Math.max(image.width, image.height) <= vote.cascadeMaxSide;
    const groups = groupFaces(cascade ? [...perModel, await detector.detect(image, above(MTCNN_FLOOR))] : perModel);
    const probabilities = await detector.faceProbability(image, groups.map((g) => unpadFaceBox(g.box)));
    return groups
      .map((g, i) => ({ cls: 'face' as const, score: voteScore(g.scores, this.members.length, probabilities[i]!), box: g.box }))
      .filter((d) => d.score >= options.thresholds.face);
  }

  async dispose(): Promise<void> {}
}

/**
 * Mean of the members' scores and MTCNN's vote: the cascade's score (at index `members`, when it ran)
 * or the O-Net probability of the face's crop, whichever is higher.
 */
export function voteScore(scores: readonly number[], members: number, onetProbability: number): number {
  let sum = 0;
  for (let m = 0; m < members; m++) sum += scores[m]!;
  return (sum + Math.max(scores[members] ?? 0, onetProbability)) / (members + 1);
}

/** The models' brow-to-chin box from a padded face box (all face models share DEFAULT_FACE_OPTIONS' padding). */
export function unpadFaceBox(box: Detection['box']): Detection['box'] {
  const { padX, padTop, padBottom } = DEFAULT_FACE_OPTIONS;
  const w = (box.x1 - box.x0) / (1 + 2 * padX);
  const h = (box.y1 - box.y0) / (1 + padTop + padBottom);
  const x0 = box.x0 + padX * w;
  const y0 = box.y0 + padTop * h;
  return { x0, y0, x1: x0 + w, y1: y0 + h };
}
