import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { encodeModel, DataType } from '../../tools/models/onnx.ts';
import { GraphBuilder, attr, floatTensor } from '../../tools/models/graph-builder.ts';

/** Direct-loop reference: 2-D convolution, NCHW, no padding, stride 1, followed by ReLU. */
function referenceConvRelu(x: Float32Array, c: number, h: number, w: number, weight: Float32Array, bias: Float32Array, outC: number, k: number): Float32Array {
  const oh = h - k + 1;
  const ow = w - k + 1;
  const out = new Float32Array(outC * oh * ow);
  for (let o = 0; o < outC; o++)
    for (let y = 0; y < oh; y++)
      for (let xx = 0; xx < ow; xx++) {
        let acc = bias[o]!;
        for (let i = 0; i < c; i++)
          for (let ky = 0; ky < k; ky++)
            for (let kx = 0; kx < k; kx++) acc += x[(i * h + y + ky) * w + xx + kx]! * weight[((o * c + i) * k + ky) * k + kx]!;
        out[(o * oh + y) * ow + xx] = Math.max(0, acc);
      }
  return out;
}

test('hand-built Conv + Relu graph runs in onnxruntime and matches a direct computation', async () => {
  const [c, h, w, outC, k] = [2, 5, 6, 3, 3];
  const weight = Float32Array.from({ length: outC * c * k * k }, (_, i) => Math.sin(i * 0.7));
  const bias = Float32Array.from([0.1, -2, 0.5]);
  const g = new GraphBuilder();
  g.reserve('x');
  const wName = g.constant('weight', floatTensor([outC, c, k, k], weight));
  const bName = g.constant('bias', floatTensor([outC], bias));
  const conv = g.op('Conv', ['x', wName, bName], { kernel_shape: attr.ints([k, k]), strides: attr.ints([1, 1]) }, 'conv');
  g.op('Relu', [conv], {}, 'relu', 'y');
  const graph = g.build('conv_relu', [{ name: 'x', elemType: DataType.FLOAT, shape: [1, c, h, w] }], [{ name: 'y', elemType: DataType.FLOAT, shape: [1, outC, h - k + 1, w - k + 1] }]);
  const bytes = encodeModel({ graph, opsetVersion: 13, producerName: 'test', producerVersion: '0', docString: 'doc', metadata: { purpose: 'test' } });

  const session = await ort.InferenceSession.create(bytes);
  assert.deepEqual(session.inputNames, ['x']);
  assert.deepEqual(session.outputNames, ['y']);
  const x = Float32Array.from({ length: c * h * w }, (_, i) => ((i * 37) % 11) - 5);
  const result = await session.run({ x: new ort.Tensor('float32', x, [1, c, h, w]) });
  const y = result.y!;
  assert.deepEqual(y.dims, [1, outC, h - k + 1, w - k + 1]);
  const expected = referenceConvRelu(x, c, h, w, weight, bias, outC, k);
  const got = y.data as Float32Array;
  let maxDiff = 0;
  for (let i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs(expected[i]! - got[i]!));
  assert.ok(maxDiff < 1e-4, `max abs diff ${maxDiff}`);
  assert.ok(expected.some((v) => v === 0) && expected.some((v) => v > 1), 'the case exercises both ReLU branches');
  await session.release();
});

test('negative int64 attributes survive encoding (Transpose perm, Concat axis -1)', async () => {
  const g = new GraphBuilder();
  g.reserve('a');
  const t = g.op('Transpose', ['a'], { perm: attr.ints([1, 0]) }, 't');
  g.op('Concat', [t, t], { axis: attr.int(-1) }, 'cat', 'y');
  const graph = g.build('neg', [{ name: 'a', elemType: DataType.FLOAT, shape: [2, 3] }], [{ name: 'y', elemType: DataType.FLOAT, shape: [3, 4] }]);
  const session = await ort.InferenceSession.create(encodeModel({ graph, opsetVersion: 13, producerName: 't', producerVersion: '0', docString: '', metadata: {} }));
  const out = await session.run({ a: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]) });
  assert.deepEqual(Array.from(out.y!.data as Float32Array), [1, 4, 1, 4, 2, 5, 2, 5, 3, 6, 3, 6]);
  await session.release();
});
