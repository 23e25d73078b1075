/**
 * Reads the parts of a TFLite flatbuffer that conversion needs. Field ids follow tensorflow/lite/schema/schema.fbs
 * (vtable slot = 4 + 2 × id).
 */
import { ByteBuffer } from 'flatbuffers';

class Table {
  constructor(readonly bb: ByteBuffer, readonly pos: number) {}

  private offset(id: number): number {
    return this.bb.__offset(this.pos, 4 + 2 * id);
  }

  int8(id: number, fallback = 0): number {
    const o = this.offset(id);
    return o ? this.bb.readInt8(this.pos + o) : fallback;
  }

  uint8(id: number, fallback = 0): number {
    const o = this.offset(id);
    return o ? this.bb.readUint8(this.pos + o) : fallback;
  }

  int32(id: number, fallback = 0): number {
    const o = this.offset(id);
    return o ? this.bb.readInt32(this.pos + o) : fallback;
  }

  uint32(id: number, fallback = 0): number {
    const o = this.offset(id);
    return o ? this.bb.readUint32(this.pos + o) : fallback;
  }

  bool(id: number, fallback = false): boolean {
    const o = this.offset(id);
    return o ? this.bb.readInt8(this.pos + o) !== 0 : fallback;
  }

  string(id: number): string | null {
    const o = this.offset(id);
    return o ? (this.bb.__string(this.pos + o) as string) : null;
  }

  table(id: number): Table | null {
    const o = this.offset(id);
    return o ? new Table(this.bb, this.bb.__indirect(this.pos + o)) : null;
  }

  tables(id: number): Table[] {
    const o = this.offset(id);
    if (!o) return [];
    const start = this.bb.__vector(this.pos + o);
    const n = this.bb.__vector_len(this.pos + o);
    return Array.from({ length: n }, (_, i) => new Table(this.bb, this.bb.__indirect(start + i * 4)));
  }

  int32s(id: number): number[] {
    const o = this.offset(id);
    if (!o) return [];
    const start = this.bb.__vector(this.pos + o);
    const n = this.bb.__vector_len(this.pos + o);
    return Array.from({ length: n }, (_, i) => this.bb.readInt32(start + i * 4));
  }

  bytes(id: number): Uint8Array | null {
    const o = this.offset(id);
    if (!o) return null;
    const start = this.bb.__vector(this.pos + o);
    const n = this.bb.__vector_len(this.pos + o);
    return this.bb.bytes().subarray(start, start + n);
  }
}

export const TensorType = { FLOAT32: 0, FLOAT16: 1, INT32: 2, UINT8: 3, INT64: 4 } as const;

export const BuiltinOp = {
  ADD: 0,
  AVERAGE_POOL_2D: 1,
  CONCATENATION: 2,
  CONV_2D: 3,
  DEPTHWISE_CONV_2D: 4,
  DEQUANTIZE: 6,
  LOGISTIC: 14,
  MAX_POOL_2D: 17,
  MUL: 18,
  RELU: 19,
  RELU6: 21,
  RESHAPE: 22,
  RESIZE_BILINEAR: 23,
  CUSTOM: 32,
  PAD: 34,
  HARD_SWISH: 117,
} as const;

export interface TfliteTensor {
  index: number;
  name: string;
  shape: number[];
  type: number;
  /** Raw little-endian bytes when the tensor is a constant. */
  data: Uint8Array | null;
}

export interface TfliteOperator {
  /** Builtin operator code, or -1 for a custom op (see `customCode`). */
  builtin: number;
  customCode: string | null;
  inputs: number[];
  outputs: number[];
  options: Table | null;
  customOptions: Uint8Array | null;
}

export interface TfliteModel {
  tensors: TfliteTensor[];
  operators: TfliteOperator[];
  inputs: number[];
  outputs: number[];
}

export type { Table as TfliteTable };

export function readTflite(bytes: Uint8Array): TfliteModel {
  const bb = new ByteBuffer(bytes);
  const model = new Table(bb, bb.readInt32(bb.position()) + bb.position());
  // Model: 1 operator_codes, 2 subgraphs, 4 buffers.
  const buffers = model.tables(4).map((b) => b.bytes(0));
  const codes = model.tables(1).map((c) => {
    // OperatorCode: 0 deprecated_builtin_code (int8), 1 custom_code, 3 builtin_code (int32, newer files).
    const code = Math.max(c.int8(0), c.int32(3));
    return { code, custom: c.string(1) };
  });
  const subgraphs = model.tables(2);
  if (subgraphs.length !== 1) throw new Error(`expected one subgraph, found ${subgraphs.length}`);
  const sg = subgraphs[0]!;
  // SubGraph: 0 tensors, 1 inputs, 2 outputs, 3 operators.
  const tensors = sg.tables(0).map((t, index): TfliteTensor => {
    // Tensor: 0 shape, 1 type, 2 buffer, 3 name.
    const data = buffers[t.uint32(2)] ?? null;
    return { index, shape: t.int32s(0), type: t.int8(1), name: t.string(3) ?? `t${index}`, data: data && data.length > 0 ? data : null };
  });
  const operators = sg.tables(3).map((op): TfliteOperator => {
    // Operator: 0 opcode_index, 1 inputs, 2 outputs, 3 builtin_options_type, 4 builtin_options, 5 custom_options.
    const code = codes[op.uint32(0)]!;
    return {
      builtin: code.code === BuiltinOp.CUSTOM ? -1 : code.code,
      customCode: code.custom,
      inputs: op.int32s(1),
      outputs: op.int32s(2),
      options: op.table(4),
      customOptions: op.bytes(5),
    };
  });
  return { tensors, operators, inputs: sg.int32s(1), outputs: sg.int32s(2) };
}
