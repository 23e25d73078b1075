/**
 * Converts a float TFLite model (fp16 or fp32 weights) to an ONNX graph.
 *
 * Layout: graph inputs and outputs stay NHWC as in TFLite; rank-4 activations are NCHW inside, so
 * convolutions need no Transposes. Ops whose semantics depend on the layout (Reshape) go back to NHWC first.
 * DEQUANTIZE of constant fp16 weights is folded into fp32 initialisers.
 */
import type { OnnxGraph, ValueInfo } from './onnx.ts';
import { DataType } from './onnx.ts';
import { GraphBuilder, attr, floatTensor, int64Tensor, permute } from './graph-builder.ts';
import { halfToFloat } from './tfjs-reader.ts';
import { BuiltinOp, TensorType } from './tflite-reader.ts';
import type { TfliteModel, TfliteOperator, TfliteTable, TfliteTensor } from './tflite-reader.ts';
import { convOutputSize, samePads } from './shape-math.ts';

type Value =
  | { kind: 'const'; dims: number[]; data: Float32Array | Int32Array }
  /** `dims` are TFLite's (NHWC for rank 4); the ONNX tensor is NCHW when `nchw`. */
  | { kind: 'onnx'; name: string; dims: number[]; nchw: boolean };

export interface TfliteConvertOptions {
  inputNames?: Record<string, string>;
  outputNames?: Record<string, string>;
}

const NHWC_TO_NCHW = [0, 3, 1, 2];
const NCHW_TO_NHWC = [0, 2, 3, 1];
const PADDING_SAME = 0;
const ACTIVATION_NONE = 0;
const ACTIVATION_RELU = 1;
const ACTIVATION_RELU6 = 3;

function constantData(t: TfliteTensor): Float32Array | Int32Array {
  const bytes = t.data!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (t.type) {
    case TensorType.FLOAT32:
      return Float32Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
    case TensorType.FLOAT16:
      return Float32Array.from({ length: bytes.length / 2 }, (_, i) => halfToFloat(view.getUint16(i * 2, true)));
    case TensorType.INT32:
      return Int32Array.from({ length: bytes.length / 4 }, (_, i) => view.getInt32(i * 4, true));
    case TensorType.INT64:
      return Int32Array.from({ length: bytes.length / 8 }, (_, i) => Number(view.getBigInt64(i * 8, true)));
    default:
      throw new Error(`constant ${t.name}: tensor type ${t.type} not supported`);
  }
}

class Converter {
  readonly g = new GraphBuilder();
  readonly values = new Map<number, Value>();

  constructor(readonly model: TfliteModel) {}

  tensor(index: number): TfliteTensor {
    return this.model.tensors[index]!;
  }

  value(index: number): Value {
    const v = this.values.get(index);
    if (v) return v;
    const t = this.tensor(index);
    if (!t.data) throw new Error(`tensor ${t.name} has no producer`);
    const c: Value = { kind: 'const', dims: t.shape, data: constantData(t) };
    this.values.set(index, c);
    return c;
  }

  constant(index: number): { dims: number[]; data: Float32Array | Int32Array } {
    const v = this.value(index);
    if (v.kind !== 'const') throw new Error(`tensor ${this.tensor(index).name} must be constant`);
    return v;
  }

  /** The ONNX name of a value in NCHW (rank 4) layout; constants become initialisers in that layout. */
  activation(index: number): string {
    const v = this.value(index);
    if (v.kind === 'onnx') {
      if (v.dims.length === 4 && !v.nchw) return this.g.op('Transpose', [v.name], { perm: attr.ints(NHWC_TO_NCHW) }, `${v.name}/nchw`);
      return v.name;
    }
    return this.constantOperand(index, 4);
  }

  /** A constant operand for broadcasting against a rank-`rank` NCHW activation. */
  constantOperand(index: number, rank: number): string {
    const c = this.constant(index);
    const name = this.tensor(index).name;
    let dims = c.dims;
    let data = c.data as Float32Array;
    if (rank === 4 && dims.length === 4) {
      data = permute(data, dims, NHWC_TO_NCHW);
      dims = NHWC_TO_NCHW.map((p) => c.dims[p]!);
    } else if (rank === 4 && dims.length === 1 && dims[0]! > 1) {
      dims = [dims[0]!, 1, 1];
    }
    return this.g.constant(name, floatTensor(dims, data));
  }

  /** The ONNX name of a value in its TFLite (NHWC) layout. */
  nhwc(index: number): string {
    const v = this.value(index);
    if (v.kind !== 'onnx') return this.g.constant(this.tensor(index).name, floatTensor(v.dims, v.data as Float32Array));
    if (v.dims.length === 4 && v.nchw) return this.g.op('Transpose', [v.name], { perm: attr.ints(NCHW_TO_NHWC) }, `${v.name}/nhwc`);
    return v.name;
  }

