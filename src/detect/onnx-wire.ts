/**
 * Reading ONNX model bytes (protobuf wire format) just far enough to find fields and patch their bytes in place:
 * used to derive a model from a pack's file at load time without re-encoding it (see yunet/yunet-fold.ts).
 * Field numbers are onnx.proto3's.
 */

export const ONNX = {
  model: { graph: 7 },
  graph: { node: 1, initializer: 5, input: 11 },
  node: { input: 1, output: 2, opType: 4, attribute: 5 },
  attribute: { name: 1, i: 3, ints: 8 },
  tensor: { dims: 1, dataType: 2, name: 8, rawData: 9 },
  valueInfo: { name: 1 },
} as const;

const TENSOR_FLOAT = 1;

export class OnnxWireError extends Error {
  override readonly name = 'OnnxWireError';
}

export interface WireField {
  field: number;
  wire: number;
  /** Varint fields: the value (numbers beyond 2^53 are not expected in the fields read here). */
  value: number;
  /** Length-delimited fields: the payload's byte range; varints: the varint's bytes. */
  start: number;
  end: number;
}

function varint(bytes: Uint8Array, at: number): { value: number; next: number } {
  let value = 0;
  let factor = 1;
  for (let i = at; i < bytes.length && i < at + 10; i++) {
    const b = bytes[i]!;
    value += (b & 0x7f) * factor;
    factor *= 128;
    if (b < 0x80) return { value, next: i + 1 };
  }
  throw new OnnxWireError('truncated varint');
}

/** The fields of the message in bytes[start, end). */
export function wireFields(bytes: Uint8Array, start = 0, end = bytes.length): WireField[] {
  const out: WireField[] = [];
  let at = start;
  while (at < end) {
    const tag = varint(bytes, at);
    const field = Math.floor(tag.value / 8);
    const wire = tag.value & 7;
    at = tag.next;
    if (wire === 0) {
      const v = varint(bytes, at);
      out.push({ field, wire, value: v.value, start: at, end: v.next });
      at = v.next;
    } else if (wire === 2) {
      const len = varint(bytes, at);
      const s = len.next;
      if (s + len.value > end) throw new OnnxWireError('field runs past its message');
      out.push({ field, wire, value: len.value, start: s, end: s + len.value });
      at = s + len.value;
    } else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      out.push({ field, wire, value: 0, start: at, end: at + n });
      at += n;
    } else {
      throw new OnnxWireError(`unsupported wire type ${wire}`);
    }
  }
  if (at !== end) throw new OnnxWireError('message runs past its end');
  return out;
}

const text = (bytes: Uint8Array, f: WireField) => new TextDecoder().decode(bytes.subarray(f.start, f.end));

/** A repeated int64 field's values with the byte range of each (packed or not), for in-place patches. */
function intsOf(bytes: Uint8Array, fields: WireField[], field: number): { value: number; start: number; end: number }[] {
  const out: { value: number; start: number; end: number }[] = [];
  for (const f of fields.filter((x) => x.field === field)) {
    if (f.wire === 0) out.push({ value: f.value, start: f.start, end: f.end });
    else if (f.wire === 2) {
      for (let at = f.start; at < f.end; ) {
        const v = varint(bytes, at);
        out.push({ value: v.value, start: at, end: v.next });
        at = v.next;
      }
    }
  }
  return out;
}

export interface WireNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  /** Attribute name → its ints (with byte ranges). */
  ints: Map<string, { value: number; start: number; end: number }[]>;
  /** Attribute name → its single int (`i`), for attributes that have one. */
  int: Map<string, number>;
}

export interface WireInitializer {
  name: string;
  dims: number[];
  dataType: number;
  /** Byte range of raw_data; undefined when the values are in typed fields. */
  raw?: { start: number; end: number };
}

export interface WireGraph {
  inputs: string[];
  nodes: WireNode[];
  initializers: Map<string, WireInitializer>;
}

