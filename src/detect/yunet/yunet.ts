import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { DEFAULT_THRESHOLDS, type Box, type Detection, type RgbImage } from '../../types.ts';
import { clipBox, nms, overlapOfSmaller, type ScoredBox } from '../boxes.ts';
import { integerRegion } from '../image-input.ts';
import { OnnxWireError } from '../onnx-wire.ts';
import type { DerivedModel, SessionFactory } from '../session.ts';
import { cutByTileEdge } from '../tiles.ts';
import type { Detector, DetectOptions } from '../types.ts';
import { FOLD_ZOOM, foldUpscaleIntoFirstConv } from './yunet-fold.ts';
import { calibrateScore, decodeYunetLevel, voteBoxes, YUNET_STRIDES, type VoteOptions } from './yunet-decode.ts';
import { DEFAULT_FACE_OPTIONS } from '../mediapipe-face/face.ts';
import type { FaceSearch } from '../face-ensemble/face-ensemble.ts';

/** The model file of the `yunet` pack (models/packs.json). */
export const YUNET_MODEL_FILE = 'yunet_n_dynamic.onnx';

/**
 * The raw YuNet score (sqrt(cls·obj)) that the default face threshold stands for. On the development set
 * 0.57 is where 2× whole-image YuNet reaches 0.45 FP/image; images not in that set favoured ~0.66, so a
 * stricter value with margin is used (bench/face-sweep-yunet.ts, src/detect/README.md).
 */
export const YUNET_OPERATING_SCORE = 0.6;
/**
 * The same for frames whose upscaled pass is mirrored and voted (`mirrorVoteInputPixels`): voted scores are the mean
 * of the two views' (a face one view missed: its score × 0.8), lower than raw ones. On the development set 0.575 gives
 * 0.42 FP/image with the folded 2× pass (yunet-fold.ts; 0.57 gave 0.43, 0.58 gave 0.40), see bench/face-vote-yunet.ts.
 */
export const YUNET_VOTED_OPERATING_SCORE = 0.575;
/** Raw scores below this are not decoded. */
const YUNET_FLOOR = 0.3;

export interface YunetPlan {
  /** Model-input pixels the search may spend on one frame; the zoom is the largest that fits (within zoom limits). */
  inputPixels: number;
  /** Upscaling of small frames (small faces come into the model's range at ~2×). */
  maxZoom: number;
  /** Largest model input (pixels) run in one piece: larger searches are cut into tiles, which bounds memory. */
  pieceInputPixels: number;
  /** Longest side of a tile's model input. */
  tileInput: number;
  /**
   * Upscaled passes (zoom > 1) keep only faces up to this many model-input pixels a side: upscaled large
   * objects (a cup, a sleeve) come out as big faces. A native or downscaled pass, always added, finds the large faces.
   */
  upscaledMaxFace: number;
  /**
   * Single-piece upscaled passes with at most this many model-input pixels also run on the mirrored frame, and
   * the two are fused by score voting (test-time augmentation; ~400-px photos at 2× are 0.5–1.4 MP): 0 = never.
   */
  mirrorVoteInputPixels: number;
  /** How passes of one vote group are fused (default DEFAULT_VOTE). */
  vote?: VoteOptions;
}

/** Score voting of passes that see the same faces (see voteBoxes). */
export const DEFAULT_VOTE: VoteOptions = { iou: 0.4, combine: 'mean', agreeBonus: 0, lone: 0.8 };

/**
 * Search plans per --face-search level. A whole frame in one piece is cheaper and has fewer false positives
 * than tiles (no cut faces at tile edges): 1080p mosaics at 2× cost 381 ms in one piece, 537 ms in 1280-px
 * tiles (bench/face-large-frames.ts, src/detect/README.md). 400-px photos get 2× in every level.
 */
export const YUNET_PLANS: Record<FaceSearch, YunetPlan> = {
  fast: { inputPixels: 2.5e6, maxZoom: 2, pieceInputPixels: 9e6, tileInput: 2048, upscaledMaxFace: 320, mirrorVoteInputPixels: 2e6 },
  balanced: { inputPixels: 9e6, maxZoom: 2, pieceInputPixels: 9e6, tileInput: 2048, upscaledMaxFace: 320, mirrorVoteInputPixels: 2e6 },
  thorough: { inputPixels: 64e6, maxZoom: 2, pieceInputPixels: 9e6, tileInput: 2048, upscaledMaxFace: 320, mirrorVoteInputPixels: 2e6 },
};

