// Writes an ICC profile into an encoded JPEG or PNG as bytes, because sharp can only attach a profile
// by converting the pixels into it, and ours are already in it (decode kept them unconverted).
import { crc32, deflateSync } from 'node:zlib';

const ICC_SIGNATURE = Buffer.from('ICC_PROFILE\0', 'latin1');
/** A JPEG segment holds at most 65535 − 2 (length) − 12 (signature) − 2 (sequence) bytes of profile. */
const ICC_CHUNK = 65519;

/** Inserts APP2 ICC_PROFILE segments after the leading APP0/APP1 segments. */
export function embedIccInJpeg(jpeg: Buffer, icc: Buffer): Buffer {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('not a JPEG');
  let pos = 2;
  while (jpeg[pos] === 0xff && (jpeg[pos + 1] === 0xe0 || jpeg[pos + 1] === 0xe1)) pos += 2 + jpeg.readUInt16BE(pos + 2);
  const count = Math.ceil(icc.length / ICC_CHUNK);
  const segments: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const chunk = icc.subarray(i * ICC_CHUNK, (i + 1) * ICC_CHUNK);
    const header = Buffer.alloc(4);
    header.writeUInt16BE(0xffe2, 0);
    header.writeUInt16BE(2 + ICC_SIGNATURE.length + 2 + chunk.length, 2);
    segments.push(header, ICC_SIGNATURE, Buffer.from([i + 1, count]), chunk);
  }
  return Buffer.concat([jpeg.subarray(0, pos), ...segments, jpeg.subarray(pos)]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** Inserts an iCCP chunk right after IHDR (it must precede PLTE and IDAT). */
export function embedIccInPng(png: Buffer, icc: Buffer): Buffer {
  const ihdrEnd = 8 + 8 + png.readUInt32BE(8) + 4;
  const body = Buffer.concat([Buffer.from('ICC\0\0', 'latin1'), deflateSync(icc)]);
  return Buffer.concat([png.subarray(0, ihdrEnd), pngChunk('iCCP', body), png.subarray(ihdrEnd)]);
}
