/** Shape arithmetic shared by the converters, and constant folding of small integer/float tensors. */
import type { ConstTensor } from './tfjs-reader.ts';

/** TF "SAME" padding for one spatial axis: [before, after], with the odd pixel after (as TF does). */
export function samePads(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const effective = (kernel - 1) * dilation + 1;
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + effective - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

export function convOutputSize(size: number, kernel: number, stride: number, dilation: number, totalPad: number): number {
  const effective = (kernel - 1) * dilation + 1;
  return Math.floor((size + totalPad - effective) / stride) + 1;
}

/** Numpy-style broadcast of two shapes. */
export function broadcastDims(a: number[], b: number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`cannot broadcast [${a}] with [${b}]`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

const ops: Record<string, (x: number, y: number) => number> = {
  Add: (x, y) => x + y,
  Sub: (x, y) => x - y,
  Mul: (x, y) => x * y,
  Div: (x, y) => x / y,
  Max: Math.max,
  Min: Math.min,
};

/** Elementwise binary op on constants; supports equal shapes and scalar/size-1 operands. */
export function foldBinary(opType: string, a: ConstTensor, b: ConstTensor): ConstTensor {
  const f = ops[opType];
  if (!f) throw new Error(`cannot fold ${opType}`);
  const dims = broadcastDims(a.dims, b.dims);
  const count = dims.reduce((p, d) => p * d, 1);
  if ((a.data.length !== count && a.data.length !== 1) || (b.data.length !== count && b.data.length !== 1)) {
    throw new Error(`folding ${opType} only supports same-shape or scalar constants`);
  }
  const isInt = a.dtype === 'int32' && b.dtype === 'int32';
  const data = isInt ? new Int32Array(count) : new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const v = f(a.data[a.data.length === 1 ? 0 : i]!, b.data[b.data.length === 1 ? 0 : i]!);
    data[i] = isInt && opType === 'Div' ? Math.trunc(v) : v;
  }
  return { dtype: isInt ? 'int32' : 'float32', dims, data };
}