/** Upscaled single-piece passes from this zoom on get a native pass for the large faces. */
const NATIVE_PASS_FROM_ZOOM = 1.5;
/**
 * Zoom of that pass: it keeps faces from 0.8 × upscaledMaxFace / zoom image px (128 at 2×), 64+ px at 0.5×, well in
 * YuNet's range; a quarter of a native pass's input (same coverage and FP/image on the development set and 1080p mosaics).
 */
const LARGE_FACE_PASS_ZOOM = 0.5;
/** Longest side of the whole-frame pass that tiled searches add, for faces larger than the tiles' overlap. */
const OVERVIEW_SIDE = 1024;
/** Overlap of neighbouring tiles in model-input pixels: faces up to this size are whole in one tile. */
const TILE_OVERLAP_INPUT = 128;

export interface YunetPass {
  region: Box;
  zoom: number;
  /** Faces kept from this pass, longer side in image pixels (each pass answers for its own size range). */
  minFace?: number;
  maxFace?: number;
  /** Run on the horizontally mirrored region (boxes are mapped back). */
  flip?: boolean;
  /** Passes with the same vote group are fused by score voting (`voteBoxes`) before the merge with the others. */
  vote?: number;
}

/**
 * Passes for one frame: the whole frame at zoom z = min(maxZoom, sqrt(inputPixels / frame pixels)),
 * at least 1 (native resolution), after a pass at LARGE_FACE_PASS_ZOOM when z ≥ 1.5 (for the large faces, see
 * upscaledMaxFace); up to mirrorVoteInputPixels the upscaled pass runs on the mirrored frame too, the two in vote group 0.
 * When that is more than pieceInputPixels, the frame is cut evenly into
 * tiles whose inputs are at most tileInput px a side (overlapping by TILE_OVERLAP_INPUT), and the whole
 * frame scaled to OVERVIEW_SIDE is added for faces larger than the overlap.
 */
export function yunetPasses(width: number, height: number, plan: YunetPlan): YunetPass[] {
  const whole = { x0: 0, y0: 0, x1: width, y1: height };
  const zoom = Math.max(1, Math.min(plan.maxZoom, Math.sqrt(plan.inputPixels / (width * height))));
  if (width * height * zoom * zoom <= plan.pieceInputPixels) {
    // Slight upscaling (fast on 1080p: 1.1×) does not make large faces up out of objects; one pass does.
    if (zoom < NATIVE_PASS_FROM_ZOOM) return [{ region: whole, zoom }];
    const split = plan.upscaledMaxFace / zoom;
    const large: YunetPass = { region: whole, zoom: LARGE_FACE_PASS_ZOOM, minFace: split * 0.8 };
    if (width * height * zoom * zoom > plan.mirrorVoteInputPixels) return [large, { region: whole, zoom, maxFace: split }];
    return [large, { region: whole, zoom, maxFace: split, vote: 0 }, { region: whole, zoom, maxFace: split, flip: true, vote: 0 }];
  }
  const passes: YunetPass[] = [{ region: whole, zoom: Math.min(1, OVERVIEW_SIDE / Math.max(width, height)) }];
  const maxFace = zoom > 1 ? plan.upscaledMaxFace / zoom : undefined;
  const overlap = TILE_OVERLAP_INPUT / zoom;
  const spans = (length: number): [number, number][] => {
    const n = Math.max(1, Math.ceil((length * zoom - TILE_OVERLAP_INPUT) / (plan.tileInput - TILE_OVERLAP_INPUT)));
    const tile = (length + (n - 1) * overlap) / n;
    return Array.from({ length: n }, (_, i) => [Math.round(i * (tile - overlap)), Math.min(length, Math.round(i * (tile - overlap) + tile))]);
  };
  for (const [y0, y1] of spans(height)) for (const [x0, x1] of spans(width)) passes.push({ region: { x0, y0, x1, y1 }, zoom, maxFace });
  return passes;
}

/** A pass's model input, with the sizes and scale its boxes are decoded and mapped back with. */
export interface YunetInput {
  tensor: ort.Tensor;
  width: number;
  height: number;
  scale: number;
  region: Box;
  mirrorWidth: number;
}

/**
 * The w×h pixels at (x0, y0) of packed RGB `src` (`srcWidth` px a row), mirrored with `flip`, as BGR planar 0..255
 * padded right/bottom with 0 to multiples of `multiple`.
 */
