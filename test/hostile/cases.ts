// Generated hostile inputs. Every case is rebuilt from its name alone: the name seeds the PRNG, so a failure
// report ("jpeg-flip-header-7") is enough to reproduce the exact bytes. No case needs the network: webhook
// targets are only checked for acceptance (a text body makes the upload stop at 415 before anything runs).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { crc32, deflateSync, gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { FILE_PARAMETERS } from '../../src/http/celantur/params.ts';
import { requireFfmpeg } from '../../src/pipeline/video/ffmpeg.ts';
import { FACE_PHOTO } from '../helpers/fixtures.ts';

/** What a case may answer: the statuses a correct server gives (200 included where the input is valid). */
export interface Expect {
  status: number[];
  /** Error code when the answer is an error (any when absent). */
  code?: string;
}

export type HostileCase =
  | { name: string; group: string; kind: 'upload'; query: string; body: Buffer; headers: Record<string, string>; expect: Expect; todo?: string }
  | { name: string; group: string; kind: 'request'; method: 'GET' | 'DELETE'; path: string; expect: Expect; todo?: string }
  | { name: string; group: string; kind: 'raw'; data: Buffer; expect: Expect; todo?: string; keepOpen?: boolean };

/** mulberry32 seeded by the case name's CRC. */
export function rngFor(name: string): () => number {
  let a = crc32(Buffer.from(name)) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pngChunk = (type: string, data: Buffer) => {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
};
const PNG_SIG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function pngWithIhdr(width: number, height: number, colour: number, idat: Buffer | null): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width >>> 0, 0);
  ihdr.writeUInt32BE(height >>> 0, 4);
  ihdr[8] = 8;
  ihdr[9] = colour;
  return Buffer.concat([PNG_SIG, pngChunk('IHDR', ihdr), ...(idat ? [pngChunk('IDAT', idat)] : []), pngChunk('IEND', Buffer.alloc(0))]);
}

/** A valid grey PNG of width×height whose rows are all zero: tiny on the wire, huge decoded. */
export function zeroPng(width: number, height: number): Buffer {
  // each row: filter byte 0 + width zero bytes; all zero, so it compresses about 1000:1
  return pngWithIhdr(width, height, 0, deflateSync(Buffer.alloc((width + 1) * height), { level: 9 }));
}

export function withSof(jpeg: Buffer, width: number, height: number): Buffer {
  const b = Buffer.from(jpeg);
  for (let i = 2; i < b.length; ) {
    const marker = b[i + 1]!;
    const len = b.readUInt16BE(i + 2);
    if (marker === 0xc0 || marker === 0xc2) {
      b.writeUInt16BE(height, i + 5);
      b.writeUInt16BE(width, i + 7);
      return b;
    }
    i += 2 + len;
  }
  throw new Error('no SOF');
}

/** Offset of the JPEG's scan data (after the SOS header). */
export function scanStart(jpeg: Buffer): number {
  for (let i = 2; i < jpeg.length; ) {
    const marker = jpeg[i + 1]!;
    const len = jpeg.readUInt16BE(i + 2);
    if (marker === 0xda) return i + 2 + len;
    i += 2 + len;
  }
  return jpeg.length;
}

export interface Bases {
  jpeg: Buffer;
  png: Buffer;
  mp4: Buffer | null;
}

export async function makeBases(): Promise<Bases> {
  const photo = await readFile(FACE_PHOTO);
  const jpeg = await sharp(photo).resize(96, 72, { fit: 'fill' }).jpeg({ quality: 80 }).toBuffer();
  const png = await sharp(photo).resize(64, 48, { fit: 'fill' }).png().toBuffer();
  let mp4: Buffer | null = null;
  const dir = await mkdtemp(join(tmpdir(), 'anonymiser-hostile-'));
  try {
    const { ffmpeg } = requireFfmpeg();
    const out = join(dir, 'clip.mp4');
    await promisify(execFile)(ffmpeg, ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10', '-frames:v', '3', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', out]);
    mp4 = await readFile(out);
  } catch {
    mp4 = null; // no ffmpeg here: the MP4 groups are left out
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { jpeg, png, mp4 };
}

const UPLOAD_REFUSED = [400, 413, 415, 422];
const jpegHeaders = { 'content-type': 'image/jpeg' };

function upload(name: string, group: string, body: Buffer, expect: Expect, query = '', headers: Record<string, string> = jpegHeaders): HostileCase {
  return { name, group, kind: 'upload', query, body, headers, expect };
}

