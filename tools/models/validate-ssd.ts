/** Converted SSD MobileNetV1 against face-api's own network in tfjs-cpu, on two photos. */
import { decodeSsdMobilenet } from '../../src/detect/ssd-mobilenet/ssd-mobilenet-decode.ts';
import { imageToTensor } from './preprocess.ts';
import type { InputRecipe } from './preprocess.ts';
import { runFaceApiSsd } from './oracle-face-api.ts';
import { FACES_PHOTO, PERSON_PHOTO, fixture, runOnnx } from './validations.ts';

export const SSD_RECIPE: InputRecipe = { width: 512, height: 512, layout: 'NHWC', channels: 'RGB', mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5] };
const RAW_RECIPE: InputRecipe = { ...SSD_RECIPE, mean: [0, 0, 0], std: [1, 1, 1] };

export interface SsdComparison {
  photo: string;
  /** Largest difference of any of the 5118 face probabilities. */
  maxScoreDiff: number;
  /** Largest difference of any box coordinate among anchors scoring ≥ 0.05, in 512-pixel input units. */
  maxBoxDiffPx: number;
  facesAt05: { onnx: number; faceApi: number };
}

export async function compareSsdWithFaceApi(onnxBytes: Uint8Array, photo: string): Promise<SsdComparison> {
  const image = fixture(photo);
  const out = await runOnnx(onnxBytes, { input: await imageToTensor(image, SSD_RECIPE) });
  const ours = decodeSsdMobilenet(out['box_encodings']!.data, out['class_logits']!.data, out['anchors']!.data, 512, 0);
  const ref = await runFaceApiSsd((await imageToTensor(image, RAW_RECIPE)).data);
  let maxScoreDiff = 0;
  let maxBoxDiffPx = 0;
  for (let i = 0; i < ours.length; i++) {
    const o = ours[i]!;
    maxScoreDiff = Math.max(maxScoreDiff, Math.abs(o.score - ref.scores[i]!));
    if (ref.scores[i]! < 0.05) continue;
    const [y0, x0, y1, x1] = [ref.boxes[i * 4]!, ref.boxes[i * 4 + 1]!, ref.boxes[i * 4 + 2]!, ref.boxes[i * 4 + 3]!].map((v) => v * 512);
    maxBoxDiffPx = Math.max(maxBoxDiffPx, Math.abs(o.x0 - x0!), Math.abs(o.y0 - y0!), Math.abs(o.x1 - x1!), Math.abs(o.y1 - y1!));
  }
  return {
    photo,
    maxScoreDiff,
    maxBoxDiffPx,
    facesAt05: { onnx: ours.filter((b) => b.score >= 0.5).length, faceApi: ref.scores.filter((s) => s >= 0.5).length },
  };
}

export async function validateSsdMobilenet(onnxBytes: Uint8Array): Promise<Record<string, unknown>> {
  const results = [];
  for (const photo of [PERSON_PHOTO, FACES_PHOTO]) {
    const c = await compareSsdWithFaceApi(onnxBytes, photo);
    results.push({ ...c, maxScoreDiff: Number(c.maxScoreDiff.toExponential(2)), maxBoxDiffPx: Number(c.maxBoxDiffPx.toExponential(2)) });
  }
  return { reference: '@vladmandic/face-api@1.7.15 SsdMobilenetv1 (dist/face-api.esm-nobundle.js) on @tensorflow/tfjs cpu, same 512x512 stretched input', results };
}
