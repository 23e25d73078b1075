/**
 * Numerical checks of converted models against independent references. Each returns the figures recorded
 * in manifest.json; the tests call the same functions and assert on the figures.
 */
import * as ort from 'onnxruntime-node';
import { packageFiles } from './npm-source.ts';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PACKAGES } from './sources.ts';
import { imageToTensor } from './preprocess.ts';
import type { InputRecipe } from './preprocess.ts';
import { maxAbsDiff, runTfjsModel } from './oracle-tfjs.ts';
import type { ConstTensor } from './tfjs-reader.ts';

export const NANODET_RECIPE: InputRecipe = {
  width: 416,
  height: 416,
  layout: 'NCHW',
  channels: 'BGR',
  mean: [103.53, 116.28, 123.675],
  std: [57.375, 57.12, 58.395],
};

export const NANODET_OUTPUTS: [string, string][] = [
  ['Identity', 'scores_stride8'],
  ['Identity_1', 'scores_stride16'],
  ['Identity_2', 'scores_stride32'],
  ['Identity_3', 'distances_stride8'],
  ['Identity_4', 'distances_stride16'],
  ['Identity_5', 'distances_stride32'],
];

/** Two significant digits keep the manifest stable against last-bit noise in the figures. */
export function round2(x: number): number {
  return x === 0 ? 0 : Number(x.toPrecision(2));
}

/** Public-domain photos committed in test/fixtures (see test/fixtures/SOURCES.md). */
export const PERSON_PHOTO = 'test/fixtures/astronaut.jpg';
export const FACES_PHOTO = 'test/fixtures/faces.jpg';

export function fixture(path: string): Uint8Array {
  return readFileSync(resolve(import.meta.dirname, '../..', path));
}

export async function runOnnx(bytes: Uint8Array, feeds: Record<string, { dims: number[]; data: Float32Array }>): Promise<Record<string, { dims: number[]; data: Float32Array }>> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 2 });
  const inputs: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) inputs[k] = new ort.Tensor('float32', v.data, v.dims);
  const result = await session.run(inputs);
  const out: Record<string, { dims: number[]; data: Float32Array }> = {};
  for (const [k, v] of Object.entries(result)) out[k] = { dims: [...v.dims], data: v.data as Float32Array };
  await session.release();
  return out;
}

/** NanoDet ONNX against the TFJS original in @tensorflow/tfjs-cpu on the validation photo. */
export async function validateNanodet(onnxBytes: Uint8Array): Promise<Record<string, unknown>> {
  const paths = ['package/models/nanodet.json', 'package/models/nanodet.bin'];
  const files = packageFiles(PACKAGES.humanModels, paths);
  const input = await imageToTensor(fixture(PERSON_PHOTO), NANODET_RECIPE);
  const reference = await runTfjsModel(files.get(paths[0]!)!, new Map([['nanodet.bin', files.get(paths[1]!)!]]), { input_1: input }, NANODET_OUTPUTS.map(([tf]) => tf));
  const converted = await runOnnx(onnxBytes, { input });
  const perOutput: Record<string, { maxAbsDiff: number; maxAbsValue: number }> = {};
  for (const [tf, onnx] of NANODET_OUTPUTS) {
    const ref = reference[tf]!.data;
    perOutput[onnx] = { maxAbsDiff: round2(maxAbsDiff(converted[onnx]!.data, ref)), maxAbsValue: round2(ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0)) };
  }
  return {
    reference: `${PACKAGES.humanModels.name}@${PACKAGES.humanModels.version} models/nanodet.json run in @tensorflow/tfjs (cpu backend)`,
    input: `${PERSON_PHOTO}, stretched to 416x416, BGR mean/std`,
    outputs: perOutput,
  };
}

export const FACE_RECIPE_128: InputRecipe = { width: 128, height: 128, layout: 'NHWC', channels: 'RGB', mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5] };
export const FACE_RECIPE_192: InputRecipe = { ...FACE_RECIPE_128, width: 192, height: 192 };
export const SELFIE_RECIPE: InputRecipe = { width: 256, height: 256, layout: 'NHWC', channels: 'RGB', mean: [0, 0, 0], std: [255, 255, 255] };

/**
 * keijiro's face_detection_front_128x128_barracuda.onnx is the same MediaPipe short-range model converted
 * independently (tf2onnx); its 4 outputs are per-stride splits of MediaPipe's 2 outputs.
 */