function cuts(name: string, group: string, base: Buffer, count: number, ok: (cut: number) => number[], type: string): HostileCase[] {
  const out: HostileCase[] = [];
  for (let i = 0; i < count; i++) {
    const n = `${name}-${i}`;
    const r = rngFor(n);
    // spread over the whole file, denser near the start where headers live
    const cut = Math.max(1, Math.min(base.length - 1, Math.floor(base.length * r() ** 2)));
    out.push(upload(n, group, base.subarray(0, cut), { status: ok(cut) }, '', { 'content-type': type }));
  }
  return out;
}

function flips(name: string, group: string, base: Buffer, count: number, from: number, to: number, type: string, expect: number[]): HostileCase[] {
  const out: HostileCase[] = [];
  for (let i = 0; i < count; i++) {
    const n = `${name}-${i}`;
    const r = rngFor(n);
    const b = Buffer.from(base);
    const flipsHere = 1 + Math.floor(r() * 4);
    for (let k = 0; k < flipsHere; k++) {
      const at = from + Math.floor(r() * Math.max(1, to - from));
      b[at] = b[at]! ^ (1 << Math.floor(r() * 8));
    }
    out.push(upload(n, group, b, { status: expect }, '', { 'content-type': type }));
  }
  return out;
}

export function multipart(parts: { name: string; filename?: string; type?: string; data: Buffer | string }[], boundary = 'hostile-b0undary'): { body: Buffer; headers: Record<string, string> } {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disp = `form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disp}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n`, 'latin1'));
    chunks.push(Buffer.isBuffer(p.data) ? p.data : Buffer.from(p.data));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

const SSRF_REFUSED = [
  'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
  'http://0xA9FEA9FE/',
  'http://2852039166/',
  'http://0251.0376.0251.0376/',
  'http://[::ffff:169.254.169.254]/',
  'http://[::ffff:a9fe:a9fe]/',
  'http://[fd00:ec2::254]/latest/meta-data/',
  'http://metadata.google.internal/computeMetadata/v1/',
  'http://metadata.google.internal./computeMetadata/v1/',
  'http://100.100.100.200/latest/meta-data/',
  'http://0.0.0.0:22/',
  'http://[::]/',
  'https://user:pass@169.254.169.254/',
  'http://[fe80::1]/',
  'file:///etc/passwd',
  'gopher://127.0.0.1:6379/_INFO',
  'ftp://127.0.0.1/',
  'dict://127.0.0.1:11211/',
  'ldap://127.0.0.1/',
  'ws://127.0.0.1/',
  'javascript:alert(1)',
  'data:text/plain,x',
  '/relative/hook',
];
/**
 * Accepted by default (on-prem consumers live there): the text body then stops the upload at 415. An empty
 * value means the default, no webhook, as on a Celantur server.
 */
const SSRF_ALLOWED = ['', 'http://127.0.0.1:6379/', 'http://10.0.0.1/', 'http://192.168.1.1/admin', 'http://[::1]:9/'];

export const HOSTILE_VALUES = ['', ' ', 'NaN', 'Infinity', '-Infinity', '-1', '0', '1e309', '-0', '0x10', '1.5', '101', 'true', 'false', 'null', '[]', '{}', '[{}]', '__proto__', '%00', '\u0000', '\r\nX-Injected: 1', 'x'.repeat(5000), '😀', '../../etc/passwd', '#zzzzzz', '255,255,256'];

