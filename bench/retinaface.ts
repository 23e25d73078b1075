/** RetinaFace MobileNet-0.25 for bench/face-vote-yunet.ts (measured as a second vote; not shipped: it did not help). */
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import type { RgbImage } from '../src/types.ts';
import { nms, type ScoredBox } from '../src/detect/boxes.ts';
import type { SessionFactory } from '../src/detect/session.ts';

/** RetinaFace MobileNet-0.25 (biubug6/Pytorch_Retinaface weights, MIT): fixed 640×640 input in this file. */
export const RETINAFACE_MODEL_FILE = 'retinaface_mnet025_FaceDetector_640.onnx';
export const RETINAFACE_INPUT = 640;
const STEPS = [8, 16, 32] as const;
const MIN_SIZES = [[16, 32], [64, 128], [256, 512]] as const;
const MEAN_BGR = [104, 117, 123] as const;

/** Priors (cx, cy, w, h as fractions of the input) for an input of width×height: per step, row, column, size. */
export function retinafacePriors(width: number, height: number): Float32Array {
  const out: number[] = [];
  STEPS.forEach((step, k) => {
    const rows = Math.ceil(height / step);
    const cols = Math.ceil(width / step);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) for (const m of MIN_SIZES[k]!) out.push(((j + 0.5) * step) / width, ((i + 0.5) * step) / height, m / width, m / height);
  });
  return Float32Array.from(out);
}

/** Decodes output0 [N,16] (4 offsets, 2 logits, 10 landmarks) with variances 0.1/0.2; boxes in input pixels, score softmax[1]. */
export function decodeRetinaface(output: Float32Array, priors: Float32Array, width: number, height: number, minScore: number): ScoredBox[] {
  const out: ScoredBox[] = [];
  for (let n = 0, o = 0; n * 4 < priors.length; n++, o += 16) {
    const score = 1 / (1 + Math.exp(output[o + 4]! - output[o + 5]!));
    if (score < minScore) continue;
    const pcx = priors[n * 4]!, pcy = priors[n * 4 + 1]!, pw = priors[n * 4 + 2]!, ph = priors[n * 4 + 3]!;
    const cx = pcx + output[o]! * 0.1 * pw;
    const cy = pcy + output[o + 1]! * 0.1 * ph;
    const w = pw * Math.exp(output[o + 2]! * 0.2);
    const h = ph * Math.exp(output[o + 3]! * 0.2);
    out.push({ x0: (cx - w / 2) * width, y0: (cy - h / 2) * height, x1: (cx + w / 2) * width, y1: (cy + h / 2) * height, score });
  }
  return out;
}

/** RetinaFace over a whole frame scaled by min(zoom, 640 / longer side), padded right/bottom; boxes in image pixels. */
export class RetinafaceDetector {
  private readonly priors = retinafacePriors(RETINAFACE_INPUT, RETINAFACE_INPUT);
  private constructor(private readonly session: ort.InferenceSession) {}

  static async create(factory: SessionFactory): Promise<RetinafaceDetector> {
    return new RetinafaceDetector((await factory.load(RETINAFACE_MODEL_FILE)).session);
  }

  async boxes(image: RgbImage, zoom: number, minScore: number, maxFace = Number.POSITIVE_INFINITY): Promise<ScoredBox[]> {
    const z = Math.min(zoom, RETINAFACE_INPUT / Math.max(image.width, image.height));
    const outW = Math.max(1, Math.min(RETINAFACE_INPUT, Math.round(image.width * z)));
    const outH = Math.max(1, Math.min(RETINAFACE_INPUT, Math.round(image.height * z)));
    const rgb = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).resize(outW, outH, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
    const S = RETINAFACE_INPUT;
    const plane = S * S;
    const data = new Float32Array(plane * 3);
    data.fill(0);
    for (let y = 0; y < outH; y++) {
      for (let x = 0, i = y * outW * 3, o = y * S; x < outW; x++, i += 3, o++) {
        data[o] = rgb[i + 2]! - MEAN_BGR[0];
        data[plane + o] = rgb[i + 1]! - MEAN_BGR[1];
        data[2 * plane + o] = rgb[i]! - MEAN_BGR[2];
      }
    }
    // Padding is 0 after the mean, as upstream pads the mean-subtracted image.
    const outputs = await this.session.run({ [this.session.inputNames[0]!]: new ort.Tensor('float32', data, [1, 3, S, S]) });
    const out = outputs[this.session.outputNames[0]!]!.data as Float32Array;
    const sx = outW / image.width;
    const sy = outH / image.height;
    const found = decodeRetinaface(out, this.priors, S, S, minScore)
      .map((b) => ({ x0: b.x0 / sx, y0: b.y0 / sy, x1: b.x1 / sx, y1: b.y1 / sy, score: b.score }))
      .filter((b) => Math.max(b.x1 - b.x0, b.y1 - b.y0) <= maxFace);
    return nms(found, 0.4);
  }
}
