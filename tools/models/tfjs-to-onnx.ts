/**
 * Converts a TFJS graph model to an ONNX graph.
 *
 * Layout: every tensor keeps its TensorFlow layout, so Reshape/Concat/Split axes need no remapping.
 * NHWC-only ops (Conv2D, pooling, Resize) are wrapped in Transpose pairs; `optimiseGraph` cancels
 * the back-to-back pairs this creates and onnxruntime's transpose optimiser handles the rest.
 * Subgraphs that only depend on constants (shape arithmetic such as SparseToDense → AddV2) are
 * evaluated here, so the ONNX graph holds the resulting constants.
 */
import type { OnnxGraph, ValueInfo } from './onnx.ts';
import { DataType } from './onnx.ts';
import { GraphBuilder, attr, floatTensor, int64Tensor, permute } from './graph-builder.ts';
import { attrBool, attrFloat, attrInt, attrInts, attrString } from './tfjs-reader.ts';
import type { ConstTensor, TfjsGraph, TfNode } from './tfjs-reader.ts';
import { broadcastDims, convOutputSize, foldBinary, samePads } from './shape-math.ts';

type Value = { kind: 'const'; tensor: ConstTensor } | { kind: 'onnx'; name: string; dims: number[] };

export interface TfjsConvertOptions {
  /** ONNX names for graph inputs, keyed by TF node name; others keep their TF name. */
  inputNames?: Record<string, string>;
  /** Graph outputs in ONNX order as [TF node name, ONNX name]; default: the model's outputs under their TF names. */
  outputs?: [string, string][];
}

const NHWC_TO_NCHW = [0, 3, 1, 2];
const NCHW_TO_NHWC = [0, 2, 3, 1];

class Converter {
  readonly g = new GraphBuilder();
  readonly values = new Map<string, Value>();

  constructor(readonly graph: TfjsGraph) {}

  value(ref: string): Value {
    const key = ref.includes(':') ? ref : `${ref}:0`;
    const v = this.values.get(key);
    if (!v) throw new Error(`no value for ${ref}`);
    return v;
  }

  onnx(ref: string): { name: string; dims: number[] } {
    const v = this.value(ref);
    if (v.kind === 'onnx') return v;
    const t = v.tensor;
    if (t.dtype !== 'float32') throw new Error(`${ref}: integer constant used as a float operand`);
    const name = this.g.constant(ref.replace(/:0$/, ''), floatTensor(t.dims, t.data as Float32Array));
    const materialised: Value = { kind: 'onnx', name, dims: t.dims };
    this.values.set(ref.includes(':') ? ref : `${ref}:0`, materialised);
    return materialised;
  }

  constant(ref: string): ConstTensor {
    const v = this.value(ref);
    if (v.kind !== 'const') throw new Error(`${ref} must be a constant for this conversion`);
    return v.tensor;
  }

  constInts(ref: string): number[] {
    return Array.from(this.constant(ref).data);
  }

  set(node: TfNode, value: Value, index = 0): void {
    this.values.set(`${node.name}:${index}`, value);
  }

  emit(node: TfNode, name: string, dims: number[], index = 0): void {
    this.set(node, { kind: 'onnx', name, dims }, index);
  }

  transpose(input: string, perm: number[], hint: string): string {
    return this.g.op('Transpose', [input], { perm: attr.ints(perm) }, hint);
  }
}

function nhwcWindow(node: TfNode, inputDims: number[], kernel: [number, number], dilations: [number, number]) {
  const strides = attrInts(node, 'strides');
  const padding = attrString(node, 'padding');
  const [n, h, w] = inputDims as [number, number, number];
  const stride: [number, number] = [strides[1]!, strides[2]!];
  let pads: number[];
  if (padding === 'SAME') {
    const [pt, pb] = samePads(h, kernel[0], stride[0], dilations[0]);
    const [pl, pr] = samePads(w, kernel[1], stride[1], dilations[1]);
    pads = [pt, pl, pb, pr];
  } else if (padding === 'EXPLICIT') {
    const e = attrInts(node, 'explicit_paddings');
    pads = [e[2]!, e[4]!, e[3]!, e[5]!];
  } else if (padding === 'VALID') {
    pads = [0, 0, 0, 0];
  } else {
    throw new Error(`${node.name}: padding ${padding}`);
  }
  const oh = convOutputSize(h, kernel[0], stride[0], dilations[0], pads[0]! + pads[2]!);
  const ow = convOutputSize(w, kernel[1], stride[1], dilations[1], pads[1]! + pads[3]!);
  return { n, oh, ow, stride, pads };
}

