/**
 * Builds face-api's SSD MobileNetV1 face detector (WIDER FACE) as ONNX from its bare TFJS weights manifest.
 * The files carry weights only; the topology below is written from face-api's description of the network
 * (src/ssdMobilenetv1: mobileNetV1.ts, predictionLayer.ts, boxPredictionLayer.ts, outputLayer.ts).
 */
import { GraphBuilder, attr, floatTensor, int64Tensor, permute } from './graph-builder.ts';
import type { OnnxGraph } from './onnx.ts';
import { DataType } from './onnx.ts';
import { readManifestWeights } from './tfjs-reader.ts';
import type { ConstTensor } from './tfjs-reader.ts';

export const SSD_INPUT_SIZE = 512;
export const SSD_ANCHOR_COUNT = 5118;
/** face-api's depthwise BatchNorm epsilon (float32 of 1e-3). */
const BN_EPSILON = 0.0010000000474974513;
/** MobileNet layers whose depthwise conv has stride 2 (others stride 1). */
const STRIDE_2_LAYERS = new Set([2, 4, 6, 12]);

/** Dequantises the weights manifest (uint8 affine), all of whose paths are the one shard file. */
export function readSsdWeights(manifestJson: Uint8Array, shard: Uint8Array): Map<string, ConstTensor> {
  const manifest = JSON.parse(new TextDecoder().decode(manifestJson)) as { paths: string[] }[];
  return readManifestWeights(manifestJson, new Map(manifest.flatMap((g) => g.paths).map((p) => [p, shard] as [string, Uint8Array])));
}

