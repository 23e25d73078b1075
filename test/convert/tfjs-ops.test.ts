/**
 * One-op TFJS graphs built here, run in @tensorflow/tfjs (cpu) and, after conversion, in onnxruntime.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readTfjsGraph, halfToFloat } from '../../tools/models/tfjs-reader.ts';
import { convertTfjsGraph } from '../../tools/models/tfjs-to-onnx.ts';
import { finishModel } from '../../tools/models/encode.ts';
import { runOnnx } from '../../tools/models/validations.ts';
import { maxAbsDiff, runTfjsModel } from '../../tools/models/oracle-tfjs.ts';

interface ConstSpec {
  dims: number[];
  values: number[];
  dtype?: 'float32' | 'int32';
  /** Store as float16, the way tfjs-converter quantises most human-models weights. */
  half?: boolean;
}

function floatToHalf(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = x & 0x7fffff;
  if (exp <= 0) return sign;
  if (exp >= 31) return sign | 0x7c00;
  const rounded = (exp << 10) | (mant >>> 13);
  return sign | (rounded + ((mant >>> 12) & 1));
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Builds model.json + weight bytes for `x (NHWC placeholder) → op(x, consts...)`. */
function oneOpModel(op: string, inputDims: number[], consts: Record<string, ConstSpec>, attr: Record<string, unknown>, outputs = 1) {
  const nodes: Record<string, unknown>[] = [{ name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: inputDims.map((d) => ({ size: String(d) })) } } } }];
  const weights: Record<string, unknown>[] = [];
  const chunks: Buffer[] = [];
  for (const [name, c] of Object.entries(consts)) {
    const dtype = c.dtype ?? 'float32';
    nodes.push({ name, op: 'Const', attr: { dtype: { type: dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT' } } });
    if (c.half) {
      weights.push({ name, shape: c.dims, dtype, quantization: { dtype: 'float16', original_dtype: 'float32' } });
      const buf = Buffer.alloc(c.values.length * 2);
      c.values.forEach((v, i) => buf.writeUInt16LE(floatToHalf(v), i * 2));
      chunks.push(buf);
    } else {
      weights.push({ name, shape: c.dims, dtype });
      const buf = Buffer.alloc(c.values.length * 4);
      c.values.forEach((v, i) => (dtype === 'int32' ? buf.writeInt32LE(v, i * 4) : buf.writeFloatLE(v, i * 4)));
      chunks.push(buf);
    }
  }
  nodes.push({ name: 'y', op, input: ['x', ...Object.keys(consts)], attr });
  const outputNames = Array.from({ length: outputs }, (_, i) => (i === 0 ? 'y' : `y:${i}`));
  outputNames.forEach((o, i) => nodes.push({ name: `out${i}`, op: 'Identity', input: [o], attr: {} }));
  const json = { format: 'graph-model', modelTopology: { node: nodes, library: {}, versions: {} }, weightsManifest: [{ paths: ['w.bin'], weights }] };
  return { json: new TextEncoder().encode(JSON.stringify(json)), shards: new Map([['w.bin', new Uint8Array(Buffer.concat(chunks))]]), outputs: outputNames.map((_, i) => `out${i}`) };
}

const seq = (n: number, scale = 0.1) => Array.from({ length: n }, (_, i) => Math.sin(i * 1.3 + 0.2) * scale * 10);

async function compare(model: ReturnType<typeof oneOpModel>, inputDims: number[]) {
  const input = { dims: inputDims, data: Float32Array.from(seq(inputDims.reduce((a, b) => a * b, 1), 0.3)) };
  const ref = await runTfjsModel(model.json, model.shards, { x: input }, model.outputs);
  const graph = convertTfjsGraph(readTfjsGraph(model.json, model.shards), 'op');
  const { bytes } = finishModel(graph, { source: 'test', licence: 'test', description: '' });
  const got = await runOnnx(bytes, { x: input });
  return model.outputs.map((o) => {
    assert.deepEqual(got[o]!.dims, ref[o]!.dims, `${o} shape`);
    return maxAbsDiff(got[o]!.data, ref[o]!.data);
  });
}

const nhwc = (s: string) => ({ s: b64(s) });
const ints = (v: number[]) => ({ list: { i: v.map(String) } });

test('halfToFloat decodes normal, subnormal and special values', () => {
  assert.equal(halfToFloat(0x3c00), 1);
  assert.equal(halfToFloat(0xc000), -2);
  assert.equal(halfToFloat(0x3555), 0.333251953125);
  assert.equal(halfToFloat(0x0001), 2 ** -24);
  assert.equal(halfToFloat(0x7c00), Infinity);
  assert.equal(halfToFloat(0xfc00), -Infinity);
  assert.ok(Number.isNaN(halfToFloat(0x7e00)));
});

test('Conv2D SAME stride 2 with fp16 weights, and VALID stride 1', async () => {
  for (const [padding, stride] of [['SAME', 2], ['VALID', 1]] as const) {
    const model = oneOpModel('Conv2D', [1, 9, 8, 3], { w: { dims: [3, 3, 3, 4], values: seq(108), half: true } }, { padding: nhwc(padding), strides: ints([1, stride, stride, 1]), data_format: nhwc('NHWC'), dilations: ints([1, 1, 1, 1]) });
    const [diff] = await compare(model, [1, 9, 8, 3]);
    assert.ok(diff! < 1e-4, `${padding}: max abs diff ${diff}`);
  }
});

test('DepthwiseConv2dNative with channel multiplier 2, SAME', async () => {
  const model = oneOpModel('DepthwiseConv2dNative', [1, 7, 7, 3], { w: { dims: [3, 3, 3, 2], values: seq(54) } }, { padding: nhwc('SAME'), strides: ints([1, 2, 2, 1]), data_format: nhwc('NHWC'), dilations: ints([1, 1, 1, 1]) });
  const [diff] = await compare(model, [1, 7, 7, 3]);
  assert.ok(diff! < 1e-4, `max abs diff ${diff}`);
});

test('MaxPool and AvgPool with SAME padding on odd sizes', async () => {
  for (const op of ['MaxPool', 'AvgPool']) {
    const model = oneOpModel(op, [1, 7, 5, 2], {}, { padding: nhwc('SAME'), strides: ints([1, 2, 2, 1]), ksize: ints([1, 3, 3, 1]), data_format: nhwc('NHWC') });
    const [diff] = await compare(model, [1, 7, 5, 2]);
    assert.ok(diff! < 1e-5, `${op}: max abs diff ${diff}`);
  }
});

test('ResizeBilinear in all three coordinate modes', async () => {
  for (const [alignCorners, halfPixel] of [[false, false], [true, false], [false, true]]) {
    const model = oneOpModel('ResizeBilinear', [1, 4, 5, 2], { size: { dims: [2], values: [9, 7], dtype: 'int32' } }, { align_corners: { b: alignCorners }, half_pixel_centers: { b: halfPixel } });
    const [diff] = await compare(model, [1, 4, 5, 2]);
    assert.ok(diff! < 1e-5, `align_corners=${alignCorners} half_pixel=${halfPixel}: max abs diff ${diff}`);
  }
});

test('PadV2 with a fill value, Transpose, Reshape with -1, LeakyRelu, Relu6', async () => {
  const pad = oneOpModel('PadV2', [1, 3, 3, 2], { p: { dims: [4, 2], values: [0, 0, 1, 2, 2, 0, 0, 1], dtype: 'int32' }, v: { dims: [], values: [-7.5] } }, {});
  assert.ok((await compare(pad, [1, 3, 3, 2]))[0]! === 0);
  const transpose = oneOpModel('Transpose', [1, 2, 3, 4], { perm: { dims: [4], values: [0, 3, 1, 2], dtype: 'int32' } }, {});
  assert.ok((await compare(transpose, [1, 2, 3, 4]))[0]! === 0);
  const reshape = oneOpModel('Reshape', [1, 2, 3, 4], { s: { dims: [3], values: [1, -1, 4], dtype: 'int32' } }, {});
  assert.ok((await compare(reshape, [1, 2, 3, 4]))[0]! === 0);
  const leaky = oneOpModel('LeakyRelu', [1, 2, 3, 4], {}, { alpha: { f: 0.1 } });
  assert.ok((await compare(leaky, [1, 2, 3, 4]))[0]! < 1e-6);
  const relu6 = oneOpModel('Relu6', [1, 2, 3, 4], {}, {});
  assert.ok((await compare(relu6, [1, 2, 3, 4]))[0]! === 0);
});

test('SplitV with an inferred size, and ConcatV2 on a negative axis', async () => {
  const split = oneOpModel('SplitV', [1, 4, 7], { sizes: { dims: [2], values: [2, -1], dtype: 'int32' }, axis: { dims: [], values: [2], dtype: 'int32' } }, { num_split: { i: '2' } }, 2);
  const diffs = await compare(split, [1, 4, 7]);
  assert.deepEqual(diffs, [0, 0]);
  const concat = oneOpModel('ConcatV2', [1, 2, 3], { other: { dims: [1, 2, 2], values: seq(4) }, axis: { dims: [], values: [-1], dtype: 'int32' } }, { N: { i: '2' } });
  assert.equal((await compare(concat, [1, 2, 3]))[0], 0);
});