function requireNhwc(node: TfNode): void {
  const format = attrString(node, 'data_format', 'NHWC');
  if (format !== 'NHWC') throw new Error(`${node.op} ${node.name}: data_format ${format} not supported`);
}

function convolution(c: Converter, node: TfNode, depthwise: boolean): void {
  requireNhwc(node);
  const x = c.onnx(node.inputs[0]!);
  const filter = c.constant(node.inputs[1]!);
  const [kh, kw, inC, m] = filter.dims as [number, number, number, number];
  const dil = attrInts(node, 'dilations', [1, 1, 1, 1]);
  const dilations: [number, number] = [dil[1]!, dil[2]!];
  const { n, oh, ow, stride, pads } = nhwcWindow(node, x.dims, [kh, kw], dilations);
  const channelsIn = x.dims[3]!;
  // TF filters are HWIO (depthwise: H,W,C,multiplier); ONNX wants OIHW with group-sized I.
  const weights = depthwise
    ? permute(filter.data as Float32Array, [kh, kw, inC * m], [2, 0, 1])
    : permute(filter.data as Float32Array, [kh, kw, inC, m], [3, 2, 0, 1]);
  const outC = depthwise ? inC * m : m;
  const wDims = depthwise ? [outC, 1, kh, kw] : [outC, inC, kh, kw];
  const group = depthwise ? inC : channelsIn / inC;
  const wName = c.g.constant(`${node.inputs[1]}`, floatTensor(wDims, weights));
  const nchw = c.transpose(x.name, NHWC_TO_NCHW, `${node.name}/to_nchw`);
  const conv = c.g.op(
    'Conv',
    [nchw, wName],
    {
      kernel_shape: attr.ints([kh, kw]),
      strides: attr.ints(stride),
      dilations: attr.ints(dilations),
      pads: attr.ints(pads),
      group: attr.int(group),
    },
    `${node.name}/conv`,
  );
  c.emit(node, c.transpose(conv, NCHW_TO_NHWC, node.name), [n, oh, ow, outC]);
}

function pooling(c: Converter, node: TfNode, opType: 'MaxPool' | 'AveragePool'): void {
  requireNhwc(node);
  const x = c.onnx(node.inputs[0]!);
  const k = attrInts(node, 'ksize');
  const kernel: [number, number] = [k[1]!, k[2]!];
  const { n, oh, ow, stride, pads } = nhwcWindow(node, x.dims, kernel, [1, 1]);
  const nchw = c.transpose(x.name, NHWC_TO_NCHW, `${node.name}/to_nchw`);
  // TF's SAME average pooling divides by the number of real pixels: count_include_pad = 0 (the default).
  const pooled = c.g.op(opType, [nchw], { kernel_shape: attr.ints(kernel), strides: attr.ints(stride), pads: attr.ints(pads) }, `${node.name}/pool`);
  c.emit(node, c.transpose(pooled, NCHW_TO_NHWC, node.name), [n, oh, ow, x.dims[3]!]);
}

function binary(opType: string) {
  return (c: Converter, node: TfNode): void => {
    const [a, b] = [c.value(node.inputs[0]!), c.value(node.inputs[1]!)];
    if (a.kind === 'const' && b.kind === 'const') {
      c.set(node, { kind: 'const', tensor: foldBinary(opType, a.tensor, b.tensor) });
      return;
    }
    const x = c.onnx(node.inputs[0]!);
    const y = c.onnx(node.inputs[1]!);
    c.emit(node, c.g.op(opType, [x.name, y.name], {}, node.name), broadcastDims(x.dims, y.dims));
  };
}

function unary(opType: string, attributes: (node: TfNode) => Record<string, ReturnType<typeof attr.int>> = () => ({})) {
  return (c: Converter, node: TfNode): void => {
    const x = c.onnx(node.inputs[0]!);
    c.emit(node, c.g.op(opType, [x.name], attributes(node), node.name), x.dims);
  };
}