  define(index: number, name: string, nchw: boolean): void {
    this.values.set(index, { kind: 'onnx', name, dims: this.tensor(index).shape, nchw: nchw && this.tensor(index).shape.length === 4 });
  }

  /** Applies a fused activation and defines the op's output tensor. */
  finish(op: TfliteOperator, name: string, activation: number): void {
    const hint = this.tensor(op.outputs[0]!).name;
    let out = name;
    if (activation === ACTIVATION_RELU) out = this.g.op('Relu', [name], {}, `${hint}/relu`);
    else if (activation === ACTIVATION_RELU6) out = this.clip(name, 0, 6, hint);
    else if (activation !== ACTIVATION_NONE) throw new Error(`fused activation ${activation} not supported`);
    this.define(op.outputs[0]!, out, true);
  }

  clip(input: string, lo: number, hi: number, hint: string): string {
    const min = this.g.constant(`${hint}/min`, floatTensor([], [lo]));
    const max = this.g.constant(`${hint}/max`, floatTensor([], [hi]));
    return this.g.op('Clip', [input, min, max], {}, `${hint}/clip`);
  }
}

function windowPads(c: Converter, op: TfliteOperator, options: TfliteTable, kernel: [number, number], stride: [number, number], dilation: [number, number]): number[] {
  const [, h, w] = c.tensor(op.inputs[0]!).shape as [number, number, number];
  if (options.int8(0) !== PADDING_SAME) return [0, 0, 0, 0];
  const [pt, pb] = samePads(h, kernel[0], stride[0], dilation[0]);
  const [pl, pr] = samePads(w, kernel[1], stride[1], dilation[1]);
  return [pt, pl, pb, pr];
}

function convolution(c: Converter, op: TfliteOperator, depthwise: boolean): void {
  const o = op.options!;
  // Conv2DOptions: 0 padding, 1 stride_w, 2 stride_h, 3 activation, 4 dilation_w, 5 dilation_h.
  // DepthwiseConv2DOptions: 0 padding, 1 stride_w, 2 stride_h, 3 depth_multiplier, 4 activation, 5 dilation_w, 6 dilation_h.
  const stride: [number, number] = [o.int32(2, 1), o.int32(1, 1)];
  const dilation: [number, number] = depthwise ? [o.int32(6, 1), o.int32(5, 1)] : [o.int32(5, 1), o.int32(4, 1)];
  const activation = depthwise ? o.int8(4) : o.int8(3);
  const filter = c.constant(op.inputs[1]!);
  const [fo, kh, kw, fi] = filter.dims as [number, number, number, number];
  const inC = c.tensor(op.inputs[0]!).shape[3]!;
  // TFLite filters: conv OHWI, depthwise 1HW(C·M). ONNX: OIHW with I = channels per group.
  const weights = depthwise ? permute(filter.data as Float32Array, [kh, kw, fi], [2, 0, 1]) : permute(filter.data as Float32Array, [fo, kh, kw, fi], [0, 3, 1, 2]);
  const wDims = depthwise ? [fi, 1, kh, kw] : [fo, fi, kh, kw];
  const name = c.tensor(op.outputs[0]!).name;
  const inputs = [c.activation(op.inputs[0]!), c.g.constant(c.tensor(op.inputs[1]!).name, floatTensor(wDims, weights))];
  if (op.inputs[2] !== undefined && op.inputs[2] >= 0) inputs.push(c.g.constant(c.tensor(op.inputs[2]!).name, floatTensor([wDims[0]!], c.constant(op.inputs[2]!).data as Float32Array)));
  const conv = c.g.op(
    'Conv',
    inputs,
    {
      kernel_shape: attr.ints([kh, kw]),
      strides: attr.ints(stride),
      dilations: attr.ints(dilation),
      pads: attr.ints(windowPads(c, op, o, [kh, kw], stride, dilation)),
      group: attr.int(depthwise ? inC : inC / fi),
    },
    name,
  );
  c.finish(op, conv, activation);
}

function pooling(c: Converter, op: TfliteOperator, opType: 'MaxPool' | 'AveragePool'): void {
  const o = op.options!;
  // Pool2DOptions: 0 padding, 1 stride_w, 2 stride_h, 3 filter_width, 4 filter_height, 5 activation.
  const stride: [number, number] = [o.int32(2, 1), o.int32(1, 1)];
  const kernel: [number, number] = [o.int32(4), o.int32(3)];
  const pooled = c.g.op(opType, [c.activation(op.inputs[0]!)], { kernel_shape: attr.ints(kernel), strides: attr.ints(stride), pads: attr.ints(windowPads(c, op, o, kernel, stride, [1, 1])) }, c.tensor(op.outputs[0]!).name);
  c.finish(op, pooled, o.int8(5));
}

