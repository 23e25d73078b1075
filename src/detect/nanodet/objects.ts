import * as ort from 'onnxruntime-node';
import type { Box, Detection, ObjectClass, RgbImage } from '../../types.ts';
import { clipBox, nms, iou, overlapOfSmaller, padBox, type ScoredBox } from '../boxes.ts';
import { letterbox, rgbToNormalisedNchw, toImageBox, type Placement } from '../image-input.ts';
import { pipelined } from '../pipelined.ts';
import { decodeNanoDetLevel, type ClassedBox } from './nanodet-decode.ts';
import type { SessionFactory } from '../session.ts';
import { cutByTileEdge, gridTiles } from '../tiles.ts';
import type { Detector, DetectOptions } from '../types.ts';

export const NANODET_MODEL_FILE = 'nanodet_coco.onnx';
const INPUT = 416;
const NUM_CLASSES = 80;
const STRIDES = [8, 16, 32] as const;

/** COCO-80 indices per product class. Bicycles are not vehicles here (their riders are persons). */
export const COCO_CLASSES: Record<'person' | 'vehicle', readonly number[]> = {
  person: [0],
  vehicle: [2, 3, 5, 7], // car, motorcycle, bus, truck
};

// NanoDet's training normalisation, on 0..255 values, in B, G, R order (mean/std rescaled to 0..1 input).
const BGR: readonly [number, number, number] = [2, 1, 0];
const MEAN: readonly [number, number, number] = [103.53 / 255, 116.28 / 255, 123.675 / 255];
const STD: readonly [number, number, number] = [57.375 / 255, 57.12 / 255, 58.395 / 255];

export interface ObjectDetectorOptions {
  /**
   * Native-resolution tiles on top of the whole-image pass, for small and distant objects:
   * a tile covers `tileSide` image px. Skipped when the image is not much larger than one tile.
   */
  tileSide: number;
  /** Tiling starts when the longest image side exceeds this multiple of the tile side. */
  tileWhenLargerThan: number;
  maxTiles: number;
  /**
   * Tile levels: a level of zoom z cuts tiles of tileSide / z image pixels (so z > 1 upsamples small,
   * distant objects into NanoDet's range); no tiles at all when the image is not much larger than tileSide.
   */
  tileZooms: readonly number[];
  /** Margin added on each side, as a fraction of the box: NanoDet's boxes are tight, anonymisation wants the edges too. */
  pad: number;
}

export const DEFAULT_OBJECT_OPTIONS: ObjectDetectorOptions = {
  tileSide: 416,
  tileWhenLargerThan: 1.3,
  maxTiles: 12,
  // Tiles on the image upscaled 1.5× (277-px tiles) instead of native 416-px ones, at about the same cost:
  // small vehicles (< 32 px) missed 23 of 65 -> 14 of 65 on the development set (bench/object-sweep.ts).
  tileZooms: [1.5],
  pad: 0.04,
};

const DECODE_FLOOR = 0.2;

function sameObject(a: Box, b: Box): boolean {
  return iou(a, b) >= 0.5 || overlapOfSmaller(a, b) >= 0.85;
}