function bgrPlanes(src: Uint8Array, srcWidth: number, x0: number, y0: number, w: number, h: number, multiple: number, flip: boolean): { tensor: ort.Tensor; width: number; height: number } {
  const width = Math.ceil(w / multiple) * multiple;
  const height = Math.ceil(h / multiple) * multiple;
  const plane = width * height;
  const data = new Float32Array(plane * 3);
  const step = flip ? -1 : 1;
  for (let y = 0; y < h; y++) {
    for (let x = 0, i = ((y0 + y) * srcWidth + x0) * 3, o = y * width + (flip ? w - 1 : 0); x < w; x++, i += 3, o += step) {
      data[o] = src[i + 2]!;
      data[plane + o] = src[i + 1]!;
      data[2 * plane + o] = src[i]!;
    }
  }
  return { tensor: new ort.Tensor('float32', data, [1, 3, height, width]), width, height };
}

/** Region of the image scaled by `zoom` (mirrored with `flip`), padded right/bottom with 0 to multiples of 32, as BGR planar 0..255. */
export async function yunetInput(image: RgbImage, region: Box, zoom: number, flip = false): Promise<YunetInput> {
  const r = integerRegion(region, image.width, image.height);
  const rw = r.x1 - r.x0;
  const rh = r.y1 - r.y0;
  const outW = Math.max(1, Math.round(rw * zoom));
  const outH = Math.max(1, Math.round(rh * zoom));
  const mirrorWidth = flip ? outW : 0;
  // Unscaled regions (tiles at 1×) are read from the image itself.
  if (outW === rw && outH === rh) return { ...bgrPlanes(image.data, image.width, r.x0, r.y0, rw, rh, 32, flip), scale: 1, region: r, mirrorWidth };
  let pipeline = sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
  if (rw !== image.width || rh !== image.height) pipeline = pipeline.extract({ left: r.x0, top: r.y0, width: rw, height: rh });
  const rgb = await pipeline.resize(outW, outH, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
  return { ...bgrPlanes(rgb, outW, 0, 0, outW, outH, 32, flip), scale: outW / rw, region: r, mirrorWidth };
}

/**
 * The input of a 2× pass for the folded model (yunet-fold.ts): the region itself, mirrored with `flip`, padded
 * right/bottom with 0 to multiples of 16, as BGR planar 0..255. Sizes and scale are those of the 2× input it stands for.
 */
export function yunetFoldedInput(image: RgbImage, region: Box, flip = false): YunetInput {
  const r = integerRegion(region, image.width, image.height);
  const rw = r.x1 - r.x0;
  const planes = bgrPlanes(image.data, image.width, r.x0, r.y0, rw, r.y1 - r.y0, 16, flip);
  const z = FOLD_ZOOM;
  return { tensor: planes.tensor, width: planes.width * z, height: planes.height * z, scale: z, region: r, mirrorWidth: flip ? rw * z : 0 };
}

/** YuNet with its 2× enlargement folded into the first convolution (yunet-fold.ts). */
const FOLDED_MODEL: DerivedModel = { name: 'fold-2x', make: foldUpscaleIntoFirstConv };

/** Faces from YuNet-n (libfacedetection, the `yunet` model pack). */
export class YunetFaceDetector implements Detector {
  readonly name = 'face:yunet';
  readonly classes = ['face'] as const;

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly plan: YunetPlan,
    /** The same model running 2× passes on the image itself; absent when the model's first layer cannot be folded. */
    private readonly folded: ort.InferenceSession | undefined,
  ) {}

  /** `fold: false` runs 2× passes on the enlarged image (the reference the fold is checked against). */
  static async create(factory: SessionFactory, search: FaceSearch = 'balanced', plan: YunetPlan = YUNET_PLANS[search], modelFile = YUNET_MODEL_FILE, fold = true): Promise<YunetFaceDetector> {
    const { session } = await factory.load(modelFile);
    let folded: ort.InferenceSession | undefined;
    if (fold) {
      try {
        folded = (await factory.load(modelFile, FOLDED_MODEL)).session;
      } catch (err) {
        // Another YuNet export (not the pack's): its 2× passes keep the enlarged image.
        if (!(err instanceof OnnxWireError)) throw err;
      }
    }
    return new YunetFaceDetector(session, plan, folded);
  }

  async detect(image: RgbImage, options: DetectOptions): Promise<Detection[]> {
    if (!options.classes.includes('face')) return [];
    const voted = yunetPasses(image.width, image.height, this.plan).some((p) => p.vote !== undefined);
    const operating = voted ? YUNET_VOTED_OPERATING_SCORE : YUNET_OPERATING_SCORE;
    return (await this.detectRaw(image)).map((d) => ({ ...d, score: calibrateScore(d.score, operating, DEFAULT_THRESHOLDS.face) })).filter((d) => d.score >= options.thresholds.face);
  }

  /** Faces with YuNet's raw scores (≥ the decode floor), merged across passes, padded to the head and clipped. */
  async detectRaw(image: RgbImage, plan: YunetPlan = this.plan): Promise<Detection[]> {
    const passes = yunetPasses(image.width, image.height, plan);
    const perPass: ScoredBox[][] = [];
    for (const pass of passes) perPass.push(await this.passBoxes(image, pass, pass.vote !== undefined));
    return mergeYunetPasses(passes, perPass, plan.vote ?? DEFAULT_VOTE, image.width, image.height);
  }

  /**
   * One pass's boxes in image pixels with raw scores: decoded at the floor, kept within the pass's face sizes,
   * boxes cut by an inner tile edge dropped; NMS'd (IoU 0.3) within the pass when `suppress` (for voting).
   */
  async passBoxes(image: RgbImage, pass: YunetPass, suppress = false): Promise<ScoredBox[]> {
    const found: ScoredBox[] = [];
    const isTile = pass.region.x0 > 0 || pass.region.y0 > 0 || pass.region.x1 < image.width || pass.region.y1 < image.height;
    const folded = pass.zoom === FOLD_ZOOM ? this.folded : undefined;
    const input = folded ? yunetFoldedInput(image, pass.region, pass.flip) : await yunetInput(image, pass.region, pass.zoom, pass.flip);
    const session = folded ?? this.session;
    const outputs = await session.run({ [session.inputNames[0]!]: input.tensor });
    const minFace = (pass.minFace ?? 0) * input.scale;
    const maxFace = (pass.maxFace ?? Number.POSITIVE_INFINITY) * input.scale;
    const m = input.mirrorWidth;
    for (const s of YUNET_STRIDES) {
      const data = (name: string) => outputs[`${name}_${s}`]!.data as Float32Array;
      for (const b of decodeYunetLevel(data('cls'), data('obj'), data('bbox'), input.width, input.height, s, YUNET_FLOOR)) {
        const side = Math.max(b.x1 - b.x0, b.y1 - b.y0);
        if (side > maxFace || side < minFace) continue;
        const bx0 = m ? m - b.x1 : b.x0;
        const bx1 = m ? m - b.x0 : b.x1;
        const mapped = { x0: input.region.x0 + bx0 / input.scale, y0: input.region.y0 + b.y0 / input.scale, x1: input.region.x0 + bx1 / input.scale, y1: input.region.y0 + b.y1 / input.scale, score: b.score };
        if (isTile && cutByTileEdge(mapped, input.region, image.width, image.height, 2 / input.scale)) continue;
        found.push(mapped);
      }
    }
    return suppress ? nms(found, 0.3) : found;
  }

  async dispose(): Promise<void> {}
}

