/**
 * Reads a TensorFlow.js graph model (model.json + weight shards) into plain nodes and
 * dequantised constant tensors.
 */

export type ConstDtype = 'float32' | 'int32' | 'bool';

export interface ConstTensor {
  dtype: ConstDtype;
  dims: number[];
  data: Float32Array | Int32Array;
}

export interface TfAttrValue {
  i?: string | number;
  f?: number;
  b?: boolean;
  s?: string;
  type?: string;
  shape?: unknown;
  tensor?: unknown;
  list?: { i?: (string | number)[]; f?: number[]; s?: string[] };
}

export interface TfNode {
  name: string;
  op: string;
  /** Inputs as `node` or `node:k`; control inputs (`^node`) are dropped. */
  inputs: string[];
  attr: Record<string, TfAttrValue>;
}

export interface TfjsGraph {
  nodes: TfNode[];
  weights: Map<string, ConstTensor>;
  inputs: string[];
  outputs: string[];
}

interface WeightEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: 'float16' | 'uint8' | 'uint16'; scale?: number; min?: number; original_dtype?: string };
}

interface ModelJson {
  modelTopology: { node: { name: string; op: string; input?: string[]; attr?: Record<string, TfAttrValue> }[] };
  weightsManifest: { paths: string[]; weights: WeightEntry[] }[];
  signature?: { inputs?: Record<string, unknown>; outputs?: Record<string, unknown> };
}

/** IEEE 754 half → single precision, including subnormals, infinities and NaN. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

function decodeWeight(entry: WeightEntry, bytes: Uint8Array): { tensor: ConstTensor; consumed: number } {
  const count = entry.shape.reduce((a, b) => a * b, 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dtype: ConstDtype = entry.dtype === 'int32' ? 'int32' : entry.dtype === 'bool' ? 'bool' : 'float32';
  if (entry.dtype !== 'float32' && entry.dtype !== 'int32' && entry.dtype !== 'bool') {
    throw new Error(`weight ${entry.name}: unsupported dtype ${entry.dtype}`);
  }
  const q = entry.quantization;
  const data = dtype === 'float32' ? new Float32Array(count) : new Int32Array(count);
  if (!q) {
    if (dtype === 'bool') {
      for (let i = 0; i < count; i++) data[i] = bytes[i]!;
      return { tensor: { dtype, dims: entry.shape, data }, consumed: count };
    }
    for (let i = 0; i < count; i++) data[i] = dtype === 'float32' ? view.getFloat32(i * 4, true) : view.getInt32(i * 4, true);
    return { tensor: { dtype, dims: entry.shape, data }, consumed: count * 4 };
  }
  if (q.dtype === 'float16') {
    for (let i = 0; i < count; i++) data[i] = halfToFloat(view.getUint16(i * 2, true));
    return { tensor: { dtype, dims: entry.shape, data }, consumed: count * 2 };
  }
  // Affine quantisation: value = q * scale + min (tfjs-converter's quantize_weights).
  const width = q.dtype === 'uint8' ? 1 : 2;
  const scale = q.scale ?? 1;
  const min = q.min ?? 0;
  for (let i = 0; i < count; i++) {
    const raw = width === 1 ? bytes[i]! : view.getUint16(i * 2, true);
    const v = raw * scale + min;
    data[i] = dtype === 'int32' ? Math.round(v) : v;
  }
  return { tensor: { dtype, dims: entry.shape, data }, consumed: count * width };
}

/** `shards` maps each path listed in the weights manifest to its bytes. */
export function readTfjsGraph(modelJson: string | Uint8Array, shards: Map<string, Uint8Array>): TfjsGraph {
  const json = JSON.parse(typeof modelJson === 'string' ? modelJson : new TextDecoder().decode(modelJson)) as ModelJson;
  const weights = new Map<string, ConstTensor>();
  for (const group of json.weightsManifest) {
    const parts = group.paths.map((p) => {
      const bytes = shards.get(p);
      if (!bytes) throw new Error(`missing weight shard ${p}`);
      return bytes;
    });
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    let offset = 0;
    for (const entry of group.weights) {
      const { tensor, consumed } = decodeWeight(entry, all.subarray(offset));
      weights.set(entry.name, tensor);
      offset += consumed;
    }
    if (offset !== all.length) throw new Error(`weights manifest covers ${offset} of ${all.length} bytes`);
  }
  const nodes: TfNode[] = json.modelTopology.node.map((n) => ({
    name: n.name,
    op: n.op,
    inputs: (n.input ?? []).filter((i) => !i.startsWith('^')),
    attr: n.attr ?? {},
  }));
  const inputs = nodes.filter((n) => n.op === 'Placeholder').map((n) => n.name);
  const consumed = new Set(nodes.flatMap((n) => n.inputs.map((i) => i.split(':')[0]!)));
  const signatureOutputs = json.signature?.outputs ? Object.keys(json.signature.outputs).map((k) => k.replace(/:0$/, '')) : [];
  const outputs = signatureOutputs.length > 0 ? signatureOutputs : nodes.filter((n) => !consumed.has(n.name) && n.op !== 'Const').map((n) => n.name);
  return { nodes, weights, inputs, outputs };
}

export function attrInt(node: TfNode, key: string, fallback?: number): number {
  const v = node.attr[key]?.i;
  if (v === undefined) {
    if (fallback === undefined) throw new Error(`${node.op} ${node.name}: missing attribute ${key}`);
    return fallback;
  }
  return Number(v);
}

export function attrInts(node: TfNode, key: string, fallback?: number[]): number[] {
  const v = node.attr[key]?.list?.i;
  if (v === undefined) {
    if (fallback === undefined) throw new Error(`${node.op} ${node.name}: missing attribute ${key}`);
    return fallback;
  }
  return v.map(Number);
}

export function attrFloat(node: TfNode, key: string, fallback: number): number {
  return node.attr[key]?.f ?? fallback;
}

export function attrBool(node: TfNode, key: string, fallback = false): boolean {
  return node.attr[key]?.b ?? fallback;
}

export function attrString(node: TfNode, key: string, fallback = ''): string {
  const v = node.attr[key]?.s;
  return v === undefined ? fallback : Buffer.from(v, 'base64').toString('utf8');
}

/** Weights of a bare weights manifest (no topology, as face-api.js ships its models); `shards` as for readTfjsGraph. */
export function readManifestWeights(manifestJson: Uint8Array, shards: Map<string, Uint8Array>): Map<string, ConstTensor> {
  const manifest = JSON.parse(new TextDecoder().decode(manifestJson)) as { paths: string[] }[];
  const modelJson = new TextEncoder().encode(JSON.stringify({ modelTopology: { node: [] }, weightsManifest: manifest }));
  return readTfjsGraph(modelJson, shards).weights;
}
