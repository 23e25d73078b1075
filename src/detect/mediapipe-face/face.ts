import * as ort from 'onnxruntime-node';
import type { Box, Detection, RgbImage } from '../../types.ts';
import { clipBox, weightedNms, iou, overlapOfSmaller, type ScoredBox } from '../boxes.ts';
import { decodeSsdFaces } from './face-decode.ts';
import { decodeSsdMobilenet } from '../ssd-mobilenet/ssd-mobilenet-decode.ts';
import { letterbox, rgbToSignedUnitNhwc, toImageBox } from '../image-input.ts';
import type { SessionFactory } from '../session.ts';
import { ssdAnchorCentres, type AnchorLayer } from './ssd-anchors.ts';
import { cutByTileEdge, gridTiles } from '../tiles.ts';
import type { Detector, DetectOptions } from '../types.ts';

/**
 * The face detectors we ship. MediaPipe models carry their anchor layouts (from MediaPipe's graph
 * configs); the SSD MobileNetV1 (WIDER FACE) model outputs its own anchors.
 */
export const FACE_MODELS = {
  'full-range': { file: 'face_full_range.onnx', inputSize: 192, layers: [{ stride: 4, perCell: 1 }], decoder: 'mediapipe' },
  'back-256': {
    file: 'blazeface_back_256.onnx',
    inputSize: 256,
    layers: [
      { stride: 16, perCell: 2 },
      { stride: 32, perCell: 6 },
    ],
    decoder: 'mediapipe',
  },
  'ssd-mobilenet': { file: 'face_ssd_mobilenetv1.onnx', inputSize: 512, layers: [], decoder: 'tf-od' },
} as const satisfies Record<string, { file: string; inputSize: number; layers: readonly AnchorLayer[]; decoder: 'mediapipe' | 'tf-od' }>;
export type FaceModelName = keyof typeof FACE_MODELS;

export interface FaceDetectorOptions {
  model: FaceModelName;
  /**
   * Zoom factors for the tiled passes on top of the whole-image pass: a tile covers inputSize/zoom
   * image pixels, so zoom 1 runs at native resolution and zoom 2 upsamples small faces into the
   * model's range. Levels whose tiles would be larger than the image are skipped.
   */
  zooms: readonly number[];
  /** Upper bound on model runs per image; the finest levels are dropped first when exceeded. */
  maxRuns: number;
  /** How frames larger than `fromSide` are searched instead; absent: like small ones. */
  largeFrames?: LargeFramePlan;
  /** Zoom levels used instead of `zooms` for frames up to `maxSide` px, whose faces are often under 20 px. */
  smallFrames?: { maxSide: number; zooms: readonly number[] };
  /** Fraction of the box added on each side: the models box the face from brows to chin, anonymisation wants the head. */
  padX: number;
  padTop: number;
  padBottom: number;
}

// The models' boxes run from brows to chin and sit high on the head; padding moves them onto the head.
export const DEFAULT_FACE_OPTIONS: FaceDetectorOptions = {
  model: 'full-range',
  zooms: [1, 2],
  maxRuns: 48,
  padX: 0.1,
  padTop: 0.1,
  padBottom: 0.25,
};

/** Scores below this are never decoded: keeps NMS small, far under any threshold a user sets. */
export const DECODE_FLOOR = 0.25;
const TILE_OVERLAP = 0.3;

/**
 * Work on large frames is budgeted by model-input pixels rather than by a run count: a model costs
 * about the same per input pixel whatever its input size (~0.19 µs on 2 cores for both models here),
 * and upscaled (zoom > 1) tiles only find faces of under ~24 px, which matter in a 400-px photo but are
 * distant background in a 1080p or 12 MP frame, where they would cost seconds.
 */
export interface LargeFramePlan {
  /** Frames whose longer side exceeds this many pixels are large. */
  fromSide: number;
  /** Tile zoom levels for large frames (the whole-image pass always runs). */
  zooms: readonly number[];
  /** Model-input pixels for all passes together, whole image included: this many... */
  baseInputPixels: number;
  /** ...plus this many per frame pixel, so that a 12 MP photo gets finer tiles than a 1080p frame. */
  inputPixelsPerFramePixel: number;
}

export interface FaceRun {
  region: Box;
  /** Model-input pixels per image pixel. */
  zoom: number;
}

/**
 * The passes for one image: whole image first, then tiles per zoom level, within the run budget.
 * A level that would need more runs than are left gets larger tiles (downscaled, zoom < asked)
 * instead of being skipped, so that large frames still get a native-ish pass for small faces.
 */