export async function compareShortRangeWithKeijiro(shortRangeOnnx: Uint8Array, input: { dims: number[]; data: Float32Array }) {
  const path = 'package/ONNX/face_detection_front_128x128_barracuda.onnx';
  const keijiro = packageFiles(PACKAGES.keijiroBlazeface, [path]).get(path)!;
  const ours = await runOnnx(shortRangeOnnx, { input });
  const theirs = Object.values(await runOnnx(keijiro, { 'input:0': input }));
  const join = (channels: number) => {
    const parts = theirs.filter((t) => t.dims[2] === channels).sort((a, b) => b.dims[1]! - a.dims[1]!);
    const out = new Float32Array(parts.reduce((n, p) => n + p.data.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p.data, o);
      o += p.data.length;
    }
    return out;
  };
  return {
    regressors: maxAbsDiff(ours['regressors']!.data, join(16)),
    classificators: maxAbsDiff(ours['classificators']!.data, join(1)),
  };
}

export async function validateFaceFullRange(fullRangeOnnx: Uint8Array, shortRangeOnnx: Uint8Array): Promise<Record<string, unknown>> {
  const photo = fixture(FACES_PHOTO);
  const noise = { dims: [1, 128, 128, 3], data: Float32Array.from({ length: 128 * 128 * 3 }, (_, i) => Math.sin(i * 0.37) * 0.95) };
  const onPhoto = await compareShortRangeWithKeijiro(shortRangeOnnx, await imageToTensor(photo, FACE_RECIPE_128));
  const onNoise = await compareShortRangeWithKeijiro(shortRangeOnnx, noise);
  const full = await runOnnx(fullRangeOnnx, { input: await imageToTensor(photo, FACE_RECIPE_192) });
  const logits = full['classificators']!.data;
  const anchorsAbove = logits.filter((v) => 1 / (1 + Math.exp(-v)) > 0.5).length;
  return {
    crossCheck: 'face_detection_short_range.tflite converted by the same code vs keijiro face_detection_front_128x128_barracuda.onnx (independent tf2onnx conversion of the same model)',
    shortRangeMaxAbsDiff: { photo: onPhoto, sinusoidInput: onNoise },
    fullRangeOnPhoto: `${anchorsAbove} of 2304 anchors score > 0.5 on ${FACES_PHOTO} (3 faces of 160-512 px in a 1200x700 frame, stretched to 192x192: only the largest is found without tiling), before NMS`,
    note: 'no independent runtime for the full-range TFLite exists here; the ops it uses are the short-range ops plus RESIZE_BILINEAR (checked in the selfie model)',
  };
}

export async function validateSelfie(onnxBytes: Uint8Array): Promise<Record<string, unknown>> {
  const paths = ['package/models/selfie.json', 'package/models/selfie.bin'];
  const files = packageFiles(PACKAGES.humanModels, paths);
  const input = await imageToTensor(fixture(PERSON_PHOTO), SELFIE_RECIPE);
  const ours = (await runOnnx(onnxBytes, { input }))['mask']!.data;
  const shards = new Map([['selfie.bin', files.get(paths[1]!)!]]);
  const compare = async (exactSixth: boolean) => {
    const ref = (await runTfjsModel(files.get(paths[0]!)!, shards, { input_1: input }, ['activation_10'], exactSixth ? restoreOneSixth : undefined))['activation_10']!.data;
    let agree = 0;
    for (let i = 0; i < ref.length; i++) if (ours[i]! > 0.5 === ref[i]! > 0.5) agree++;
    return { maxAbsDiff: round2(maxAbsDiff(ours, ref)), maskAgreementAt05: Number((agree / ref.length).toFixed(5)) };
  };
  let positive = 0;
  for (const v of ours) if (v > 0.5) positive++;
  return {
    reference: `${PACKAGES.humanModels.name}@${PACKAGES.humanModels.version} models/selfie.json (same weights, checked tensor by tensor) run in @tensorflow/tfjs (cpu)`,
    input: `${PERSON_PHOTO}, 256x256 RGB 0..1`,
    personFraction: Number((positive / ours.length).toFixed(3)),
    asShipped: await compare(false),
    withExactHardSwish: await compare(true),
    note: 'the TFJS build stores the hard-swish 1/6 as fp16 (0.16663); with that constant set to 1/6, as TFLite HARD_SWISH defines it, the outputs agree to float precision',
  };
}

/** The TFJS selfie build's hard-swish multiplies by fp16(1/6); TFLite's HARD_SWISH uses exactly 1/6. */
export function restoreOneSixth(_name: string, t: ConstTensor): ConstTensor {
  if (t.dtype === 'float32' && t.data.length === 1 && Math.abs(t.data[0]! - 1 / 6) < 1e-3) return { ...t, data: Float32Array.from([1 / 6]) };
  return t;
}
