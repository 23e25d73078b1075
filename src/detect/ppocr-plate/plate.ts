import * as ort from 'onnxruntime-node';
import type { Box, Detection, RgbImage } from '../../types.ts';
import { clipBox, intersectionArea, iou, overlapOfSmaller, weightedNms, type ScoredBox } from '../boxes.ts';
import { letterbox, rgbToNormalisedNchw, toImageBox, type Placement } from '../image-input.ts';
import { pipelined } from '../pipelined.ts';
import { DEFAULT_PLATE_SHAPE, isPlateShaped, mergePlateParts, plateFrame, type PlateShapeOptions } from './plate-shape.ts';
import type { SessionFactory } from '../session.ts';
import { DEFAULT_TEXT_MAP_OPTIONS, textBoxesFromMap, type TextMapOptions } from './text-map.ts';
import type { Detector, DetectOptions } from '../types.ts';

export const PLATE_MODEL_FILE = 'ppocr_v4_det.onnx';

export interface PlateDetectorOptions {
  /** Longest side of the whole-frame pass (PP-OCR finds characters from about 8 px high). */
  frameMaxSide: number;
  /** Most a small frame is enlarged for the whole-frame pass. */
  frameMaxUpscale: number;
  /** Longest side a vehicle crop is scaled to; plates inside far-away cars become readable. */
  vehicleCropSide: number;
  /** Vehicle boxes smaller than this (image px, longest side) carry no readable plate. */
  minVehicleSide: number;
  maxVehicleCrops: number;
  text: TextMapOptions;
  shape: PlateShapeOptions;
}

// Frame pass 1152 px and crops 512 px instead of 1280 / 640 (bench/plate-sweep.ts, 159 plate images): coverage
// 0.956 -> 0.962, recall@0.5 0.623 -> 0.629, 0.38 -> 0.36 FP/image, with 0.93 instead of 1.12 MP of model input
// per image (at 1024 / 512: 0.962, 0.604, 0.35 at 0.79 MP; at 960 / 640: 0.956, 0.572; at 896: coverage 0.943).
export const DEFAULT_PLATE_OPTIONS: PlateDetectorOptions = {
  frameMaxSide: 1152,
  frameMaxUpscale: 2,
  vehicleCropSide: 512,
  minVehicleSide: 40,
  maxVehicleCrops: 6,
  text: DEFAULT_TEXT_MAP_OPTIONS,
  shape: DEFAULT_PLATE_SHAPE,
};

// PaddleOCR's detector takes BGR normalised with ImageNet statistics (given here in B, G, R order).
const BGR: readonly [number, number, number] = [2, 1, 0];
const MEAN_BGR: readonly [number, number, number] = [0.406, 0.456, 0.485];
const STD_BGR: readonly [number, number, number] = [0.225, 0.224, 0.229];

/** Model input side for a region side after scaling: PP-OCR needs multiples of 32. */
function multipleOf32(v: number): number {
  return Math.max(32, Math.ceil(v / 32) * 32);
}

function samePlate(a: Box, b: Box): boolean {
  return iou(a, b) >= 0.3 || overlapOfSmaller(a, b) >= 0.6;
}