export function facePasses(width: number, height: number, inputSize: number, plan: Pick<FaceDetectorOptions, 'zooms' | 'maxRuns' | 'largeFrames' | 'smallFrames'>): Box[][] {
  const side = Math.max(width, height);
  const large = plan.largeFrames && side > plan.largeFrames.fromSide ? plan.largeFrames : undefined;
  const small = plan.smallFrames && side <= plan.smallFrames.maxSide ? plan.smallFrames : undefined;
  const opts = large
    ? { zooms: large.zooms, maxRuns: Math.max(1, Math.min(plan.maxRuns, Math.floor((large.baseInputPixels + large.inputPixelsPerFramePixel * width * height) / (inputSize * inputSize)))) }
    : { zooms: small ? small.zooms : plan.zooms, maxRuns: plan.maxRuns };
  const passes: Box[][] = [[{ x0: 0, y0: 0, x1: width, y1: height }]];
  let runs = 1;
  let lastTile = Infinity;
  for (const zoom of [...opts.zooms].sort((a, b) => a - b)) {
    let tile = Math.round(inputSize / zoom);
    let tiles = gridTiles(width, height, tile, Math.round(tile * TILE_OVERLAP));
    while (runs + tiles.length > opts.maxRuns && tile < Math.max(width, height)) {
      tile = Math.round(tile * 1.25);
      tiles = gridTiles(width, height, tile, Math.round(tile * TILE_OVERLAP));
    }
    // Nothing to add: the tile covers the image (the whole-image pass) or is close to the previous level's.
    if (tile >= Math.max(width, height) || tile * 1.45 > lastTile || runs + tiles.length > opts.maxRuns) break;
    runs += tiles.length;
    lastTile = tile;
    passes.push(tiles);
  }
  return passes;
}

/** Boxes of one face from different passes and anchors: overlapping, or one inside the other. */
export function sameFace(a: Box, b: Box): boolean {
  return iou(a, b) >= 0.3 || overlapOfSmaller(a, b) >= 0.75;
}

export class FaceDetector implements Detector {
  readonly name: string;
  readonly classes = ['face'] as const;
  private readonly anchors: Float32Array;
  private readonly spec: (typeof FACE_MODELS)[FaceModelName];

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly options: FaceDetectorOptions,
  ) {
    this.spec = FACE_MODELS[options.model];
    this.name = `face:${options.model}`;
    this.anchors = ssdAnchorCentres(this.spec.inputSize, this.spec.layers);
  }

  static async create(factory: SessionFactory, options: Partial<FaceDetectorOptions> = {}): Promise<FaceDetector> {
    const opts = { ...DEFAULT_FACE_OPTIONS, ...options };
    const { session } = await factory.load(FACE_MODELS[opts.model].file);
    return new FaceDetector(session, opts);
  }

  async detect(image: RgbImage, options: DetectOptions): Promise<Detection[]> {
    if (!options.classes.includes('face')) return [];
    return this.detectAbove(image, options.thresholds.face);
  }

  /** Faces scoring at least `minScore`, merged across passes, padded to the head and clipped. */
  async detectAbove(image: RgbImage, threshold: number): Promise<Detection[]> {
    const minScore = Math.min(threshold, DECODE_FLOOR);
    const size = this.spec.inputSize;
    const found: ScoredBox[] = [];
    for (const pass of facePasses(image.width, image.height, size, this.options)) {
      const tiled = pass.length > 1 || pass[0]!.x1 - pass[0]!.x0 < image.width || pass[0]!.y1 - pass[0]!.y0 < image.height;
      for (const region of pass) {
        const { rgb, placement } = await letterbox(image, region, size, size);
        const boxes = await this.runModel(rgb, minScore);
        for (const b of boxes) {
          const mapped = toImageBox(b, placement);
          const margin = 2 / placement.scale;
          if (tiled && cutByTileEdge(mapped, placement.region, image.width, image.height, margin)) continue;
          found.push(mapped);
        }
      }
    }
    const merged = weightedNms(found, 0.3, sameFace);
    const out: Detection[] = [];
    for (const b of merged) {
      if (b.score < threshold) continue;
      const w = b.x1 - b.x0;
      const h = b.y1 - b.y0;
      const padded = { x0: b.x0 - w * this.options.padX, x1: b.x1 + w * this.options.padX, y0: b.y0 - h * this.options.padTop, y1: b.y1 + h * this.options.padBottom };
      const box = clipBox(padded, image.width, image.height);
      if (box.x1 - box.x0 < 1 || box.y1 - box.y0 < 1) continue;
      out.push({ cls: 'face', score: b.score, box });
    }
    return out;
  }

  private async runModel(rgb: Buffer, minScore: number): Promise<ScoredBox[]> {
    const size = this.spec.inputSize;
    const input = new ort.Tensor('float32', rgbToSignedUnitNhwc(rgb), [1, size, size, 3]);
    const outputs = await this.session.run({ [this.session.inputNames[0]!]: input });
    if (this.spec.decoder === 'tf-od') {
      const data = (name: string) => outputs[name]!.data as Float32Array;
      return decodeSsdMobilenet(data('box_encodings'), data('class_logits'), data('anchors'), size, minScore);
    }
    const scoreParts: Float32Array[] = [];
    const regressorParts: Float32Array[] = [];
    for (const name of this.session.outputNames) {
      const t = outputs[name]!;
      const last = t.dims[t.dims.length - 1];
      (last === 1 ? scoreParts : regressorParts).push(t.data as Float32Array);
    }
    return decodeSsdFaces(concat(scoreParts), concat(regressorParts), this.anchors, size, minScore);
  }

  async dispose(): Promise<void> {
    // Sessions belong to the factory, which releases them.
  }
}

function concat(parts: Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let k = 0;
  for (const p of parts) {
    out.set(p, k);
    k += p.length;
  }
  return out;
}

