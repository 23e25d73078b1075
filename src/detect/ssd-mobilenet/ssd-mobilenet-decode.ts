import type { ScoredBox } from '../boxes.ts';
import { logit } from '../mediapipe-face/face-decode.ts';

/** TF Object Detection API box coder scales (y, x, h, w) used by face-api's SSD MobileNetV1. */
const SCALE_CENTRE = 10;
const SCALE_SIZE = 5;

/**
 * Decodes `face_ssd_mobilenetv1.onnx` outputs (centre-size encoding against the shipped anchors) into
 * boxes in model-input pixels. `encodings` and `anchors` hold 4 values per anchor in (y, x, h, w) and
 * (ymin, xmin, ymax, xmax, 0..1) order; `logits` holds 3 per anchor, column 1 being the face logit.
 */
export function decodeSsdMobilenet(encodings: Float32Array, logits: Float32Array, anchors: Float32Array, inputSize: number, minScore: number): ScoredBox[] {
  const count = anchors.length / 4;
  if (encodings.length !== count * 4 || logits.length !== count * 3) {
    throw new RangeError(`SSD decoder: ${count} anchors, ${encodings.length / 4} encodings, ${logits.length / 3} logits`);
  }
  const minLogit = logit(minScore);
  const boxes: ScoredBox[] = [];
  for (let i = 0; i < count; i++) {
    const raw = logits[i * 3 + 1]!;
    if (raw < minLogit) continue;
    const a = i * 4;
    const ah = anchors[a + 2]! - anchors[a]!;
    const aw = anchors[a + 3]! - anchors[a + 1]!;
    const cy = anchors[a]! + ah / 2 + (encodings[a]! / SCALE_CENTRE) * ah;
    const cx = anchors[a + 1]! + aw / 2 + (encodings[a + 1]! / SCALE_CENTRE) * aw;
    const h = Math.exp(encodings[a + 2]! / SCALE_SIZE) * ah;
    const w = Math.exp(encodings[a + 3]! / SCALE_SIZE) * aw;
    boxes.push({
      x0: (cx - w / 2) * inputSize,
      y0: (cy - h / 2) * inputSize,
      x1: (cx + w / 2) * inputSize,
      y1: (cy + h / 2) * inputSize,
      score: 1 / (1 + Math.exp(-raw)),
    });
  }
  return boxes;
}