function binary(c: Converter, op: TfliteOperator, opType: 'Add' | 'Mul'): void {
  const rank = c.tensor(op.outputs[0]!).shape.length;
  const operand = (i: number) => (c.value(i).kind === 'const' ? c.constantOperand(i, rank) : rank === 4 ? c.activation(i) : c.nhwc(i));
  const out = c.g.op(opType, [operand(op.inputs[0]!), operand(op.inputs[1]!)], {}, c.tensor(op.outputs[0]!).name);
  // AddOptions / MulOptions: 0 fused activation.
  c.finish(op, out, op.options ? op.options.int8(0) : ACTIVATION_NONE);
}

/** MediaPipe's Convolution2DTransposeBias: custom options are three int32 (padding, stride_w, stride_h). */
function transposeConvBias(c: Converter, op: TfliteOperator): void {
  const opts = op.customOptions!;
  const view = new DataView(opts.buffer, opts.byteOffset, opts.byteLength);
  const [padding, strideW, strideH] = [view.getInt32(0, true), view.getInt32(4, true), view.getInt32(8, true)];
  const filter = c.constant(op.inputs[1]!);
  const [fo, kh, kw, fi] = filter.dims as [number, number, number, number];
  const [, inH, inW] = c.tensor(op.inputs[0]!).shape as [number, number, number];
  const [, outH, outW] = c.tensor(op.outputs[0]!).shape as [number, number, number];
  // TfLitePadding: 1 = SAME, 2 = VALID. The crop equals the padding of the matching forward convolution.
  const crop = (inSize: number, outSize: number, k: number, s: number) => {
    const total = padding === 2 ? 0 : Math.max((inSize - 1) * s + k - outSize, 0);
    const before = Math.floor(total / 2);
    const extra = outSize - ((inSize - 1) * s + k - total);
    return { before, after: total - before, extra };
  };
  const ch = crop(inH, outH, kh, strideH);
  const cw = crop(inW, outW, kw, strideW);
  const weights = permute(filter.data as Float32Array, [fo, kh, kw, fi], [3, 0, 1, 2]);
  const name = c.tensor(op.outputs[0]!).name;
  const out = c.g.op(
    'ConvTranspose',
    [c.activation(op.inputs[0]!), c.g.constant(c.tensor(op.inputs[1]!).name, floatTensor([fi, fo, kh, kw], weights)), c.g.constant(c.tensor(op.inputs[2]!).name, floatTensor([fo], c.constant(op.inputs[2]!).data as Float32Array))],
    {
      kernel_shape: attr.ints([kh, kw]),
      strides: attr.ints([strideH, strideW]),
      pads: attr.ints([ch.before, cw.before, ch.after, cw.after]),
      output_padding: attr.ints([ch.extra, cw.extra]),
    },
    name,
  );
  c.finish(op, out, ACTIVATION_NONE);
}

