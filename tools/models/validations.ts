/**
 * Numerical checks of converted models against independent references. Each returns the figures recorded
 * in manifest.json; the tests call the same functions and assert on the figures.
 */
import * as ort from 'onnxruntime-node';
import { packageFiles } from './npm-source.ts';
import { PACKAGES, VALIDATION_IMAGE } from './sources.ts';
import { imageToTensor } from './preprocess.ts';
import type { InputRecipe } from './preprocess.ts';
import { maxAbsDiff, runTfjsModel } from './oracle-tfjs.ts';

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

export function validationImage(): Uint8Array {
  return packageFiles(VALIDATION_IMAGE.pkg, [VALIDATION_IMAGE.path]).get(VALIDATION_IMAGE.path)!;
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
  const input = await imageToTensor(validationImage(), NANODET_RECIPE);
  const reference = await runTfjsModel(files.get(paths[0]!)!, new Map([['nanodet.bin', files.get(paths[1]!)!]]), { input_1: input }, NANODET_OUTPUTS.map(([tf]) => tf));
  const converted = await runOnnx(onnxBytes, { input });
  const perOutput: Record<string, { maxAbsDiff: number; maxAbsValue: number }> = {};
  for (const [tf, onnx] of NANODET_OUTPUTS) {
    const ref = reference[tf]!.data;
    perOutput[onnx] = { maxAbsDiff: round2(maxAbsDiff(converted[onnx]!.data, ref)), maxAbsValue: round2(ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0)) };
  }
  return {
    reference: `${PACKAGES.humanModels.name}@${PACKAGES.humanModels.version} models/nanodet.json run in @tensorflow/tfjs (cpu backend)`,
    input: `${VALIDATION_IMAGE.pkg.name}@${VALIDATION_IMAGE.pkg.version} ${VALIDATION_IMAGE.path}, stretched to 416x416, BGR mean/std`,
    outputs: perOutput,
  };
}