export class PlateDetector implements Detector {
  readonly name = 'license-plate:ppocr-det';
  readonly classes = ['license-plate'] as const;

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly options: PlateDetectorOptions,
  ) {}

  static async create(factory: SessionFactory, options: Partial<PlateDetectorOptions> = {}): Promise<PlateDetector> {
    const { session } = await factory.load(PLATE_MODEL_FILE);
    return new PlateDetector(session, { ...DEFAULT_PLATE_OPTIONS, ...options });
  }

  /**
   * `vehicles`: boxes from the vehicle detector when it runs (undefined when it does not), possibly still
   * to come: the whole-frame pass runs meanwhile. They are searched again at a closer zoom, and they limit
   * plates to one per vehicle (see onePlatePerVehicle).
   */
  async detect(image: RgbImage, options: DetectOptions, vehicles?: readonly Box[] | Promise<readonly Box[]>): Promise<Detection[]> {
    if (!options.classes.includes('license-plate')) return [];
    const o = this.options;
    const whole: Box = { x0: 0, y0: 0, x1: image.width, y1: image.height };
    const frameScale = Math.min(o.frameMaxSide / Math.max(image.width, image.height), o.frameMaxUpscale);
    const framePass = this.pass(image, await this.prepare(image, whole, frameScale));
    // Until the frame pass is awaited below, a failure of the vehicle search must not leave it unhandled.
    framePass.catch(() => undefined);
    const vehicleBoxes = await vehicles;
    const crops: { region: Box; scale: number }[] = [];
    const largestFirst = [...(vehicleBoxes ?? [])]
      .filter((v) => Math.max(v.x1 - v.x0, v.y1 - v.y0) >= o.minVehicleSide)
      .sort((a, b) => (b.x1 - b.x0) * (b.y1 - b.y0) - (a.x1 - a.x0) * (a.y1 - a.y0))
      .slice(0, o.maxVehicleCrops);
    for (const v of largestFirst) {
      const region = clipBox({ x0: v.x0 - (v.x1 - v.x0) * 0.05, y0: v.y0 - (v.y1 - v.y0) * 0.05, x1: v.x1 + (v.x1 - v.x0) * 0.05, y1: v.y1 + (v.y1 - v.y0) * 0.05 }, image.width, image.height);
      const side = Math.max(region.x1 - region.x0, region.y1 - region.y0);
      const scale = Math.min(o.vehicleCropSide / side, 3);
      // A crop that the whole-frame pass already saw at the same or finer scale adds nothing.
      if (scale <= frameScale * 1.25) continue;
      crops.push({ region, scale });
    }
    // Crops queue behind the frame pass in the session; the next crop is cut while one runs.
    const cropped = await pipelined(crops, ({ region, scale }) => this.prepare(image, region, scale), (prepared) => this.pass(image, prepared));
    const candidates: ScoredBox[] = [...(await framePass), ...cropped.flat()];
    let plates = weightedNms(candidates, 0.3, samePlate);
    if (vehicleBoxes) plates = onePlatePerVehicle(plates, vehicleBoxes);
    const out: Detection[] = [];
    for (const b of plates) {
      if (b.score < options.thresholds['license-plate']) continue;
      const box = clipBox(plateFrame(b, o.shape), image.width, image.height);
      if (box.x1 - box.x0 < 1 || box.y1 - box.y0 < 1) continue;
      out.push({ cls: 'license-plate', score: b.score, box });
    }
    return out;
  }

  /** A region scaled by `scale` (rounded up to multiples of 32, which may enlarge it slightly more; the aspect is kept). */
  private async prepare(image: RgbImage, region: Box, scale: number): Promise<{ input: ort.Tensor; placement: Placement }> {
    const inW = multipleOf32((region.x1 - region.x0) * scale);
    const inH = multipleOf32((region.y1 - region.y0) * scale);
    const { rgb, placement } = await letterbox(image, region, inW, inH);
    return { input: new ort.Tensor('float32', rgbToNormalisedNchw(rgb, inW, inH, BGR, MEAN_BGR, STD_BGR), [1, 3, inH, inW]), placement };
  }

  /** Plate-shaped text lines of one pass, in image pixels. */
  private async pass(image: RgbImage, { input, placement }: { input: ort.Tensor; placement: Placement }): Promise<ScoredBox[]> {
    const [, , inH, inW] = input.dims as [number, number, number, number];
    const outputs = await this.session.run({ [this.session.inputNames[0]!]: input });
    const map = outputs[this.session.outputNames[0]!]!.data as Float32Array;
    const texts = textBoxesFromMap(map, inW, inH, this.options.text).map((b) => toImageBox(b, placement));
    return mergePlateParts(texts).filter((line) => isPlateShaped(line, image.width, image.height, this.options.shape));
  }

  async dispose(): Promise<void> {}
}

const RUNNER_UP = 0.4;
const area = (b: Box) => (b.x1 - b.x0) * (b.y1 - b.y0);

/**
 * A text detector boxes every word on a car (badges, model names, dealer stickers); a photo shows at
 * most one plate per vehicle. So each vehicle keeps its largest plate-shaped text (plate characters
 * are the largest text on a car's front or back), plus any text inside that plate's frame.
 * Text on no vehicle is kept only when no vehicle was found at all (close-ups of a plate, where the
 * car fills or leaves the frame); when vehicles were found, it is signage or a missed vehicle.
 */
export function onePlatePerVehicle<T extends Box>(candidates: readonly T[], vehicles: readonly Box[]): T[] {
  if (vehicles.length === 0) return [...candidates];
  // Boxes of parked cars overlap, so a text may lie in several vehicles: it is kept if it wins any of them.
  const kept = new Set<T>();
  for (const vehicle of vehicles) {
    const group = candidates.filter((c) => intersectionArea(c, vehicle) >= 0.8 * area(c));
    if (group.length === 0) continue;
    const best = group.reduce((a, b) => (area(b) > area(a) ? b : a));
    const frame = plateFrame(best);
    // A runner-up nearly as large is kept too: a wrong choice leaves a plate readable, an extra box does not.
    for (const c of group) if (area(c) >= RUNNER_UP * area(best) || intersectionArea(c, frame) >= 0.8 * area(c)) kept.add(c);
  }
  return candidates.filter((c) => kept.has(c));
}