export function buildCases(bases: Bases): HostileCase[] {
  const { jpeg, png, mp4 } = bases;
  const cases: HostileCase[] = [];
  const sos = scanStart(jpeg);

  // ---- truncations ----
  cases.push(...cuts('jpeg-cut', 'truncation', jpeg, 40, (c) => (c < 3 ? [400, 415] : [415, 422]), 'image/jpeg'));
  // a PNG missing only (part of) its IEND chunk still holds every pixel
  cases.push(...cuts('png-cut', 'truncation', png, 40, (c) => (c < 8 ? [415] : c >= png.length - 12 ? [200, 422] : [415, 422]), 'image/png'));
  if (mp4) cases.push(...cuts('mp4-cut', 'truncation', mp4, 32, () => [200, 415, 422], 'video/mp4'));

  // ---- bit flips ----
  cases.push(...flips('jpeg-flip-header', 'flip', jpeg, 22, 2, sos, 'image/jpeg', [200, 415, 422]));
  cases.push(...flips('jpeg-flip-scan', 'flip', jpeg, 22, sos, jpeg.length - 2, 'image/jpeg', [200, 422]));
  cases.push(...flips('png-flip', 'flip', png, 40, 8, png.length - 12, 'image/png', [200, 415, 422]));
  if (mp4) cases.push(...flips('mp4-flip', 'flip', mp4, 16, 0, mp4.length, 'video/mp4', [200, 415, 422]));

  // ---- bombs ----
  cases.push(upload('bomb-jpeg-sof-16000', 'bomb', withSof(jpeg, 16000, 16000), { status: [422], code: 'too_many_pixels' }));
  cases.push(upload('bomb-jpeg-sof-4000', 'bomb', withSof(jpeg, 4000, 4000), { status: [422], code: 'undecodable_file' }));
  cases.push(upload('bomb-jpeg-sof-65500', 'bomb', withSof(jpeg, 65500, 65500), { status: [422], code: 'too_many_pixels' }));
  cases.push(upload('bomb-jpeg-sof-0', 'bomb', withSof(jpeg, 0, 0), { status: [422] }));
  cases.push(upload('bomb-png-16383', 'bomb', zeroPng(16383, 16383), { status: [422], code: 'too_many_pixels' }, '', { 'content-type': 'image/png' }));
  cases.push(upload('bomb-png-50000', 'bomb', pngWithIhdr(50000, 50000, 2, deflateSync(Buffer.alloc(50001 * 4))), { status: [422], code: 'too_many_pixels' }, '', { 'content-type': 'image/png' }));
  cases.push(upload('bomb-png-2g-by-1', 'bomb', pngWithIhdr(2 ** 31 - 1, 1, 0, deflateSync(Buffer.alloc(100))), { status: [422] }, '', { 'content-type': 'image/png' }));
  cases.push(upload('bomb-png-0x0', 'bomb', pngWithIhdr(0, 0, 0, deflateSync(Buffer.alloc(1))), { status: [422] }, '', { 'content-type': 'image/png' }));
  cases.push(upload('bomb-png-no-idat', 'bomb', pngWithIhdr(16383, 16383, 0, null), { status: [422] }, '', { 'content-type': 'image/png' }));
  cases.push(
    upload('bomb-png-ztxt-4m', 'bomb', Buffer.concat([png.subarray(0, 33), pngChunk('zTXt', Buffer.concat([Buffer.from('Comment\0\0'), deflateSync(Buffer.alloc(4 << 20, 65))])), png.subarray(33)]), { status: [200, 422] }, '', { 'content-type': 'image/png' }),
  );
  cases.push(upload('bomb-png-many-text', 'bomb', Buffer.concat([png.subarray(0, 33), ...Array.from({ length: 2000 }, (_, i) => pngChunk('tEXt', Buffer.from(`k${i}\0v`))), png.subarray(33)]), { status: [200] }, '', { 'content-type': 'image/png' }));
  cases.push(upload('bomb-jpeg-800-com', 'bomb', Buffer.concat([jpeg.subarray(0, 2), ...Array.from({ length: 800 }, () => Buffer.from([0xff, 0xfe, 0x00, 0x12, ...Buffer.from('hostile comment!')])), jpeg.subarray(2)]), { status: [200] }));

  // ---- foreign formats (415), whatever Content-Type they claim ----
  const foreign: [string, Buffer | Promise<Buffer>][] = [
    ['text', Buffer.from('hello, this is text')],
    ['html', Buffer.from('<!doctype html><html><body>hi</body></html>')],
    ['json', Buffer.from('{"a":1}')],
    ['svg-xxe', Buffer.from('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg">&e;</svg>')],
    ['pdf', Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF')],
    ['zip', Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(100)])],
    ['gzip', gzipSync(Buffer.from('x'.repeat(1000)))],
    ['elf', Buffer.concat([Buffer.from('\x7fELF\x02\x01\x01', 'latin1'), Buffer.alloc(200)])],
    ['bmp', Buffer.concat([Buffer.from('BM', 'latin1'), Buffer.alloc(200)])],
    ['ico', Buffer.concat([Buffer.from([0, 0, 1, 0, 1, 0]), Buffer.alloc(100)])],
    ['heic', Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypheic'), Buffer.alloc(100)])],
    ['avif', Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypavif'), Buffer.alloc(100)])],
    ['jxl', Buffer.concat([Buffer.from([0xff, 0x0a]), Buffer.alloc(100)])],
    ['psd', Buffer.concat([Buffer.from('8BPS', 'latin1'), Buffer.alloc(100)])],
    ['zeros', Buffer.alloc(4096)],
  ];
  for (const [kind, data] of foreign) {
    for (const type of ['image/jpeg', 'application/octet-stream']) {
      cases.push(upload(`foreign-${kind}-${type.split('/')[1]}`, 'foreign', data as Buffer, { status: [415], code: 'unsupported_media_type' }, '', { 'content-type': type }));
    }
  }
  // garbage behind a video magic number: 422 from the probe, no tool output in the message
  for (const [kind, data] of [
    ['mp4', Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom'), Buffer.alloc(4000, 3)])],
    ['mov', Buffer.concat([Buffer.from([0, 0, 0, 0x14]), Buffer.from('ftypqt  '), Buffer.alloc(400, 9)])],
    ['mkv', Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3]), Buffer.alloc(400, 0xec)])],
    ['webm', Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3]), Buffer.from('webm'), Buffer.alloc(400, 0xec)])],
    ['avi', Buffer.concat([Buffer.from('RIFF\x10\0\0\0AVI LIST', 'latin1'), Buffer.alloc(300)])],
  ] as [string, Buffer][]) {
    cases.push(upload(`garbage-${kind}`, 'foreign', data, { status: [422], code: 'undecodable_file' }, '', { 'content-type': 'video/mp4' }));
  }
  // decided from the Content-Type before the bytes are read (README: "415")
  cases.push(upload('content-type-text-plain', 'foreign', jpeg, { status: [415] }, '', { 'content-type': 'text/plain' }));
  cases.push(upload('content-type-json', 'foreign', jpeg, { status: [415] }, '', { 'content-type': 'application/json' }));

  // ---- multipart and file names ----
  const mp = (name: string, parts: Parameters<typeof multipart>[0], expect: Expect, boundary?: string) => {
    const m = multipart(parts, boundary);
    cases.push(upload(name, 'multipart', m.body, expect, '', m.headers));
  };
  mp('mp-ok', [{ name: 'fileobject', filename: 'a.jpg', type: 'image/jpeg', data: jpeg }], { status: [200] });
  mp('mp-wrong-field', [{ name: 'photo', filename: 'a.jpg', type: 'image/jpeg', data: jpeg }], { status: [400] });
  mp('mp-two-files', [{ name: 'fileobject', filename: 'a.jpg', data: jpeg }, { name: 'file', filename: 'b.jpg', data: jpeg }], { status: [400] });
  mp('mp-no-file', [{ name: 'note', data: 'nothing' }], { status: [400] });
  mp('mp-no-parts', [], { status: [400] });
  mp('mp-21-fields', Array.from({ length: 21 }, (_, i) => ({ name: `f${i}`, data: 'x' })), { status: [400] });
  mp('mp-big-field', [{ name: 'note', data: 'x'.repeat(1_100_000) }, { name: 'fileobject', filename: 'a.jpg', data: jpeg }], { status: [400] });
  for (const [i, filename] of ['../../etc/passwd', '..\\..\\windows\\system32', 'a\0b.jpg', 'a\r\nX-Evil: 1.jpg', 'x'.repeat(8000) + '.jpg', '.hidden.jpg', '😀.jpg', '%2e%2e%2fetc.jpg', ''].entries()) {
    mp(`mp-filename-${i}`, [{ name: 'fileobject', filename, type: 'image/jpeg', data: jpeg }], { status: [200, 400] });
  }
  for (const [i, filename] of ['..', '.', 'a/..'].entries()) mp(`mp-dot-name-${i}`, [{ name: 'fileobject', filename, data: jpeg }], { status: [400] });
  cases.push(upload('mp-truncated', 'multipart', multipart([{ name: 'fileobject', filename: 'a.jpg', data: jpeg }]).body.subarray(0, 400), { status: [400] }, '', multipart([]).headers));
  cases.push(upload('mp-no-boundary', 'multipart', jpeg, { status: [400] }, '', { 'content-type': 'multipart/form-data' }));
  cases.push(upload('mp-raw-jpeg-body', 'multipart', jpeg, { status: [400] }, '', { 'content-type': 'multipart/form-data; boundary=zzz' }));
  cases.push(upload('mp-mixed', 'multipart', multipart([{ name: 'fileobject', filename: 'a.jpg', data: jpeg }]).body, { status: [400, 415] }, '', { 'content-type': 'multipart/mixed; boundary=hostile-b0undary' }));
  for (const [i, name] of ['../../x.jpg', 'a\0b', 'x'.repeat(10000), '..'].entries()) {
    cases.push(upload(`header-filename-${i}`, 'multipart', jpeg, { status: [200, 400] }, '', { 'content-type': 'image/jpeg', 'x-file-name': encodeURIComponent(name) }));
  }
  cases.push(upload('empty-body', 'multipart', Buffer.alloc(0), { status: [400] }));

  // ---- hostile ids ----
  const ids = ['..', '%2e%2e', '..%2f..%2fetc%2fpasswd', '%00', 'x'.repeat(10000), "'%20OR%201=1%20--", '%E0%A4%A', '00000000-0000-0000-0000-000000000000', 'list', '%20', '*', 'constructor', '__proto__'];
  for (const [i, id] of ids.entries()) {
    for (const path of [`/v1/file/${id}/anonymised`, `/v1/file/${id}/binary-mask?mask-scale=50`, `/v1/file/${id}/video/metadata`, `/v1/task/${id}`]) {
      cases.push({ name: `id-${i}-get-${path.split('/')[4] ?? 'task'}`, group: 'id', kind: 'request', method: 'GET', path, expect: { status: id === 'list' && path.startsWith('/v1/task') ? [200] : [400, 404] } });
    }
    if (id !== 'list') cases.push({ name: `id-${i}-delete`, group: 'id', kind: 'request', method: 'DELETE', path: `/v1/task/${id}`, expect: { status: [400, 404] } });
  }

  // ---- hostile query values for every parameter ----
  for (const param of FILE_PARAMETERS.map((s) => s.name)) {
    for (const [i, value] of HOSTILE_VALUES.entries()) {
      const name = `query-${param}-${i}`;
      const r = rngFor(name);
      const spelled = r() < 0.3 ? param.toUpperCase().replace(/-/g, '_') : param;
      let q = `?${encodeURIComponent(spelled)}=${encodeURIComponent(value)}`;
      if (param.startsWith('web-auth')) q += `&webhook=${encodeURIComponent('http://127.0.0.1:9/hook')}&${param === 'web-auth-header-name' ? 'web-auth-header-value=x' : 'web-auth-header-name=x-token'}`;
      cases.push(upload(name, 'query', jpeg, { status: [200, 400] }, q));
    }
    cases.push(upload(`query-${param}-twice`, 'query', jpeg, { status: [400] }, `?${param}=1&${param}=2`));
  }
  for (const [i, name] of ['constructor', 'Constructor', '__proto__', 'hasOwnProperty', 'toString', 'valueOf', 'x'.repeat(3000)].entries()) {
    cases.push(upload(`query-name-${i}`, 'query', jpeg, { status: [400] }, `?${encodeURIComponent(name)}=1`));
  }
  cases.push(upload('query-ignores-deep', 'query', jpeg, { status: [400, 431] }, `?ignores=${encodeURIComponent('['.repeat(3000) + ']'.repeat(3000))}`));
  cases.push(upload('query-ignores-huge-numbers', 'query', jpeg, { status: [200] }, `?ignores=${encodeURIComponent(JSON.stringify([{ topLeftX: 1e308, topLeftY: -1e308, width: 1e308, height: 1e308 }]))}`));
  for (const [i, q] of ['mask-scale=0', 'mask-scale=abc', 'mask-scale=1e309', 'start=-1', 'end=x', 'start=5&end=2'].entries()) {
    cases.push({ name: `query-download-${i}`, group: 'query', kind: 'request', method: 'GET', path: `/v1/file/00000000-0000-0000-0000-000000000000/binary-mask?${q}`, expect: { status: [400, 404] } });
  }
  for (const [i, q] of ['page=0', 'page=-1', 'limit=100000', 'limit=abc', 'status=nope', 'page=1e3', 'limit=1&limit=2'].entries()) {
    // page=1e3 is page 1000: a valid, empty page
    cases.push({ name: `query-list-${i}`, group: 'query', kind: 'request', method: 'GET', path: `/v1/task/list?${q}`, expect: { status: q === 'page=1e3' ? [200] : [400] } });
  }
  for (const [i, q] of ['records=maybe', 'files=2', 'records=false&files=false'].entries()) {
    cases.push({ name: `query-delete-${i}`, group: 'query', kind: 'request', method: 'DELETE', path: `/v1/task/00000000-0000-0000-0000-000000000000?${q}`, expect: { status: [400, 404] } });
  }

  // ---- webhook targets ----
  for (const [i, target] of SSRF_REFUSED.entries()) {
    cases.push(upload(`ssrf-refused-${i}`, 'ssrf', Buffer.from('not an image'), { status: [400] }, `?webhook=${encodeURIComponent(target)}`, { 'content-type': 'text/plain' }));
  }
  for (const [i, target] of SSRF_ALLOWED.entries()) {
    cases.push(upload(`ssrf-allowed-${i}`, 'ssrf', Buffer.from('not an image'), { status: [415] }, `?webhook=${encodeURIComponent(target)}`, { 'content-type': 'text/plain' }));
  }
  for (const [i, header] of ['content-length', 'transfer-encoding', 'host', 'connection', 'expect', 'upgrade', 'te', 'trailer', 'keep-alive', 'proxy-authorization'].entries()) {
    cases.push(upload(`ssrf-header-${i}`, 'ssrf', Buffer.from('x'), { status: [400], code: 'bad_parameter' }, `?webhook=${encodeURIComponent('http://127.0.0.1:9/h')}&web-auth-header-name=${header}&web-auth-header-value=0`, { 'content-type': 'text/plain' }));
  }

  // ---- wire-level garbage over raw sockets ----
  const raw = (name: string, data: string | Buffer, status: number[]) =>
    cases.push({ name, group: 'wire', kind: 'raw', data: Buffer.isBuffer(data) ? data : Buffer.from(data, 'latin1'), expect: { status } });
  raw('wire-long-request-line', `GET /v1/status?x${'y'.repeat(20000)}=1 HTTP/1.1\r\nHost: a\r\n\r\n`, [431]);
  raw('wire-many-headers', `GET /v1/status HTTP/1.1\r\nHost: a\r\n${Array.from({ length: 3000 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`, [431]);
  raw('wire-bad-chunk', 'POST /v1/file HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Type: image/jpeg\r\n\r\nzz\r\nabc\r\n0\r\n\r\n', [400]);
  raw('wire-cl-and-te', 'POST /v1/file HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', [400]);
  raw('wire-negative-cl', 'POST /v1/file HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n', [400]);
  raw('wire-two-cl', 'POST /v1/file HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!', [400]);
  raw('wire-nul-header', 'GET /v1/status HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n', [400]);
  raw('wire-garbage', Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7919) & 255)), [400]);
  // HTTP/0.9 has no way to say the request ended but the connection: a client that half-closes gets the
  // socket ended by Node before any answer (whatever the server would say), so this one keeps it open.
  cases.push({ name: 'wire-http09', group: 'wire', kind: 'raw', data: Buffer.from('GET /\r\n\r\n', 'latin1'), expect: { status: [400, 404] }, keepOpen: true });
  raw('wire-bad-version', 'GET /v1/status HTTP/9.9\r\nHost: a\r\n\r\n', [400, 505]);
  raw('wire-lf-only', 'GET /v1/status HTTP/1.1\nHost: a\n\n', [200, 400]);
  raw('wire-short-body-fin', `POST /v1/file HTTP/1.1\r\nHost: a\r\nContent-Type: image/jpeg\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(100)}`, [0, 400]);
  raw('wire-expect-big', 'POST /v1/file HTTP/1.1\r\nHost: a\r\nContent-Type: image/jpeg\r\nExpect: 100-continue\r\nContent-Length: 99999999999\r\n\r\n', [400, 413]);
  raw('wire-http10-no-host', 'GET /v1/status HTTP/1.0\r\n\r\n', [200]);
  raw('wire-bad-method', 'BREW /v1/status HTTP/1.1\r\nHost: a\r\n\r\n', [400, 404]);
  raw('wire-bad-escape', 'GET /v1/task/%E0%A4%A HTTP/1.1\r\nHost: a\r\n\r\n', [400, 404]);
  return cases;
}

/** Every n-th case of each group (always the first): the fast subset that `npm test` runs. */
export function fastSubset<C extends { group: string }>(cases: C[], perGroup: Record<string, number>): C[] {
  const groups = new Map<string, C[]>();
  for (const c of cases) groups.set(c.group, [...(groups.get(c.group) ?? []), c]);
  const out: C[] = [];
  for (const [group, list] of groups) {
    const want = perGroup[group] ?? 4;
    const step = Math.max(1, Math.floor(list.length / want));
    for (let i = 0; i < list.length && out.filter((c) => c.group === group).length < want; i += step) out.push(list[i]!);
  }
  return out;
}
