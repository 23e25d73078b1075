/**
 * In-memory ONNX model and its protobuf serialisation.
 * Field numbers follow onnx/onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto,
 * TensorProto, ValueInfoProto, TypeProto, TensorShapeProto, OperatorSetIdProto, StringStringEntryProto).
 */
import { ProtoWriter } from './protobuf.ts';

export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
} as const;
export type DataType = (typeof DataType)[keyof typeof DataType];

export type TensorData = Float32Array | Int32Array | BigInt64Array | Uint8Array;

export interface OnnxTensor {
  dataType: DataType;
  dims: number[];
  data: TensorData;
}

export type Attribute =
  | { type: 'int'; value: number }
  | { type: 'ints'; value: number[] }
  | { type: 'float'; value: number }
  | { type: 'floats'; value: number[] }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: OnnxTensor };

export interface OnnxNode {
  name: string;
  opType: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, Attribute>;
}

export interface ValueInfo {
  name: string;
  elemType: DataType;
  /** Numbers are fixed sizes, strings are symbolic (dim_param). */
  shape: (number | string)[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

export interface OnnxModel {
  graph: OnnxGraph;
  opsetVersion: number;
  producerName: string;
  producerVersion: string;
  docString: string;
  metadata: Record<string, string>;
}

/** ONNX IR version matching each opset (onnx/docs/Versioning.md). */
export function irVersionForOpset(opset: number): number {
  if (opset <= 8) return 3;
  if (opset <= 9) return 4;
  if (opset <= 10) return 5;
  if (opset <= 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  return 9;
}

const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_TENSOR = 4;
const ATTR_FLOATS = 6;
const ATTR_INTS = 7;

function tensorBytes(data: TensorData): Uint8Array {
  // Raw data is little-endian; every supported host (x64, arm64) is little-endian too.
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export function encodeTensor(name: string, tensor: OnnxTensor): Uint8Array {
  const w = new ProtoWriter();
  for (const d of tensor.dims) w.int(1, d);
  w.int(2, tensor.dataType);
  w.string(8, name);
  w.bytes(9, tensorBytes(tensor.data));
  return w.finish();
}

function encodeAttribute(name: string, attr: Attribute): Uint8Array {
  const w = new ProtoWriter();
  w.string(1, name);
  switch (attr.type) {
    case 'float':
      w.float(2, attr.value).int(20, ATTR_FLOAT);
      break;
    case 'int':
      w.int(3, attr.value).int(20, ATTR_INT);
      break;
    case 'string':
      w.string(4, attr.value).int(20, ATTR_STRING);
      break;
    case 'tensor':
      w.message(5, encodeTensor('', attr.value)).int(20, ATTR_TENSOR);
      break;
    case 'floats':
      for (const v of attr.value) w.float(7, v);
      w.int(20, ATTR_FLOATS);
      break;
    case 'ints':
      for (const v of attr.value) w.int(8, v);
      w.int(20, ATTR_INTS);
      break;
  }
  return w.finish();
}

function encodeNode(node: OnnxNode): Uint8Array {
  const w = new ProtoWriter();
  for (const i of node.inputs) w.string(1, i);
  for (const o of node.outputs) w.string(2, o);
  w.string(3, node.name);
  w.string(4, node.opType);
  for (const key of Object.keys(node.attributes).sort()) {
    w.message(5, encodeAttribute(key, node.attributes[key]!));
  }
  return w.finish();
}

function encodeValueInfo(info: ValueInfo): Uint8Array {
  const shape = new ProtoWriter();
  for (const d of info.shape) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.int(1, d);
    else dim.string(2, d);
    shape.message(1, dim.finish());
  }
  const tensorType = new ProtoWriter().int(1, info.elemType).message(2, shape.finish()).finish();
  const type = new ProtoWriter().message(1, tensorType).finish();
  return new ProtoWriter().string(1, info.name).message(2, type).finish();
}

export function encodeGraph(graph: OnnxGraph): Uint8Array {
  const w = new ProtoWriter();
  for (const n of graph.nodes) w.message(1, encodeNode(n));
  w.string(2, graph.name);
  for (const [name, t] of graph.initializers) w.message(5, encodeTensor(name, t));
  for (const i of graph.inputs) w.message(11, encodeValueInfo(i));
  for (const o of graph.outputs) w.message(12, encodeValueInfo(o));
  return w.finish();
}

export function encodeModel(model: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, irVersionForOpset(model.opsetVersion));
  w.string(2, model.producerName);
  w.string(3, model.producerVersion);
  if (model.docString) w.string(6, model.docString);
  w.message(7, encodeGraph(model.graph));
  w.message(8, new ProtoWriter().string(1, '').int(2, model.opsetVersion).finish());
  for (const key of Object.keys(model.metadata).sort()) {
    w.message(14, new ProtoWriter().string(1, key).string(2, model.metadata[key]!).finish());
  }
  return w.finish();
}
