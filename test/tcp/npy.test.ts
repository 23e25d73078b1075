import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FRAME_HEADER_BYTES, NpyFormatError, encodeNpy, frameHeader, parseNpy, readFrameLength } from '../../src/tcp/npy.ts';
import { npyFile } from './helpers.ts';

test('the frame header is the length as a 4096-byte big-endian integer, like int.to_bytes(4096, "big")', () => {
  const h = frameHeader(0x0102_0304);
  assert.equal(h.length, FRAME_HEADER_BYTES);
  assert.deepEqual([...h.subarray(4092)], [1, 2, 3, 4]);
  assert.ok(h.subarray(0, 4092).every((b) => b === 0));
  assert.equal(readFrameLength(h), 0x0102_0304);
  const huge = Buffer.alloc(FRAME_HEADER_BYTES);
  huge[100] = 1;
  assert.equal(readFrameLength(huge), null, 'a length beyond 2^48 is not taken');
});

test('encodeNpy writes what np.save writes: v1.0, 64-byte aligned header, C order', () => {
  const data = Buffer.from(Array.from({ length: 2 * 3 * 3 }, (_, i) => i));
  const npy = encodeNpy({ data, width: 3, height: 2 });
  assert.deepEqual(npy, npyFile([2, 3, 3], data), 'byte for byte as NumPy lays it out');
  assert.equal((10 + npy.readUInt16LE(8)) % 64, 0);
  assert.deepEqual(parseNpy(npy), { data, width: 3, height: 2 });
});

test('parseNpy takes versions 2 and 3 and little/any-endian uint8 spellings', () => {
  const data = Buffer.alloc(12, 7);
  const v1 = npyFile([2, 2, 3], data, '<u1');
  const dict = v1.subarray(10, 10 + v1.readUInt16LE(8));
  const v2 = Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]), Buffer.alloc(4), dict, data]);
  v2.writeUInt32LE(dict.length, 8);
  assert.equal(parseNpy(v2).width, 2);
  v2[6] = 3;
  assert.equal(parseNpy(v2).height, 2);
});

/** A v1.0 .npy with this header text, taken literally. */
function rawNpy(dict: string, data = Buffer.alloc(0)): Buffer {
  const head = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
  head.writeUInt16LE(dict.length, 8);
  return Buffer.concat([head, Buffer.from(dict, 'latin1'), data]);
}

test('parseNpy refuses, with a reason, what is not an OpenCV uint8 BGR image', () => {
  const cases: [Buffer, RegExp][] = [
    [Buffer.from('PK\x03\x04 a zip file'), /not a \.npy/],
    [npyFile([2], Buffer.alloc(16), '|O'), /pickle/],
    [npyFile([4, 4, 3], Buffer.alloc(192), '<f4'), /dtype <f4/],
    [npyFile([4, 4, 4], Buffer.alloc(64)), /H×W×3/],
    [npyFile([4, 4], Buffer.alloc(16)), /H×W×3/],
    [npyFile([0, 4, 3], Buffer.alloc(0)), /empty/],
    [npyFile([4, 4, 3], Buffer.alloc(49)), /needs 48 data bytes, the payload has 49/],
    [npyFile([4, 4, 3], Buffer.alloc(40)), /needs 48 data bytes, the payload has 40/],
    [Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 9, 0]), Buffer.alloc(8)]), /version 9/],
    [rawNpy("{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (1,), }"), /structured/],
    [rawNpy("{'descr': '|u1', 'fortran_order': False, 'shape': (__import__('os'), 1, 3), }"), /not a list of sizes/],
    [rawNpy("{'descr': '|u1', 'shape': (1, 1, 3), }", Buffer.alloc(3)), /fortran_order/],
  ];
  for (const [payload, reason] of cases) assert.throws(() => parseNpy(payload), (e: Error) => e instanceof NpyFormatError && reason.test(e.message), String(reason));
});