const handlers: Record<number, (c: Converter, op: TfliteOperator) => void> = {
  [BuiltinOp.DEQUANTIZE]: (c, op) => {
    const src = c.constant(op.inputs[0]!);
    c.values.set(op.outputs[0]!, { kind: 'const', dims: src.dims, data: Float32Array.from(src.data) });
  },
  [BuiltinOp.CONV_2D]: (c, op) => convolution(c, op, false),
  [BuiltinOp.DEPTHWISE_CONV_2D]: (c, op) => convolution(c, op, true),
  [BuiltinOp.MAX_POOL_2D]: (c, op) => pooling(c, op, 'MaxPool'),
  [BuiltinOp.AVERAGE_POOL_2D]: (c, op) => pooling(c, op, 'AveragePool'),
  [BuiltinOp.ADD]: (c, op) => binary(c, op, 'Add'),
  [BuiltinOp.MUL]: (c, op) => binary(c, op, 'Mul'),
  [BuiltinOp.RELU]: (c, op) => c.define(op.outputs[0]!, c.g.op('Relu', [c.activation(op.inputs[0]!)], {}, c.tensor(op.outputs[0]!).name), true),
  [BuiltinOp.RELU6]: (c, op) => c.define(op.outputs[0]!, c.clip(c.activation(op.inputs[0]!), 0, 6, c.tensor(op.outputs[0]!).name), true),
  [BuiltinOp.LOGISTIC]: (c, op) => c.define(op.outputs[0]!, c.g.op('Sigmoid', [c.activation(op.inputs[0]!)], {}, c.tensor(op.outputs[0]!).name), true),
  [BuiltinOp.HARD_SWISH]: (c, op) => {
    // HardSwish is opset 14; x · HardSigmoid(x; 1/6, 0.5) is the same function in opset 13.
    const x = c.activation(op.inputs[0]!);
    const name = c.tensor(op.outputs[0]!).name;
    const gate = c.g.op('HardSigmoid', [x], { alpha: attr.float(1 / 6), beta: attr.float(0.5) }, `${name}/gate`);
    c.define(op.outputs[0]!, c.g.op('Mul', [x, gate], {}, name), true);
  },
  [BuiltinOp.PAD]: (c, op) => {
    const p = Array.from(c.constant(op.inputs[1]!).data);
    const rank = c.tensor(op.inputs[0]!).shape.length;
    const order = rank === 4 ? NHWC_TO_NCHW : Array.from({ length: rank }, (_, i) => i);
    const pads = [...order.map((a) => p[2 * a]!), ...order.map((a) => p[2 * a + 1]!)];
    const name = c.tensor(op.outputs[0]!).name;
    const out = c.g.op('Pad', [c.activation(op.inputs[0]!), c.g.constant(`${name}/pads`, int64Tensor(pads))], { mode: attr.string('constant') }, name);
    c.define(op.outputs[0]!, out, true);
  },
  [BuiltinOp.RESIZE_BILINEAR]: (c, op) => {
    // ResizeBilinearOptions: 2 align_corners, 3 half_pixel_centers.
    const alignCorners = op.options?.bool(2) ?? false;
    const halfPixel = op.options?.bool(3) ?? false;
    const [n, h, w, ch] = c.tensor(op.outputs[0]!).shape as [number, number, number, number];
    const name = c.tensor(op.outputs[0]!).name;
    const sizes = c.g.constant(`${name}/sizes`, int64Tensor([n, ch, h, w]));
    const mode = alignCorners ? 'align_corners' : halfPixel ? 'half_pixel' : 'asymmetric';
    const out = c.g.op('Resize', [c.activation(op.inputs[0]!), '', '', sizes], { mode: attr.string('linear'), coordinate_transformation_mode: attr.string(mode) }, name);
    c.define(op.outputs[0]!, out, true);
  },
  [BuiltinOp.RESHAPE]: (c, op) => {
    const dims = c.tensor(op.outputs[0]!).shape;
    const name = c.tensor(op.outputs[0]!).name;
    const out = c.g.op('Reshape', [c.nhwc(op.inputs[0]!), c.g.constant(`${name}/shape`, int64Tensor(dims))], {}, name);
    c.define(op.outputs[0]!, out, false);
  },
  [BuiltinOp.CONCATENATION]: (c, op) => {
    // ConcatenationOptions: 0 axis, 1 fused activation.
    const rank = c.tensor(op.outputs[0]!).shape.length;
    const raw = op.options!.int32(0);
    const axis = raw < 0 ? raw + rank : raw;
    const nchw = rank === 4;
    const inputs = op.inputs.map((i) => (nchw ? c.activation(i) : c.nhwc(i)));
    const out = c.g.op('Concat', inputs, { axis: attr.int(nchw ? NHWC_TO_NCHW.indexOf(axis) : axis) }, c.tensor(op.outputs[0]!).name);
    if (nchw) c.finish(op, out, op.options!.int8(1));
    else c.define(op.outputs[0]!, out, false);
  },
};

export const supportedTfliteOps = [...Object.keys(BuiltinOp).filter((k) => k !== 'CUSTOM'), 'CUSTOM:Convolution2DTransposeBias'];

export function convertTflite(model: TfliteModel, name: string, options: TfliteConvertOptions = {}): OnnxGraph {
  const c = new Converter(model);
  const outputNames = model.outputs.map((o) => c.g.reserve(options.outputNames?.[c.tensor(o).name] ?? c.tensor(o).name));
  const inputs: ValueInfo[] = model.inputs.map((i) => {
    const t = c.tensor(i);
    const onnxName = c.g.reserve(options.inputNames?.[t.name] ?? t.name);
    c.values.set(i, { kind: 'onnx', name: onnxName, dims: t.shape, nchw: false });
    return { name: onnxName, elemType: DataType.FLOAT, shape: t.shape };
  });
  for (const op of model.operators) {
    if (op.builtin === -1) {
      if (op.customCode !== 'Convolution2DTransposeBias') throw new Error(`unsupported custom op ${op.customCode}`);
      transposeConvBias(c, op);
      continue;
    }
    const handler = handlers[op.builtin];
    if (!handler) throw new Error(`unsupported TFLite builtin op ${op.builtin} (${c.tensor(op.outputs[0]!).name})`);
    handler(c, op);
  }
  const outputs: ValueInfo[] = model.outputs.map((o, i) => {
    const outName = c.g.op('Identity', [c.nhwc(o)], {}, 'output', outputNames[i]!);
    return { name: outName, elemType: DataType.FLOAT, shape: c.tensor(o).shape };
  });
  return c.g.build(name, inputs, outputs);
}

export { convOutputSize };