/**
 * Passes' boxes into faces: each vote group fused by `voteBoxes`, then greedy NMS at IoU 0.3 (as upstream)
 * over everything, then boxes lying inside a better one (a face seen by two passes) dropped; padded to the head, clipped.
 */
export function mergeYunetPasses(passes: readonly YunetPass[], perPass: readonly (readonly ScoredBox[])[], vote: VoteOptions, width: number, height: number): Detection[] {
  const found: ScoredBox[] = [];
  const groups = new Map<number, ScoredBox[][]>();
  passes.forEach((pass, i) => {
    if (pass.vote === undefined) found.push(...perPass[i]!);
    else groups.set(pass.vote, [...(groups.get(pass.vote) ?? []), [...perPass[i]!]]);
  });
  for (const group of groups.values()) found.push(...voteBoxes(group, vote));
  // Greedy NMS at IoU 0.3 (as upstream), then boxes lying inside a better one (a face seen by two passes).
  const kept: ScoredBox[] = [];
  for (const b of nms(found, 0.3)) if (!kept.some((k) => overlapOfSmaller(k, b) >= 0.75)) kept.push(b);
  const { padX, padTop, padBottom } = DEFAULT_FACE_OPTIONS;
  const out: Detection[] = [];
  for (const b of kept) {
    const w = b.x1 - b.x0;
    const h = b.y1 - b.y0;
    const box = clipBox({ x0: b.x0 - w * padX, x1: b.x1 + w * padX, y0: b.y0 - h * padTop, y1: b.y1 + h * padBottom }, width, height);
    if (box.x1 - box.x0 < 1 || box.y1 - box.y0 < 1) continue;
    out.push({ cls: 'face', score: b.score, box });
  }
  return out;
}
