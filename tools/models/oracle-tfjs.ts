/** Runs the original TFJS graph model in @tensorflow/tfjs (pure-JS CPU backend) as a reference. */
import * as tf from '@tensorflow/tfjs';
import { readTfjsGraph } from './tfjs-reader.ts';
import type { ConstTensor } from './tfjs-reader.ts';

let backendReady: Promise<boolean> | undefined;

export interface TensorOut {
  dims: number[];
  data: Float32Array;
}

/**
 * `patchWeights` may replace dequantised weights before the model runs (e.g. to undo a constant the TFJS
 * build rounded to fp16); weights are then handed to tfjs as plain float32/int32.
 */
export async function runTfjsModel(
  modelJson: Uint8Array,
  shards: Map<string, Uint8Array>,
  feeds: Record<string, TensorOut>,
  outputs: string[],
  patchWeights?: (name: string, tensor: ConstTensor) => ConstTensor,
): Promise<Record<string, TensorOut>> {
  backendReady ??= tf.setBackend('cpu');
  await backendReady;
  const json = JSON.parse(new TextDecoder().decode(modelJson));
  const weights = readTfjsGraph(modelJson, shards).weights;
  const weightSpecs: { name: string; shape: number[]; dtype: string }[] = [];
  const chunks: Uint8Array[] = [];
  for (const [name, original] of weights) {
    const t = patchWeights ? patchWeights(name, original) : original;
    weightSpecs.push({ name, shape: t.dims, dtype: t.dtype });
    chunks.push(t.dtype === 'bool' ? Uint8Array.from(t.data) : new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  const weightData = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    weightData.set(c, o);
    o += c.length;
  }
  const model = await tf.loadGraphModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData: weightData.buffer, format: json.format, signature: json.signature }),
  );
  const inputTensors: Record<string, tf.Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) inputTensors[name] = tf.tensor(t.data, t.dims, 'float32');
  const result = (await model.executeAsync(inputTensors, outputs)) as tf.Tensor | tf.Tensor[];
  const list = Array.isArray(result) ? result : [result];
  const out: Record<string, TensorOut> = {};
  for (let i = 0; i < outputs.length; i++) {
    out[outputs[i]!] = { dims: list[i]!.shape, data: (await list[i]!.data()) as Float32Array };
  }
  tf.dispose([...list, ...Object.values(inputTensors)]);
  model.dispose();
  return out;
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