/** The graph's nodes, initialisers and input names, with the byte ranges needed to patch them. */
export function readGraph(bytes: Uint8Array): WireGraph {
  const graph = wireFields(bytes).find((f) => f.field === ONNX.model.graph && f.wire === 2);
  if (!graph) throw new OnnxWireError('no graph in the model');
  const result: WireGraph = { inputs: [], nodes: [], initializers: new Map() };
  for (const g of wireFields(bytes, graph.start, graph.end)) {
    if (g.wire !== 2) continue;
    if (g.field === ONNX.graph.node) {
      const fields = wireFields(bytes, g.start, g.end);
      const node: WireNode = { opType: '', inputs: [], outputs: [], ints: new Map(), int: new Map() };
      for (const f of fields) {
        if (f.field === ONNX.node.opType) node.opType = text(bytes, f);
        else if (f.field === ONNX.node.input) node.inputs.push(text(bytes, f));
        else if (f.field === ONNX.node.output) node.outputs.push(text(bytes, f));
        else if (f.field === ONNX.node.attribute && f.wire === 2) {
          const a = wireFields(bytes, f.start, f.end);
          const name = a.find((x) => x.field === ONNX.attribute.name);
          if (!name) continue;
          node.ints.set(text(bytes, name), intsOf(bytes, a, ONNX.attribute.ints));
          const single = a.find((x) => x.field === ONNX.attribute.i && x.wire === 0);
          if (single) node.int.set(text(bytes, name), single.value);
        }
      }
      result.nodes.push(node);
    } else if (g.field === ONNX.graph.initializer) {
      const fields = wireFields(bytes, g.start, g.end);
      const name = fields.find((f) => f.field === ONNX.tensor.name);
      const raw = fields.find((f) => f.field === ONNX.tensor.rawData && f.wire === 2);
      const dataType = fields.find((f) => f.field === ONNX.tensor.dataType)?.value ?? 0;
      const init: WireInitializer = { name: name ? text(bytes, name) : '', dims: intsOf(bytes, fields, ONNX.tensor.dims).map((d) => d.value), dataType };
      if (raw) init.raw = { start: raw.start, end: raw.end };
      result.initializers.set(init.name, init);
    } else if (g.field === ONNX.graph.input) {
      const name = wireFields(bytes, g.start, g.end).find((f) => f.field === ONNX.valueInfo.name);
      if (name) result.inputs.push(text(bytes, name));
    }
  }
  return result;
}

/** A float32 initialiser's values (raw_data, little-endian), copied out. */
export function floatInitializer(bytes: Uint8Array, init: WireInitializer): Float32Array {
  if (init.dataType !== TENSOR_FLOAT || !init.raw) throw new OnnxWireError(`initialiser ${init.name} is not float32 raw data`);
  const view = new DataView(bytes.buffer, bytes.byteOffset + init.raw.start, init.raw.end - init.raw.start);
  const out = new Float32Array(view.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** Writes values over a float32 initialiser of the same length, in place. */
export function patchFloatInitializer(bytes: Uint8Array, init: WireInitializer, values: Float32Array): void {
  if (init.dataType !== TENSOR_FLOAT || !init.raw || init.raw.end - init.raw.start !== values.length * 4) {
    throw new OnnxWireError(`initialiser ${init.name} cannot take ${values.length} floats in place`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + init.raw.start, values.length * 4);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
}

/** Sets one int of an attribute in place; the new value must encode to as many varint bytes as the old. */
export function patchInt(bytes: Uint8Array, at: { value: number; start: number; end: number }, value: number): void {
  const enc: number[] = [];
  let v = value;
  do {
    enc.push((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
    v = Math.floor(v / 128);
  } while (v > 0);
  if (value < 0 || enc.length !== at.end - at.start) throw new OnnxWireError(`cannot write ${value} in place of ${at.value}`);
  bytes.set(enc, at.start);
}