/** Persons and vehicles from NanoDet (COCO-80). */
export class ObjectDetector implements Detector {
  readonly name = 'person+vehicle:nanodet';
  readonly classes = ['person', 'vehicle'] as const;

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly options: ObjectDetectorOptions,
  ) {}

  static async create(factory: SessionFactory, options: Partial<ObjectDetectorOptions> = {}): Promise<ObjectDetector> {
    const { session } = await factory.load(NANODET_MODEL_FILE);
    return new ObjectDetector(session, { ...DEFAULT_OBJECT_OPTIONS, ...options });
  }

  /** Regions to run: the whole image, then overlapping tiles per zoom level for large images. */
  regions(width: number, height: number): Box[] {
    const whole = { x0: 0, y0: 0, x1: width, y1: height };
    const o = this.options;
    // Close-ups (not much larger than one native tile) run whole only: tiles of them see fragments of a
    // person (a hand, a shoulder in a corner) that come out as more persons.
    if (Math.max(width, height) <= o.tileSide * o.tileWhenLargerThan) return [whole];
    const out: Box[] = [whole];
    for (const zoom of o.tileZooms) {
      let side = Math.round(o.tileSide / zoom);
      let tiles = gridTiles(width, height, side, Math.round(side * 0.25));
      // Very large images get larger tiles (downscaled) rather than unbounded work.
      while (tiles.length > o.maxTiles) {
        side = Math.round(side * 1.25);
        tiles = gridTiles(width, height, side, Math.round(side * 0.25));
      }
      out.push(...tiles);
    }
    return out;
  }

  async detect(image: RgbImage, options: DetectOptions): Promise<Detection[]> {
    const want = (['person', 'vehicle'] as const).filter((c) => options.classes.includes(c));
    if (want.length === 0) return [];
    const wanted = new Set(want.flatMap((c) => COCO_CLASSES[c]));
    const minScore = Math.min(DECODE_FLOOR, ...want.map((c) => options.thresholds[c]));
    const found: ClassedBox[] = [];
    // The next region's input is cut and packed while the session runs the current one.
    await pipelined(this.regions(image.width, image.height), (region) => this.prepare(image, region), async ({ input, placement }, region) => {
      const isTile = region.x1 - region.x0 < image.width || region.y1 - region.y0 < image.height;
      for (const b of await this.runInput(input, placement, wanted, minScore)) {
        if (isTile && cutByTileEdge(b, region, image.width, image.height, 2)) continue;
        found.push(b);
      }
    });
    const out: Detection[] = [];
    for (const cls of want) {
      const ids = COCO_CLASSES[cls];
      // Per COCO class first (the same car seen twice), then across classes (a van called both car and truck).
      const perCoco = ids.flatMap((id) => nms(found.filter((b) => b.cocoClass === id), 0.5));
      const merged = mergeSameObject(perCoco);
      for (const b of merged) {
        if (b.score < options.thresholds[cls]) continue;
        const box = clipBox(padBox(b, this.options.pad, this.options.pad), image.width, image.height);
        if (box.x1 - box.x0 < 1 || box.y1 - box.y0 < 1) continue;
        out.push({ cls: cls as ObjectClass, score: b.score, box });
      }
    }
    return out;
  }

  private async prepare(image: RgbImage, region: Box): Promise<{ input: ort.Tensor; placement: Placement }> {
    const { rgb, placement } = await letterbox(image, region, INPUT, INPUT);
    return { input: new ort.Tensor('float32', rgbToNormalisedNchw(rgb, INPUT, INPUT, BGR, MEAN, STD), [1, 3, INPUT, INPUT]), placement };
  }

  private async runInput(input: ort.Tensor, placement: Placement, wanted: ReadonlySet<number>, minScore: number): Promise<ClassedBox[]> {
    const outputs = await this.session.run({ [this.session.inputNames[0]!]: input });
    const boxes: ClassedBox[] = [];
    for (const stride of STRIDES) {
      const scores = outputs[`scores_stride${stride}`]!.data as Float32Array;
      const distances = outputs[`distances_stride${stride}`]!.data as Float32Array;
      for (const b of decodeNanoDetLevel(scores, distances, NUM_CLASSES, INPUT / stride, stride, wanted, minScore)) {
        boxes.push(toImageBox(b, placement));
      }
    }
    return boxes;
  }

  async dispose(): Promise<void> {}
}

/**
 * Greedy merge of boxes of one object from different passes: the best score stays, and the box grows
 * to the union of the group's confident members, because a tile often sees only part of a large
 * object with a higher score than the whole-image pass, and anonymisation must cover all of it.
 */
export function mergeSameObject<T extends ScoredBox>(boxes: readonly T[], keepRatio = 0.5): T[] {
  const sorted = [...boxes].sort((a, b) => b.score - a.score);
  const kept: T[] = [];
  for (const b of sorted) {
    const k = kept.find((c) => sameObject(c, b));
    if (!k) {
      kept.push({ ...b });
    } else if (b.score >= keepRatio * k.score) {
      k.x0 = Math.min(k.x0, b.x0);
      k.y0 = Math.min(k.y0, b.y0);
      k.x1 = Math.max(k.x1, b.x1);
      k.y1 = Math.max(k.y1, b.y1);
    }
  }
  return kept;
}
