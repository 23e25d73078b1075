import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import type { Box, Detection, RgbImage } from '../../types.ts';
import { clipBox, nms, type ScoredBox } from '../boxes.ts';
import { DEFAULT_FACE_OPTIONS } from '../mediapipe-face/face.ts';
import type { SessionFactory } from '../session.ts';
import type { Detector, DetectOptions } from '../types.ts';

/**
 * MTCNN (Zhang et al. 2016, face-api.js weights): a 12-pixel sliding window (P-Net) over an image
 * pyramid proposes faces, R-Net (24×24 crops) and O-Net (48×48 crops) refine and re-score them. The
 * windows are small and the pyramid starts above native size, so it finds faces of 8-20 px that the
 * anchor-based models miss, masked ones included; its O-Net also scores the other models' candidates
 * (see face-ensemble.ts).
 */
export const MTCNN_FILES = { pnet: 'face_mtcnn_pnet.onnx', rnet: 'face_mtcnn_rnet.onnx', onet: 'face_mtcnn_onet.onnx' } as const;

export interface MtcnnOptions {
  /**
   * Smallest face side searched for, in image pixels (the pyramid's first scale is 12 / minFace), and
   * the same as a fraction of the frame's longer side, whichever is larger: P-Net's cost grows with
   * (side / minFace)², so this keeps the cascade at about the cost of a 400-px photo on any frame.
   */
  minFace: number;
  minFaceOfSide: number;
  /** Scale step between pyramid levels. */
  scaleStep: number;
  /** Stage thresholds (P-Net, R-Net); O-Net's score is the detection's score. */
  pnetThreshold: number;
  rnetThreshold: number;
  /** Padding that moves MTCNN's brow-to-chin box onto the head, as for the other face models. */
  padX: number;
  padTop: number;
  padBottom: number;
}

export const DEFAULT_MTCNN_OPTIONS: MtcnnOptions = {
  minFace: 8,
  minFaceOfSide: 0.02,
  scaleStep: 0.709,
  pnetThreshold: 0.6,
  rnetThreshold: 0.6,
  padX: DEFAULT_FACE_OPTIONS.padX,
  padTop: DEFAULT_FACE_OPTIONS.padTop,
  padBottom: DEFAULT_FACE_OPTIONS.padBottom,
};

const PNET_CELL = 12;
const PNET_STRIDE = 2;
const MAX_PROPOSALS = 600;

interface Proposal extends ScoredBox {
  /** Edge offsets as fractions of the box size (dx0, dy0, dx1, dy1). */
  reg: [number, number, number, number];
}

export class MtcnnFaceDetector implements Detector {
  readonly name = 'face:mtcnn';
  readonly classes = ['face'] as const;

  private constructor(
    private readonly pnet: ort.InferenceSession,
    private readonly rnet: ort.InferenceSession,
    private readonly onet: ort.InferenceSession,
    private readonly options: MtcnnOptions,
  ) {}

  static async create(factory: SessionFactory, options: Partial<MtcnnOptions> = {}): Promise<MtcnnFaceDetector> {
    const [p, r, o] = await Promise.all([factory.load(MTCNN_FILES.pnet), factory.load(MTCNN_FILES.rnet), factory.load(MTCNN_FILES.onet)]);
    return new MtcnnFaceDetector(p.session, r.session, o.session, { ...DEFAULT_MTCNN_OPTIONS, ...options });
  }

  async detect(image: RgbImage, options: DetectOptions): Promise<Detection[]> {
    if (!options.classes.includes('face')) return [];
    return this.detectAbove(image, options.thresholds.face);
  }

  /** Faces whose O-Net score is at least `threshold`, padded to the head and clipped. */
  async detectAbove(image: RgbImage, threshold: number): Promise<Detection[]> {
    let boxes = await this.propose(image);
    boxes = await this.refine(image, boxes, 'rnet');
    boxes = (await this.refine(image, boxes, 'onet')).filter((b) => b.score >= threshold);
    const kept = nms(boxes, 0.5);
    const o = this.options;
    const out: Detection[] = [];
    for (const b of kept) {
      const w = b.x1 - b.x0;
      const h = b.y1 - b.y0;
      const box = clipBox({ x0: b.x0 - w * o.padX, x1: b.x1 + w * o.padX, y0: b.y0 - h * o.padTop, y1: b.y1 + h * o.padBottom }, image.width, image.height);
      if (box.x1 - box.x0 >= 1 && box.y1 - box.y0 >= 1) out.push({ cls: 'face', score: b.score, box });
    }
    return out;
  }

  /**
   * O-Net's face probability for each box (a face box as the models draw it, brow to chin), from a
   * square crop around it. Used to re-score candidates of the other face models.
   */
  async faceProbability(image: RgbImage, boxes: readonly Box[]): Promise<number[]> {
    if (boxes.length === 0) return [];
    const probs = await this.runCrops(this.onet, image, boxes.map(square), 48);
    return probs.map((p) => p.prob);
  }

