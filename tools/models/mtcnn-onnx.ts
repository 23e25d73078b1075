/**
 * Builds the three MTCNN stages (P-Net, R-Net, O-Net; Zhang et al. 2016) as ONNX from face-api.js's bare
 * TFJS weights manifest (float32, no topology). The layer list is the published MTCNN architecture; the
 * weights expect the image transposed (x and y swapped, a legacy of the original column-major training
 * code), which the graphs do themselves, so callers feed ordinary NHWC RGB in 0..255.
 */
import { GraphBuilder, attr, floatTensor, int64Tensor, permute } from './graph-builder.ts';
import type { OnnxGraph } from './onnx.ts';
import { DataType } from './onnx.ts';
import type { ConstTensor } from './tfjs-reader.ts';

export type MtcnnStage = 'pnet' | 'rnet' | 'onet';
export const MTCNN_INPUT_SIZE: Record<Exclude<MtcnnStage, 'pnet'>, number> = { rnet: 24, onet: 48 };

class MtcnnGraph {
  readonly g = new GraphBuilder();
  constructor(
    private readonly weights: Map<string, ConstTensor>,
    private readonly stage: MtcnnStage,
  ) {}

  weight(name: string): ConstTensor {
    const t = this.weights.get(`${this.stage}/${name}`);
    if (!t) throw new Error(`weights manifest lacks ${this.stage}/${name}`);
    return t;
  }

  /** VALID conv (HWIO → OIHW) + bias, then PReLU with per-channel slopes. */
  convPrelu(x: string, conv: string, prelu: string | undefined): string {
    const w = this.weight(`${conv}/weights`);
    const [kh, kw, cin, cout] = w.dims as [number, number, number, number];
    const oihw = permute(w.data as Float32Array, w.dims, [3, 2, 0, 1]);
    const out = this.g.op('Conv', [x, this.g.constant(`${conv}/W`, floatTensor([cout, cin, kh, kw], oihw)), this.g.constant(`${conv}/B`, floatTensor([cout], this.weight(`${conv}/bias`).data as Float32Array))], {
      kernel_shape: attr.ints([kh, kw]), strides: attr.ints([1, 1]),
    }, conv);
    if (!prelu) return out;
    return this.g.op('PRelu', [out, this.g.constant(`${prelu}/slope`, floatTensor([cout, 1, 1], this.weight(prelu).data as Float32Array))], {}, prelu);
  }

  /** Max pool; TF 'SAME' pads at the end only, which ceil_mode reproduces for these sizes. */
  pool(x: string, k: number, s: number, same: boolean, hint: string): string {
    return this.g.op('MaxPool', [x], { kernel_shape: attr.ints([k, k]), strides: attr.ints([s, s]), ceil_mode: attr.int(same ? 1 : 0) }, hint);
  }

  fc(x: string, name: string, prelu?: string): string {
    const w = this.weight(`${name}/weights`);
    const [, out] = w.dims as [number, number];
    const mm = this.g.op('MatMul', [x, this.g.constant(`${name}/W`, floatTensor(w.dims, w.data as Float32Array))], {}, `${name}/matmul`);
    const b = this.g.op('Add', [mm, this.g.constant(`${name}/B`, floatTensor([out], this.weight(`${name}/bias`).data as Float32Array))], {}, name);
    if (!prelu) return b;
    return this.g.op('PRelu', [b, this.g.constant(`${prelu}/slope`, floatTensor([out], this.weight(prelu).data as Float32Array))], {}, prelu);
  }

  /** NHWC RGB 0..255 → normalised, transposed NCHW (N, C, W, H). */
  input(): string {
    this.g.reserve('input');
    const centred = this.g.op('Sub', ['input', this.g.constant('mean', floatTensor([], [127.5]))], {}, 'input/centre');
    const scaled = this.g.op('Mul', [centred, this.g.constant('scale', floatTensor([], [0.0078125]))], {}, 'input/scale');
    return this.g.op('Transpose', [scaled], { perm: attr.ints([0, 3, 2, 1]) }, 'input/nchw_t');
  }

  /** Flattens a transposed-NCHW map in the order the dense weights were trained on (N, W, H, C). */
  flatten(x: string): string {
    const nhwc = this.g.op('Transpose', [x], { perm: attr.ints([0, 2, 3, 1]) }, 'flatten/nhwc');
    return this.g.op('Reshape', [nhwc, this.g.constant('flatten/shape', int64Tensor([0, -1]))], {}, 'flatten');
  }

