// Celantur's NumPy TCP framing and the `.npy` format, read and written here without NumPy.
//
// Frame: a FRAME_HEADER_BYTES-long header holding the payload length as one big-endian unsigned integer
// (Python: `len(payload).to_bytes(4096, "big")`), then the payload, a `.npy` file as `np.save(..., allow_pickle=False)`
// writes it. Only what an OpenCV image is, is taken: uint8, C or Fortran order, shape H×W×3 (BGR).
// Anything else (object dtypes, which would need pickle, other dtypes or shapes) is refused with a reason.

/** Celantur's `BUFSIZE` ("use the same buffer size as the server"). */
export const FRAME_HEADER_BYTES = 4096;

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
/** Longest header dict accepted (NumPy writes ~120 bytes; this only guards against absurd values). */
const MAX_NPY_HEADER = 65_536;

export class NpyFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NpyFormatError';
  }
}

export interface BgrArray {
  /** Packed B,G,R bytes, row-major. */
  data: Buffer;
  width: number;
  height: number;
}

/** Payload length from a frame header; null when it does not fit a safe integer (all but the last 6 bytes must be 0). */
export function readFrameLength(header: Buffer): number | null {
  if (header.length !== FRAME_HEADER_BYTES) throw new RangeError(`a frame header has ${FRAME_HEADER_BYTES} bytes`);
  for (let i = 0; i < FRAME_HEADER_BYTES - 6; i++) if (header[i] !== 0) return null;
  return header.readUIntBE(FRAME_HEADER_BYTES - 6, 6);
}

export function frameHeader(length: number): Buffer {
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  header.writeUIntBE(length, FRAME_HEADER_BYTES - 6, 6);
  return header;
}

/** The values of the header dict's keys, parsed as data (never evaluated). */
function parseHeaderDict(text: string): { descr: string; fortranOrder: boolean; shape: number[] } {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr) {
    if (/['"]descr['"]\s*:\s*\[/.test(text)) throw new NpyFormatError('structured dtypes are not taken; send a uint8 H×W×3 array');
    throw new NpyFormatError('the .npy header has no descr');
  }
  if (!fortran) throw new NpyFormatError('the .npy header has no fortran_order');
  if (!shape) throw new NpyFormatError('the .npy header has no shape');
  const dims = shape[1]!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => (/^\d+L?$/.test(s) ? Number.parseInt(s, 10) : Number.NaN));
  if (dims.some((d) => !Number.isSafeInteger(d))) throw new NpyFormatError(`the .npy shape (${shape[1]}) is not a list of sizes`);
  return { descr: descr[1]!, fortranOrder: fortran[1] === 'True', shape: dims };
}

/** Reads a `.npy` payload as an OpenCV BGR image. */
export function parseNpy(payload: Buffer): BgrArray {
  if (payload.length < 10 || !payload.subarray(0, 6).equals(MAGIC)) throw new NpyFormatError('the payload is not a .npy file (no \\x93NUMPY magic)');
  const major = payload[6]!;
  if (major < 1 || major > 3) throw new NpyFormatError(`.npy format version ${major}.${payload[7]} is not known`);
  const lenBytes = major === 1 ? 2 : 4;
  if (payload.length < 8 + lenBytes) throw new NpyFormatError('the .npy header is cut short');
  const headerLen = major === 1 ? payload.readUInt16LE(8) : payload.readUInt32LE(8);
  const dataStart = 8 + lenBytes + headerLen;
  if (headerLen > MAX_NPY_HEADER) throw new NpyFormatError(`the .npy header claims ${headerLen} bytes`);
  if (payload.length < dataStart) throw new NpyFormatError('the .npy header is cut short');
  const text = payload.subarray(8 + lenBytes, dataStart).toString(major === 3 ? 'utf8' : 'latin1');
  const { descr, fortranOrder, shape } = parseHeaderDict(text);
  if (descr.includes('O')) throw new NpyFormatError('object arrays need pickle, which is refused (allow_pickle=False); send a uint8 array');
  if (!['|u1', '<u1', '>u1', '=u1', 'u1', '|B', 'B'].includes(descr)) {
    throw new NpyFormatError(`dtype ${descr} is not taken; send uint8 (OpenCV's image type)`);
  }
  if (shape.length !== 3 || shape[2] !== 3) throw new NpyFormatError(`shape (${shape.join(', ')}) is not taken; send H×W×3 (BGR)`);
  const [height, width] = shape as [number, number, number];
  if (height < 1 || width < 1) throw new NpyFormatError(`shape (${shape.join(', ')}) is empty`);
  const size = height * width * 3;
  const actual = payload.length - dataStart;
  if (actual !== size) throw new NpyFormatError(`shape (${height}, ${width}, 3) needs ${size} data bytes, the payload has ${actual}`);
  const raw = payload.subarray(dataStart);
  if (!fortranOrder) return { data: Buffer.from(raw), width, height };
  // Fortran order: element (y, x, c) sits at y + height·(x + width·c).
  const data = Buffer.allocUnsafe(size);
  const plane = height * width;
  for (let y = 0, d = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const base = y + height * x;
      data[d++] = raw[base]!;
      data[d++] = raw[base + plane]!;
      data[d++] = raw[base + 2 * plane]!;
    }
  }
  return { data, width, height };
}

/** Writes a BGR image as a version 1.0 `.npy` file (C order), as `np.save` does; np.load reads it without pickle. */
export function encodeNpy(image: BgrArray): Buffer {
  let dict = `{'descr': '|u1', 'fortran_order': False, 'shape': (${image.height}, ${image.width}, 3), }`;
  // Magic, version and length take 10 bytes; NumPy pads the header with spaces so the data starts 64-byte aligned.
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  dict = dict.padEnd(total - 10 - 1, ' ') + '\n';
  const head = Buffer.alloc(10);
  MAGIC.copy(head, 0);
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(dict.length, 8);
  return Buffer.concat([head, Buffer.from(dict, 'latin1'), image.data]);
}