/** TF 'SAME' padding for a static size: the odd pixel goes after (bottom/right). */
function samePads(size: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max(0, (out - 1) * stride + kernel - size);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

interface Feature {
  name: string;
  channels: number;
  size: number;
}

class SsdGraph {
  readonly g = new GraphBuilder();
  constructor(private readonly weights: Map<string, ConstTensor>) {}

  private weight(name: string): ConstTensor {
    const t = this.weights.get(name);
    if (!t) throw new Error(`weights manifest lacks ${name}`);
    return t;
  }

  /** Conv (HWIO weights → OIHW) with bias, TF 'SAME' padding, optional ReLU6. */
  conv(x: Feature, prefix: string, weightName: string, biasName: string, stride: number, relu6: boolean, bias?: Float32Array): Feature {
    const w = this.weight(weightName);
    const [kh, kw, cin, cout] = w.dims as [number, number, number, number];
    if (cin !== x.channels) throw new Error(`${weightName}: ${cin} input channels, feature has ${x.channels}`);
    const oihw = permute(w.data as Float32Array, w.dims, [3, 2, 0, 1]);
    const [p0, p1] = samePads(x.size, kh, stride);
    const out = this.g.op('Conv', [x.name, this.g.constant(`${prefix}/W`, floatTensor([cout, cin, kh, kw], oihw)), this.g.constant(`${prefix}/B`, floatTensor([cout], bias ?? (this.weight(biasName).data as Float32Array)))], {
      kernel_shape: attr.ints([kh, kw]), strides: attr.ints([stride, stride]), pads: attr.ints([p0, p0, p1, p1]),
    }, prefix);
    const size = Math.ceil(x.size / stride);
    return { name: relu6 ? this.relu6(out, prefix) : out, channels: cout, size };
  }

  /** Depthwise 3×3 with its BatchNorm folded into the weights and bias, then ReLU6. */
  depthwise(x: Feature, layer: number): Feature {
    const p = `MobilenetV1/Conv2d_${layer}_depthwise`;
    const w = this.weight(`${p}/depthwise_weights`);
    const [kh, kw, c] = w.dims as [number, number, number, number];
    const gamma = this.weight(`${p}/BatchNorm/gamma`).data;
    const beta = this.weight(`${p}/BatchNorm/beta`).data;
    const mean = this.weight(`${p}/BatchNorm/moving_mean`).data;
    const variance = this.weight(`${p}/BatchNorm/moving_variance`).data;
    // HW C 1 → C 1 H W, each channel's kernel scaled by gamma / sqrt(var + eps).
    const folded = permute(w.data as Float32Array, w.dims, [2, 3, 0, 1]);
    const bias = new Float32Array(c);
    for (let ch = 0; ch < c; ch++) {
      const k = gamma[ch]! / Math.sqrt(variance[ch]! + BN_EPSILON);
      for (let i = 0; i < kh * kw; i++) folded[ch * kh * kw + i]! *= k;
      bias[ch] = beta[ch]! - mean[ch]! * k;
    }
    const stride = STRIDE_2_LAYERS.has(layer) ? 2 : 1;
    const [p0, p1] = samePads(x.size, kh, stride);
    const out = this.g.op('Conv', [x.name, this.g.constant(`${p}/W`, floatTensor([c, 1, kh, kw], folded)), this.g.constant(`${p}/B`, floatTensor([c], bias))], {
      kernel_shape: attr.ints([kh, kw]), strides: attr.ints([stride, stride]), pads: attr.ints([p0, p0, p1, p1]), group: attr.int(c),
    }, p);
    return { name: this.relu6(out, p), channels: c, size: Math.ceil(x.size / stride) };
  }

  pointwise(x: Feature, prefix: string, idx: number, stride: number): Feature {
    const p = `${prefix}/Conv2d_${idx}_pointwise`;
    return this.conv(x, p, `${p}/weights`, `${p}/convolution_bn_offset`, stride, true);
  }

  private relu6(x: string, prefix: string): string {
    return this.g.op('Clip', [x, this.g.constant(`${prefix}/zero`, floatTensor([], [0])), this.g.constant(`${prefix}/six`, floatTensor([], [6]))], {}, `${prefix}/relu6`);
  }

  /** One head: NCHW [1, A·k, H, W] → [1, H·W·A, k] in TF's cell-major, anchor-minor order. */
  head(x: Feature, idx: number, kind: 'BoxEncodingPredictor' | 'ClassPredictor', perAnchor: number): string {
    const p = `Prediction/BoxPredictor_${idx}/${kind}`;
    const conv = this.conv(x, p, `${p}/weights`, `${p}/biases`, 1, false);
    const nhwc = this.g.op('Transpose', [conv.name], { perm: attr.ints([0, 2, 3, 1]) }, `${p}/nhwc`);
    return this.g.op('Reshape', [nhwc, this.g.constant(`${p}/shape`, int64Tensor([1, -1, perAnchor]))], {}, `${p}/flat`);
  }
}

/** Outputs: `box_encodings` [1,5118,4] (ty, tx, th, tw), `class_logits` [1,5118,3] (background, face, unused), `anchors` [5118,4] (ymin, xmin, ymax, xmax in 0..1). */
export function buildSsdMobilenetGraph(weights: Map<string, ConstTensor>, name: string): OnnxGraph {
  const s = new SsdGraph(weights);
  const g = s.g;
  g.reserve('input');
  const nchw = g.op('Transpose', ['input'], { perm: attr.ints([0, 3, 1, 2]) }, 'input/nchw');
  let x: Feature = { name: nchw, channels: 3, size: SSD_INPUT_SIZE };
  x = s.pointwise(x, 'MobilenetV1', 0, 2);
  let conv11: Feature | undefined;
  for (let layer = 1; layer <= 13; layer++) {
    x = s.pointwise(s.depthwise(x, layer), 'MobilenetV1', layer, 1);
    if (layer === 11) conv11 = x;
  }
  const extra: Feature[] = [];
  let y = x;
  for (let i = 0; i < 8; i++) {
    y = s.pointwise(y, 'Prediction', i, i % 2 === 1 ? 2 : 1);
    if (i % 2 === 1) extra.push(y);
  }
  const sources = [conv11!, x, ...extra];
  const boxes = sources.map((f, i) => s.head(f, i, 'BoxEncodingPredictor', 4));
  const classes = sources.map((f, i) => s.head(f, i, 'ClassPredictor', 3));
  g.reserve('box_encodings');
  g.reserve('class_logits');
  g.reserve('anchors');
  g.op('Concat', boxes, { axis: attr.int(1) }, 'box_encodings', 'box_encodings');
  g.op('Concat', classes, { axis: attr.int(1) }, 'class_logits', 'class_logits');
  const anchors = weights.get('Output/extra_dim');
  if (!anchors || anchors.dims.join() !== `1,${SSD_ANCHOR_COUNT},4`) throw new Error('Output/extra_dim: expected [1, 5118, 4] anchors');
  g.op('Identity', [g.constant('anchor_boxes', floatTensor([SSD_ANCHOR_COUNT, 4], anchors.data as Float32Array))], {}, 'anchors', 'anchors');
  const f = DataType.FLOAT;
  return g.build(name, [{ name: 'input', elemType: f, shape: [1, SSD_INPUT_SIZE, SSD_INPUT_SIZE, 3] }], [
    { name: 'box_encodings', elemType: f, shape: [1, SSD_ANCHOR_COUNT, 4] },
    { name: 'class_logits', elemType: f, shape: [1, SSD_ANCHOR_COUNT, 3] },
    { name: 'anchors', elemType: f, shape: [SSD_ANCHOR_COUNT, 4] },
  ]);
}