  softmax(x: string, axis: number, output: string): string {
    this.g.reserve(output);
    return this.g.op('Softmax', [x], { axis: attr.int(axis) }, output, output);
  }
}

const f = DataType.FLOAT;

/**
 * P-Net, fully convolutional over any image of at least 12×12: `prob` [1, 2, W', H'] (softmax; channel 1 is
 * face) and `regression` [1, 4, W', H'], one cell per 2 input pixels with a 12-pixel window (axes transposed
 * like the weights: the third axis runs along x).
 */
export function buildPnetGraph(weights: Map<string, ConstTensor>, name: string): OnnxGraph {
  const s = new MtcnnGraph(weights, 'pnet');
  let x = s.convPrelu(s.input(), 'conv1', 'prelu1_alpha');
  x = s.pool(x, 2, 2, true, 'pool1');
  x = s.convPrelu(x, 'conv2', 'prelu2_alpha');
  x = s.convPrelu(x, 'conv3', 'prelu3_alpha');
  s.softmax(s.convPrelu(x, 'conv4_1', undefined), 1, 'prob');
  s.g.reserve('regression');
  s.g.op('Identity', [s.convPrelu(x, 'conv4_2', undefined)], {}, 'regression', 'regression');
  return s.g.build(name, [{ name: 'input', elemType: f, shape: [1, 'height', 'width', 3] }], [
    { name: 'prob', elemType: f, shape: [1, 2, 'cells_x', 'cells_y'] },
    { name: 'regression', elemType: f, shape: [1, 4, 'cells_x', 'cells_y'] },
  ]);
}

/** R-Net on a batch of 24×24 crops: `prob` [N, 2] and `regression` [N, 4] (box edge offsets / crop size). */
export function buildRnetGraph(weights: Map<string, ConstTensor>, name: string): OnnxGraph {
  const s = new MtcnnGraph(weights, 'rnet');
  let x = s.convPrelu(s.input(), 'conv1', 'prelu1_alpha');
  x = s.pool(x, 3, 2, true, 'pool1');
  x = s.convPrelu(x, 'conv2', 'prelu2_alpha');
  x = s.pool(x, 3, 2, false, 'pool2');
  x = s.convPrelu(x, 'conv3', 'prelu3_alpha');
  const hidden = s.fc(s.flatten(x), 'fc1', 'prelu4_alpha');
  s.softmax(s.fc(hidden, 'fc2_1'), 1, 'prob');
  s.g.reserve('regression');
  s.g.op('Identity', [s.fc(hidden, 'fc2_2')], {}, 'regression', 'regression');
  return s.g.build(name, [{ name: 'input', elemType: f, shape: ['batch', 24, 24, 3] }], [
    { name: 'prob', elemType: f, shape: ['batch', 2] },
    { name: 'regression', elemType: f, shape: ['batch', 4] },
  ]);
}

/** O-Net on a batch of 48×48 crops: `prob` [N, 2], `regression` [N, 4] and `landmarks` [N, 10] (5 x then 5 y, 0..1 of the crop). */
export function buildOnetGraph(weights: Map<string, ConstTensor>, name: string): OnnxGraph {
  const s = new MtcnnGraph(weights, 'onet');
  let x = s.convPrelu(s.input(), 'conv1', 'prelu1_alpha');
  x = s.pool(x, 3, 2, true, 'pool1');
  x = s.convPrelu(x, 'conv2', 'prelu2_alpha');
  x = s.pool(x, 3, 2, false, 'pool2');
  x = s.convPrelu(x, 'conv3', 'prelu3_alpha');
  x = s.pool(x, 2, 2, true, 'pool3');
  x = s.convPrelu(x, 'conv4', 'prelu4_alpha');
  const hidden = s.fc(s.flatten(x), 'fc1', 'prelu5_alpha');
  s.softmax(s.fc(hidden, 'fc2_1'), 1, 'prob');
  s.g.reserve('regression');
  s.g.op('Identity', [s.fc(hidden, 'fc2_2')], {}, 'regression', 'regression');
  s.g.reserve('landmarks');
  s.g.op('Identity', [s.fc(hidden, 'fc2_3')], {}, 'landmarks', 'landmarks');
  return s.g.build(name, [{ name: 'input', elemType: f, shape: ['batch', 48, 48, 3] }], [
    { name: 'prob', elemType: f, shape: ['batch', 2] },
    { name: 'regression', elemType: f, shape: ['batch', 4] },
    { name: 'landmarks', elemType: f, shape: ['batch', 10] },
  ]);
}
