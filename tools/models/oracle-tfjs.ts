/** Runs the original TFJS graph model in @tensorflow/tfjs (pure-JS CPU backend) as a reference. */
import * as tf from '@tensorflow/tfjs';

let backendReady: Promise<boolean> | undefined;

export interface TensorOut {
  dims: number[];
  data: Float32Array;
}

export async function runTfjsModel(modelJson: Uint8Array, shards: Map<string, Uint8Array>, feeds: Record<string, TensorOut>, outputs: string[]): Promise<Record<string, TensorOut>> {
  backendReady ??= tf.setBackend('cpu');
  await backendReady;
  const json = JSON.parse(new TextDecoder().decode(modelJson));
  const weightSpecs = json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights);
  const parts = json.weightsManifest.flatMap((g: { paths: string[] }) => g.paths.map((p) => shards.get(p)!));
  const weightData = new Uint8Array(parts.reduce((n: number, p: Uint8Array) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    weightData.set(p, o);
    o += p.length;
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