function pad(c: Converter, node: TfNode): void {
  const x = c.onnx(node.inputs[0]!);
  const p = c.constInts(node.inputs[1]!);
  const rank = x.dims.length;
  const begins = Array.from({ length: rank }, (_, i) => p[2 * i]!);
  const ends = Array.from({ length: rank }, (_, i) => p[2 * i + 1]!);
  const inputs = [x.name, c.g.constant(`${node.name}/pads`, int64Tensor([...begins, ...ends]))];
  if (node.op === 'PadV2') {
    const fill = c.constant(node.inputs[2]!);
    inputs.push(c.g.constant(`${node.name}/value`, floatTensor([], [fill.data[0]!])));
  }
  c.emit(node, c.g.op('Pad', inputs, { mode: attr.string('constant') }, node.name), x.dims.map((d, i) => d + begins[i]! + ends[i]!));
}

function sparseToDense(c: Converter, node: TfNode): void {
  const indices = c.constant(node.inputs[0]!);
  const shape = c.constInts(node.inputs[1]!);
  const values = c.constant(node.inputs[2]!);
  const fill = c.constant(node.inputs[3]!);
  const count = shape.reduce((a, b) => a * b, 1);
  const data = values.dtype === 'float32' ? new Float32Array(count) : new Int32Array(count);
  data.fill(fill.data[0]!);
  const rank = shape.length;
  const n = indices.dims.length === 0 ? 1 : indices.dims[0]!;
  for (let k = 0; k < n && indices.data.length > 0; k++) {
    let flat = 0;
    for (let a = 0; a < rank; a++) flat = flat * shape[a]! + indices.data[indices.dims.length > 1 ? k * rank + a : k]!;
    data[flat] = values.data.length === 1 ? values.data[0]! : values.data[k]!;
  }
  c.set(node, { kind: 'const', tensor: { dtype: values.dtype, dims: shape, data } });
}

const handlers: Record<string, (c: Converter, node: TfNode) => void> = {
  Const: (c, node) => {
    const t = c.graph.weights.get(node.name);
    if (!t) throw new Error(`Const ${node.name} has no weight data`);
    c.set(node, { kind: 'const', tensor: t });
  },
  Identity: (c, node) => c.set(node, c.value(node.inputs[0]!)),
  Conv2D: (c, node) => convolution(c, node, false),
  DepthwiseConv2dNative: (c, node) => convolution(c, node, true),
  MaxPool: (c, node) => pooling(c, node, 'MaxPool'),
  AvgPool: (c, node) => pooling(c, node, 'AveragePool'),
  Add: binary('Add'),
  AddV2: binary('Add'),
  BiasAdd: binary('Add'),
  Sub: binary('Sub'),
  Mul: binary('Mul'),
  RealDiv: binary('Div'),
  Maximum: binary('Max'),
  Minimum: binary('Min'),
  Relu: unary('Relu'),
  Sigmoid: unary('Sigmoid'),
  Tanh: unary('Tanh'),
  LeakyRelu: unary('LeakyRelu', (node) => ({ alpha: attr.float(attrFloat(node, 'alpha', 0.2)) })),
  Relu6: (c, node) => {
    const x = c.onnx(node.inputs[0]!);
    const lo = c.g.constant(`${node.name}/min`, floatTensor([], [0]));
    const hi = c.g.constant(`${node.name}/max`, floatTensor([], [6]));
    c.emit(node, c.g.op('Clip', [x.name, lo, hi], {}, node.name), x.dims);
  },
  Pad: pad,
  PadV2: pad,
  SparseToDense: sparseToDense,
  Transpose: (c, node) => {
    const x = c.onnx(node.inputs[0]!);
    const perm = c.constInts(node.inputs[1]!);
    c.emit(node, c.transpose(x.name, perm, node.name), perm.map((p) => x.dims[p]!));
  },
  Reshape: (c, node) => {
    const x = c.onnx(node.inputs[0]!);
    const requested = c.constInts(node.inputs[1]!);
    const total = x.dims.reduce((a, b) => a * b, 1);
    const known = requested.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const dims = requested.map((d) => (d === -1 ? total / known : d));
    const shape = c.g.constant(`${node.name}/shape`, int64Tensor(dims));
    c.emit(node, c.g.op('Reshape', [x.name, shape], {}, node.name), dims);
  },
  ConcatV2: (c, node) => {
    const parts = node.inputs.slice(0, -1).map((i) => c.onnx(i));
    const rank = parts[0]!.dims.length;
    const axisRaw = c.constInts(node.inputs[node.inputs.length - 1]!)[0]!;
    const axis = axisRaw < 0 ? axisRaw + rank : axisRaw;
    const dims = [...parts[0]!.dims];
    dims[axis] = parts.reduce((s, p) => s + p.dims[axis]!, 0);
    c.emit(node, c.g.op('Concat', parts.map((p) => p.name), { axis: attr.int(axis) }, node.name), dims);
  },
  SplitV: (c, node) => {
    const x = c.onnx(node.inputs[0]!);
    const rank = x.dims.length;
    const axisRaw = c.constInts(node.inputs[2]!)[0]!;
    const axis = axisRaw < 0 ? axisRaw + rank : axisRaw;
    const sizes = c.constInts(node.inputs[1]!);
    const known = sizes.filter((s) => s !== -1).reduce((a, b) => a + b, 0);
    const resolved = sizes.map((s) => (s === -1 ? x.dims[axis]! - known : s));
    const split = c.g.constant(`${node.name}/split`, int64Tensor(resolved));
    const outs = c.g.node('Split', [x.name, split], { axis: attr.int(axis) }, node.name, resolved.length);
    outs.forEach((name, i) => {
      const dims = [...x.dims];
      dims[axis] = resolved[i]!;
      c.emit(node, name, dims, i);
    });
  },
  ResizeBilinear: (c, node) => {
    const x = c.onnx(node.inputs[0]!);
    const [h, w] = c.constInts(node.inputs[1]!) as [number, number];
    const alignCorners = attrBool(node, 'align_corners');
    const halfPixel = attrBool(node, 'half_pixel_centers');
    const mode = alignCorners ? 'align_corners' : halfPixel ? 'half_pixel' : 'asymmetric';
    const [n, , , ch] = x.dims as [number, number, number, number];
    const nchw = c.transpose(x.name, NHWC_TO_NCHW, `${node.name}/to_nchw`);
    const sizes = c.g.constant(`${node.name}/sizes`, int64Tensor([n, ch, h, w]));
    const resized = c.g.op('Resize', [nchw, '', '', sizes], { mode: attr.string('linear'), coordinate_transformation_mode: attr.string(mode) }, `${node.name}/resize`);
    c.emit(node, c.transpose(resized, NCHW_TO_NHWC, node.name), [n, h, w, ch]);
  },
};

