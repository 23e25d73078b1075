/** Accumulates ONNX nodes and initialisers with unique, deterministic names. */
import type { Attribute, OnnxGraph, OnnxNode, OnnxTensor, ValueInfo } from './onnx.ts';
import { DataType } from './onnx.ts';

export const attr = {
  int: (value: number): Attribute => ({ type: 'int', value }),
  ints: (value: number[]): Attribute => ({ type: 'ints', value }),
  float: (value: number): Attribute => ({ type: 'float', value }),
  floats: (value: number[]): Attribute => ({ type: 'floats', value }),
  string: (value: string): Attribute => ({ type: 'string', value }),
};

export function floatTensor(dims: number[], data: Float32Array | number[]): OnnxTensor {
  return { dataType: DataType.FLOAT, dims, data: data instanceof Float32Array ? data : Float32Array.from(data) };
}

export function int64Tensor(values: number[], dims: number[] = [values.length]): OnnxTensor {
  return { dataType: DataType.INT64, dims, data: BigInt64Array.from(values.map((v) => BigInt(v))) };
}

export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers = new Map<string, OnnxTensor>();
  private readonly used = new Set<string>();

  uniqueName(hint: string): string {
    const base = hint.replace(/[^A-Za-z0-9_./:-]/g, '_') || 'v';
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Reserves a name chosen elsewhere (graph inputs and outputs); reserving twice is allowed, so outputs can be reserved before the node that produces them exists. */
  reserve(name: string): string {
    this.used.add(name);
    return name;
  }

  constant(hint: string, tensor: OnnxTensor): string {
    const name = this.uniqueName(hint);
    this.initializers.set(name, tensor);
    return name;
  }

  /** Adds a node and returns its output names; `outputs` may name them, else they are derived from the hint. */
  node(opType: string, inputs: string[], attributes: Record<string, Attribute> = {}, hint = opType, outputs?: string[] | number): string[] {
    const outs = Array.isArray(outputs)
      ? outputs.map((o) => this.reserve(o))
      : Array.from({ length: outputs ?? 1 }, (_, i) => this.uniqueName(i === 0 ? hint : `${hint}:${i}`));
    this.nodes.push({ name: this.uniqueName(`${hint}/node`), opType, inputs, outputs: outs, attributes });
    return outs;
  }

  /** Single-output convenience wrapper around `node`. */
  op(opType: string, inputs: string[], attributes: Record<string, Attribute> = {}, hint = opType, output?: string): string {
    return this.node(opType, inputs, attributes, hint, output === undefined ? 1 : [output])[0]!;
  }

  build(name: string, inputs: ValueInfo[], outputs: ValueInfo[]): OnnxGraph {
    return { name, nodes: this.nodes, initializers: this.initializers, inputs, outputs };
  }
}

/** Reorders the axes of a dense row-major array (e.g. OHWI → OIHW weights). */
export function permute<T extends Float32Array | Int32Array>(data: T, dims: number[], perm: number[]): T {
  const rank = dims.length;
  const outDims = perm.map((p) => dims[p]!);
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= dims[i]!;
  }
  const strideForOut = perm.map((p) => inStrides[p]!);
  const out = new (data.constructor as new (n: number) => T)(data.length);
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < data.length; o++) {
    let src = 0;
    for (let a = 0; a < rank; a++) src += idx[a]! * strideForOut[a]!;
    out[o] = data[src]!;
    for (let a = rank - 1; a >= 0; a--) {
      if (++idx[a]! < outDims[a]!) break;
      idx[a] = 0;
    }
  }
  return out;
}