  /** P-Net over the pyramid: square proposals after per-level and global NMS. */
  private async propose(image: RgbImage): Promise<Proposal[]> {
    const o = this.options;
    const minFace = Math.max(o.minFace, o.minFaceOfSide * Math.max(image.width, image.height));
    const all: Proposal[] = [];
    for (let scale = PNET_CELL / minFace; Math.min(image.width, image.height) * scale >= PNET_CELL; scale *= o.scaleStep) {
      const w = Math.round(image.width * scale);
      const h = Math.round(image.height * scale);
      const resized = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).resize(w, h, { fit: 'fill' }).raw().toBuffer();
      const out = await this.pnet.run({ input: new ort.Tensor('float32', Float32Array.from(resized), [1, h, w, 3]) });
      const prob = out.prob!;
      const reg = out.regression!.data as Float32Array;
      // Transposed layout: [1, C, cellsX, cellsY].
      const [, , cx, cy] = prob.dims as [number, number, number, number];
      const p = prob.data as Float32Array;
      const plane = cx * cy;
      const level: Proposal[] = [];
      for (let i = 0; i < cx; i++) {
        for (let j = 0; j < cy; j++) {
          const k = i * cy + j;
          const score = p[plane + k]!;
          if (score < o.pnetThreshold) continue;
          const x0 = (i * PNET_STRIDE) / scale;
          const y0 = (j * PNET_STRIDE) / scale;
          const side = PNET_CELL / scale;
          level.push({ x0, y0, x1: x0 + side, y1: y0 + side, score, reg: [reg[k]!, reg[plane + k]!, reg[2 * plane + k]!, reg[3 * plane + k]!] });
        }
      }
      all.push(...nms(level, 0.5));
    }
    const kept = nms(all, 0.7).slice(0, MAX_PROPOSALS);
    return kept.map((b) => ({ ...square(applyRegression(b)), score: b.score, reg: [0, 0, 0, 0] }));
  }

  /** One refinement stage: re-score the crops, drop the weak, apply the box regression, merge. */
  private async refine(image: RgbImage, boxes: Proposal[], stage: 'rnet' | 'onet'): Promise<Proposal[]> {
    if (boxes.length === 0) return [];
    const size = stage === 'rnet' ? 24 : 48;
    const results = await this.runCrops(stage === 'rnet' ? this.rnet : this.onet, image, boxes, size);
    const floor = stage === 'rnet' ? this.options.rnetThreshold : 0;
    const kept: Proposal[] = [];
    boxes.forEach((b, i) => {
      const r = results[i]!;
      if (r.prob < floor) return;
      const refined = applyRegression({ ...b, reg: r.reg });
      kept.push({ ...(stage === 'rnet' ? square(refined) : refined), score: r.prob, reg: [0, 0, 0, 0] });
    });
    return nms(kept, 0.7);
  }

  private async runCrops(session: ort.InferenceSession, image: RgbImage, boxes: readonly Box[], size: number): Promise<{ prob: number; reg: [number, number, number, number] }[]> {
    const pixels = size * size * 3;
    const input = new Float32Array(boxes.length * pixels);
    boxes.forEach((b, i) => sampleCrop(image, b, size, input.subarray(i * pixels, (i + 1) * pixels)));
    const out = await session.run({ input: new ort.Tensor('float32', input, [boxes.length, size, size, 3]) });
    const prob = out.prob!.data as Float32Array;
    const reg = out.regression!.data as Float32Array;
    return boxes.map((_, i) => ({ prob: prob[i * 2 + 1]!, reg: [reg[i * 4]!, reg[i * 4 + 1]!, reg[i * 4 + 2]!, reg[i * 4 + 3]!] }));
  }

  async dispose(): Promise<void> {}
}

function applyRegression<T extends Proposal>(b: T): T {
  const w = b.x1 - b.x0;
  const h = b.y1 - b.y0;
  return { ...b, x0: b.x0 + b.reg[0] * w, y0: b.y0 + b.reg[1] * h, x1: b.x1 + b.reg[2] * w, y1: b.y1 + b.reg[3] * h };
}

/** The square of the box's longer side around its centre (MTCNN's stages take square crops). */
export function square<T extends Box>(b: T): T {
  const side = Math.max(b.x1 - b.x0, b.y1 - b.y0);
  const cx = (b.x0 + b.x1) / 2;
  const cy = (b.y0 + b.y1) / 2;
  return { ...b, x0: cx - side / 2, y0: cy - side / 2, x1: cx + side / 2, y1: cy + side / 2 };
}

/**
 * Bilinear crop of `box` into a size×size float RGB patch (0..255; outside the image is black). Patches
 * are tiny and numerous, so one loop here is cheaper than a sharp pipeline per crop.
 */
export function sampleCrop(image: RgbImage, box: Box, size: number, out: Float32Array): void {
  const { data, width, height } = image;
  const sx = (box.x1 - box.x0) / size;
  const sy = (box.y1 - box.y0) / size;
  // Offset of a pixel in `data`, or -1 outside the image (black).
  const at = (x: number, y: number) => (x < 0 || y < 0 || x >= width || y >= height ? -1 : (y * width + x) * 3);
  for (let v = 0; v < size; v++) {
    const fy = box.y0 + (v + 0.5) * sy - 0.5;
    const y0 = Math.floor(fy);
    const ty = fy - y0;
    for (let u = 0; u < size; u++) {
      const fx = box.x0 + (u + 0.5) * sx - 0.5;
      const x0 = Math.floor(fx);
      const tx = fx - x0;
      const corners = [at(x0, y0), at(x0 + 1, y0), at(x0, y0 + 1), at(x0 + 1, y0 + 1)] as const;
      const weights = [(1 - tx) * (1 - ty), tx * (1 - ty), (1 - tx) * ty, tx * ty] as const;
      const o = (v * size + u) * 3;
      for (let c = 0; c < 3; c++) {
        let value = 0;
        for (let k = 0; k < 4; k++) if (corners[k]! >= 0) value += data[corners[k]! + c]! * weights[k]!;
        out[o + c] = value;
      }
    }
  }
}