export const supportedTfjsOps = Object.keys(handlers).concat(['Placeholder']).sort();

function placeholderDims(node: TfNode): number[] {
  const shape = node.attr['shape']?.shape as { dim?: { size?: string | number }[] } | undefined;
  const dims = (shape?.dim ?? []).map((d) => Number(d.size ?? -1));
  if (dims.some((d) => d < 0)) throw new Error(`input ${node.name} has a dynamic shape; give it a fixed one`);
  return dims;
}

/** Nodes reachable backwards from the outputs, in dependency order. */
function topologicalOrder(graph: TfjsGraph, outputs: string[]): TfNode[] {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const order: TfNode[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string): void => {
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'visiting') throw new Error(`cycle at ${name}`);
    const node = byName.get(name);
    if (!node) throw new Error(`unknown node ${name}`);
    state.set(name, 'visiting');
    for (const i of node.inputs) visit(i.split(':')[0]!);
    state.set(name, 'done');
    order.push(node);
  };
  for (const o of outputs) visit(o);
  return order;
}

export function convertTfjsGraph(graph: TfjsGraph, name: string, options: TfjsConvertOptions = {}): OnnxGraph {
  const c = new Converter(graph);
  const outputList = options.outputs ?? graph.outputs.map((o): [string, string] => [o, o]);
  for (const [, onnxName] of outputList) c.g.reserve(onnxName);
  const inputs: ValueInfo[] = [];
  for (const node of topologicalOrder(graph, outputList.map(([tf]) => tf))) {
    if (node.op === 'Placeholder') {
      const onnxName = c.g.reserve(options.inputNames?.[node.name] ?? node.name);
      const dims = placeholderDims(node);
      inputs.push({ name: onnxName, elemType: DataType.FLOAT, shape: dims });
      c.emit(node, onnxName, dims);
      continue;
    }
    const handler = handlers[node.op];
    if (!handler) throw new Error(`unsupported TFJS op ${node.op} (${node.name})`);
    handler(c, node);
  }
  const outputs: ValueInfo[] = outputList.map(([tf, onnxName]) => {
    const v = c.onnx(tf);
    const outName = c.g.op('Identity', [v.name], {}, 'output', onnxName);
    return { name: outName, elemType: DataType.FLOAT, shape: v.dims };
  });
  return c.g.build(name, inputs, outputs);
}
