// Hostile inputs for the Maskit, PEKAT and InstaVid360 dialects, rebuilt from their names like the Celantur
// cases (cases.ts): corrupt and foreign bodies, bombs, hostile multipart, query and form values, raw frames
// of the wrong length, hostile ids and imagekeys, hostile JSON. Each dialect's error shape has its checker.
import { deflateSync, gzipSync } from 'node:zlib';
import assert from 'node:assert/strict';
import { MASKIT_FIELDS } from '../../src/http/maskit/params.ts';
import { PEKAT_QUERY } from '../../src/http/pekat/params.ts';
import { HOSTILE_VALUES, multipart, pngWithIhdr, rngFor, withSof, zeroPng, scanStart, type Bases, type Expect, type HostileCase } from './cases.ts';

export type DialectName = 'maskit' | 'pekat' | 'instavid';

/** A request to one of the other dialects; `upload` ones must leave no file behind when refused. */
export interface DialectCase {
  name: string;
  group: string;
  kind: 'dialect';
  dialect: DialectName;
  method: 'GET' | 'POST';
  path: string;
  body?: Buffer;
  headers: Record<string, string>;
  upload: boolean;
  expect: Expect;
  todo?: string;
}

/** What a correct server answers for a refused upload, per dialect (Maskit documents only 400 for bad input). */
export const REFUSED: Record<DialectName, number[]> = {
  maskit: [400, 413],
  pekat: [400, 413, 415, 422],
  instavid: [400, 413, 415, 422],
};

const MASKIT_UPLOAD = '/api/v1/masking/process-image';
const INSTAVID_UPLOAD = '/api/v1/image/upload/original';

/** The body as each dialect takes an upload: Maskit and InstaVid multipart field `image`, PEKAT the bytes. */
function uploadCase(dialect: DialectName, name: string, group: string, data: Buffer, status: number[], query = ''): DialectCase {
  if (dialect === 'pekat') {
    return { name, group, kind: 'dialect', dialect, method: 'POST', path: `/analyze_image${query}`, body: data, headers: { 'content-type': 'application/octet-stream' }, upload: true, expect: { status } };
  }
  const m = multipart([{ name: 'image', filename: 'photo.jpg', type: 'image/jpeg', data }]);
  return { name, group, kind: 'dialect', dialect, method: 'POST', path: dialect === 'maskit' ? MASKIT_UPLOAD : INSTAVID_UPLOAD, body: m.body, headers: m.headers, upload: true, expect: { status } };
}

function multipartCase(dialect: DialectName, name: string, parts: Parameters<typeof multipart>[0], status: number[], headers?: Record<string, string>, body?: Buffer): DialectCase {
  const m = multipart(parts);
  const path = dialect === 'maskit' ? MASKIT_UPLOAD : dialect === 'pekat' ? '/analyze_image' : INSTAVID_UPLOAD;
  return { name, group: `${dialect}-multipart`, kind: 'dialect', dialect, method: 'POST', path, body: body ?? m.body, headers: headers ?? m.headers, upload: true, expect: { status } };
}

const request = (dialect: DialectName, name: string, group: string, method: 'GET' | 'POST', path: string, status: number[], body?: Buffer, headers: Record<string, string> = {}): DialectCase => ({
  name,
  group,
  kind: 'dialect',
  dialect,
  method,
  path,
  body,
  headers,
  upload: false,
  expect: { status },
});

function cut(base: Buffer, name: string): Buffer {
  const r = rngFor(name);
  return base.subarray(0, Math.max(1, Math.min(base.length - 1, Math.floor(base.length * r() ** 2))));
}

function flip(base: Buffer, name: string, from: number, to: number): Buffer {
  const r = rngFor(name);
  const b = Buffer.from(base);
  for (let k = 0, n = 1 + Math.floor(r() * 4); k < n; k++) {
    const at = from + Math.floor(r() * Math.max(1, to - from));
    b[at] = b[at]! ^ (1 << Math.floor(r() * 8));
  }
  return b;
}

/** Ids that survive URL normalisation as one path segment (a bare ".." would resolve to another route). */
const PATH_IDS = ['..%2f..%2fetc%2fpasswd', '%00', 'x'.repeat(5000), "'%20OR%201=1%20--", '%E0%A4%A', '00000000-0000-0000-0000-000000000000', 'constructor', '__proto__', '%20', '*', 'a.b', '😀'];
/** Job ids as query values (Maskit). */
const QUERY_IDS = ['..', '../../etc/passwd', '%00', 'x'.repeat(5000), "' OR 1=1 --", '00000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-00000000000g', ' ', 'constructor', '__proto__', '[]', '{}', '😀'];

export function buildDialectCases(bases: Bases): DialectCase[] {
  const { jpeg, png, mp4 } = bases;
  const sos = scanStart(jpeg);
  const out: DialectCase[] = [];
  const foreign: [string, Buffer][] = [
    ['text', Buffer.from('hello, this is text')],
    ['html', Buffer.from('<!doctype html><html><body>hi</body></html>')],
    ['svg-xxe', Buffer.from('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg">&e;</svg>')],
    ['pdf', Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF')],
    ['zip', Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(100)])],
    ['gzip', gzipSync(Buffer.from('x'.repeat(1000)))],
    ['elf', Buffer.concat([Buffer.from('\x7fELF\x02\x01\x01', 'latin1'), Buffer.alloc(200)])],
    ['zeros', Buffer.alloc(4096)],
    ['garbage-mp4', Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom'), Buffer.alloc(4000, 3)])],
    ...(mp4 ? [['real-mp4', mp4] as [string, Buffer]] : []),
  ];
  const bombs: [string, Buffer][] = [
    ['jpeg-sof-16000', withSof(jpeg, 16000, 16000)],
    ['jpeg-sof-65500', withSof(jpeg, 65500, 65500)],
    ['jpeg-sof-0', withSof(jpeg, 0, 0)],
    ['png-16383', zeroPng(16383, 16383)],
    ['png-50000', pngWithIhdr(50000, 50000, 2, deflateSync(Buffer.alloc(50001 * 4)))],
    ['png-2g-by-1', pngWithIhdr(2 ** 31 - 1, 1, 0, deflateSync(Buffer.alloc(100)))],
    ['png-0x0', pngWithIhdr(0, 0, 0, deflateSync(Buffer.alloc(1)))],
    ['png-no-idat', pngWithIhdr(16383, 16383, 0, null)],
  ];

  for (const d of ['maskit', 'pekat', 'instavid'] as const) {
    const refused = REFUSED[d];
    // ---- truncated and bit-flipped bodies ----
    for (let i = 0; i < 8; i++) {
      out.push(uploadCase(d, `${d}-jpeg-cut-${i}`, `${d}-corrupt`, cut(jpeg, `${d}-jpeg-cut-${i}`), refused));
      out.push(uploadCase(d, `${d}-png-cut-${i}`, `${d}-corrupt`, cut(png, `${d}-png-cut-${i}`), refused));
      out.push(uploadCase(d, `${d}-jpeg-flip-header-${i}`, `${d}-corrupt`, flip(jpeg, `${d}-jpeg-flip-header-${i}`, 2, sos), [200, ...refused]));
      out.push(uploadCase(d, `${d}-jpeg-flip-scan-${i}`, `${d}-corrupt`, flip(jpeg, `${d}-jpeg-flip-scan-${i}`, sos, jpeg.length - 2), [200, ...refused]));
      out.push(uploadCase(d, `${d}-png-flip-${i}`, `${d}-corrupt`, flip(png, `${d}-png-flip-${i}`, 8, png.length - 12), [200, ...refused]));
    }
    // ---- foreign formats, bombs, empty ----
    for (const [kind, data] of foreign) out.push(uploadCase(d, `${d}-foreign-${kind}`, `${d}-foreign`, data, refused));
    for (const [kind, data] of bombs) out.push(uploadCase(d, `${d}-bomb-${kind}`, `${d}-bomb`, data, refused));
    out.push(uploadCase(d, `${d}-empty-file`, `${d}-foreign`, Buffer.alloc(0), refused));
    // over the upload limit (8 MB here, InstaVid's own 2 MB): a valid JPEG with 9 MB behind its end
    out.push(uploadCase(d, `${d}-over-limit`, `${d}-bomb`, Buffer.concat([jpeg, Buffer.alloc(9 << 20)]), [413]));

    // ---- hostile multipart ----
    out.push(multipartCase(d, `${d}-mp-ok`, [{ name: 'image', filename: 'a.jpg', type: 'image/jpeg', data: jpeg }], [200]));
    out.push(multipartCase(d, `${d}-mp-no-file`, d === 'instavid' ? [{ name: 'note', data: 'nothing' }] : [{ name: 'faces', data: 'true' }], [400]));
    out.push(multipartCase(d, `${d}-mp-no-parts`, [], [400]));
    out.push(multipartCase(d, `${d}-mp-two-files`, [{ name: 'image', filename: 'a.jpg', data: jpeg }, { name: 'image', filename: 'b.jpg', data: jpeg }], [400]));
    out.push(multipartCase(d, `${d}-mp-two-fields`, [{ name: 'image', filename: 'a.jpg', data: jpeg }, { name: 'file', filename: 'b.png', data: png }], [400]));
    out.push(multipartCase(d, `${d}-mp-wrong-field`, [{ name: 'photo', filename: 'a.jpg', type: 'image/jpeg', data: jpeg }], [400]));
    for (const [i, filename] of ['..', '.', 'a/..', '../'].entries()) out.push(multipartCase(d, `${d}-mp-dot-name-${i}`, [{ name: 'image', filename, data: jpeg }], [400]));
    for (const [i, filename] of ['../../etc/passwd', '..\\..\\windows\\system32', 'a\0b.jpg', '%2e%2e%2fetc.jpg', 'x'.repeat(8000) + '.jpg', ''].entries()) {
      out.push(multipartCase(d, `${d}-mp-filename-${i}`, [{ name: 'image', filename, type: 'image/jpeg', data: jpeg }], [200, 400]));
    }
    const whole = multipart([{ name: 'image', filename: 'a.jpg', data: jpeg }]);
    out.push(multipartCase(d, `${d}-mp-truncated`, [], [400], whole.headers, whole.body.subarray(0, 400)));
    out.push(multipartCase(d, `${d}-mp-no-boundary`, [], d === 'pekat' ? refused : [400], { 'content-type': 'multipart/form-data' }, jpeg));
    out.push(multipartCase(d, `${d}-mp-raw-jpeg-body`, [], d === 'pekat' ? refused : [400], { 'content-type': 'multipart/form-data; boundary=zzz' }, jpeg));
    out.push(multipartCase(d, `${d}-mp-big-field`, [{ name: d === 'maskit' ? 'metadata' : 'note', data: 'x'.repeat(1_100_000) }, { name: 'image', filename: 'a.jpg', data: jpeg }], [400, 413]));
  }

  // ---- Maskit: every form field, hostile job ids ----
  for (const field of Object.keys(MASKIT_FIELDS)) {
    for (const [i, value] of HOSTILE_VALUES.entries()) {
      const name = `maskit-field-${field}-${i}`;
      const spelled = rngFor(name)() < 0.3 ? field.toUpperCase() : field;
      out.push({ ...multipartCase('maskit', name, [{ name: spelled, data: value }, { name: 'image', filename: 'a.jpg', type: 'image/jpeg', data: jpeg }], [200, 400]), group: 'maskit-field' });
    }
    out.push({ ...multipartCase('maskit', `maskit-field-${field}-twice`, [{ name: field, data: '1' }, { name: field, data: '1' }, { name: 'image', filename: 'a.jpg', data: jpeg }], [400]), group: 'maskit-field' });
  }
  for (const [i, field] of ['constructor', '__proto__', 'hasOwnProperty', 'toString', 'x'.repeat(3000), 'faces[]', 'image'].entries()) {
    out.push({ ...multipartCase('maskit', `maskit-field-name-${i}`, [{ name: field, data: 'true' }, { name: 'image', filename: 'a.jpg', data: jpeg }], [400]), group: 'maskit-field' });
  }
  out.push(uploadCase('maskit', 'maskit-not-multipart', 'maskit-field', jpeg, [400]));
  out[out.length - 1]!.headers = { 'content-type': 'image/jpeg' };
  out[out.length - 1]!.body = jpeg;
  for (const route of ['image-status', 'image-download']) {
    for (const [i, id] of QUERY_IDS.entries()) {
      out.push(request('maskit', `maskit-${route}-id-${i}`, 'maskit-id', 'GET', `/api/v1/masking/${route}?jobid=${encodeURIComponent(id)}`, [400, 404]));
    }
    for (const [i, q] of ['', 'jobid=', 'jobid=a&jobid=b', 'JobId=00000000-0000-0000-0000-000000000000&jobid=00000000-0000-0000-0000-000000000000', 'jobid[]=x', 'jobid[a]=1', 'job=1'].entries()) {
      out.push(request('maskit', `maskit-${route}-query-${i}`, 'maskit-id', 'GET', `/api/v1/masking/${route}?${q}`, [400, 404]));
    }
  }
  out.push(request('maskit', 'maskit-unknown-route', 'maskit-id', 'GET', '/api/v1/masking/..%2f..%2fetc', [404]));

  // ---- PEKAT: every query parameter, raw frames ----
  const frame = (w: number, h: number, bytes: number, name: string) => {
    const r = rngFor(name);
    return Buffer.from(Array.from({ length: bytes }, () => Math.floor(r() * 256)));
  };
  for (const param of Object.keys(PEKAT_QUERY)) {
    for (const [i, value] of HOSTILE_VALUES.entries()) {
      const name = `pekat-query-${param}-${i}`;
      const q = `${encodeURIComponent(param)}=${encodeURIComponent(value)}`;
      const raw = param === 'width' || param === 'height' || param === 'bayer';
      if (raw) {
        const dims = { width: '8', height: '6', [param]: value } as Record<string, string>;
        const query = Object.entries(dims).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
        out.push({ ...request('pekat', name, 'pekat-query', 'POST', `/analyze_raw_image?${query}`, [200, 400], frame(8, 6, 8 * 6 * 3, name), { 'content-type': 'application/octet-stream' }), upload: true });
      } else {
        out.push({ ...uploadCase('pekat', name, 'pekat-query', jpeg, [200, 400], `?${q}`) });
      }
    }
    out.push(uploadCase('pekat', `pekat-query-${param}-twice`, 'pekat-query', jpeg, [400], `?${param}=1&${param}=2`));
  }
  for (const [i, name] of ['constructor', '__proto__', 'hasOwnProperty', 'Response_Type', 'x'.repeat(3000), 'response_type[]'].entries()) {
    out.push(uploadCase('pekat', `pekat-query-name-${i}`, 'pekat-query', jpeg, [400], `?${encodeURIComponent(name)}=1`));
  }
  const rawCases: [string, string, number, number[]][] = [
    ['bgr-ok', 'width=8&height=6', 8 * 6 * 3, [200]],
    ['grey-ok', 'width=8&height=6', 8 * 6, [200]],
    ['bayer-ok', 'width=8&height=6&bayer', 8 * 6, [200]],
    ['bgr-short', 'width=8&height=6', 8 * 6 * 3 - 1, [400]],
    ['bgr-long', 'width=8&height=6', 8 * 6 * 3 + 1, [400]],
    ['rgba', 'width=8&height=6', 8 * 6 * 4, [400]],
    ['empty', 'width=8&height=6', 0, [400]],
    ['bayer-bgr-length', 'width=8&height=6&bayer', 8 * 6 * 3, [400]],
    ['bayer-1x1', 'width=1&height=1&bayer', 1, [400]],
    ['huge-dims', 'width=100000&height=100000', 300, [400, 422]],
    ['huge-dims-exact-grey', 'width=100000&height=100000', 1000, [400, 422]],
    ['no-height', 'width=8', 8 * 6 * 3, [400]],
    ['no-dims', '', 100, [400]],
    ['zero', 'width=0&height=6', 0, [400]],
    ['negative', 'width=-8&height=-6', 8 * 6 * 3, [400]],
    ['float', 'width=8.5&height=6', 8 * 6 * 3, [400]],
    ['one-pixel', 'width=1&height=1', 3, [200]],
    ['jpeg-as-raw', 'width=96&height=72', -1, [400]],
  ];
  for (const [kind, query, bytes, status] of rawCases) {
    const name = `pekat-raw-${kind}`;
    const body = bytes < 0 ? jpeg : frame(0, 0, bytes, name);
    out.push({ ...request('pekat', name, 'pekat-raw', 'POST', `/analyze_raw_image${query ? `?${query}` : ''}`, status, body, { 'content-type': 'application/octet-stream' }), upload: true });
  }
  out.push({ ...request('pekat', 'pekat-raw-as-multipart', 'pekat-raw', 'POST', '/analyze_raw_image?width=8&height=6', [200, 400], multipart([{ name: 'image', filename: 'f.raw', data: frame(0, 0, 144, 'pekat-raw-as-multipart') }]).body, multipart([]).headers), upload: true });

  // ---- InstaVid: image types, task ids, imagekeys, JSON task bodies ----
  for (const [i, type] of ['nope', '..%2f..%2fetc', 'x'.repeat(3000), '__proto__', 'constructor', 'ORIGINAL', '%00'].entries()) {
    const m = multipart([{ name: 'image', filename: 'a.jpg', data: jpeg }]);
    out.push({ ...request('instavid', `instavid-upload-type-${i}`, 'instavid-id', 'POST', `/api/v1/image/upload/${type}`, [400, 404, 422], m.body, m.headers), upload: true });
  }
  for (const [i, id] of PATH_IDS.entries()) {
    out.push(request('instavid', `instavid-task-get-${i}`, 'instavid-id', 'GET', `/api/image/task/${id}`, [400, 404]));
    out.push(request('instavid', `instavid-task-post-${i}`, 'instavid-id', 'POST', `/api/image/task/${id}`, [400, 404]));
    out.push(request('instavid', `instavid-image-${i}`, 'instavid-id', 'GET', `/api/image/${id}`, [400, 404]));
  }
  out.push(request('instavid', 'instavid-task-get-lpa', 'instavid-id', 'GET', '/api/image/task/lpa', [400, 404]));
  const json = (name: string, route: 'lpa' | 'bg-replace', body: string | Buffer, status: number[], type = 'application/json') =>
    out.push(request('instavid', name, 'instavid-json', 'POST', `/api/image/task/${route}`, status, Buffer.isBuffer(body) ? body : Buffer.from(body), { 'content-type': type }));
  const BAD_JSON = [400, 413, 415, 422];
  for (const route of ['lpa', 'bg-replace'] as const) {
    const p = `instavid-${route}`;
    const bodies: [string, string | Buffer, number[], string?][] = [
      ['not-json', 'hello', [400]],
      ['cut-json', '{"reference":"a","original":', [400]],
      ['empty', '', [400, 422]],
      ['null', 'null', [400, 422]],
      ['number', '5', [400, 422]],
      ['array', '[]', [400, 422]],
      ['string', '"x"', [400, 422]],
      ['deep-array', '['.repeat(50_000) + ']'.repeat(50_000), [400, 413, 422]],
      ['deep-object', '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000), [400, 413, 422]],
      ['deep-meta', `{"reference":"r","original":"nokey","meta":${'['.repeat(5000)}${']'.repeat(5000)}}`, [400, 422]],
      ['huge', `{"reference":"${'x'.repeat(300_000)}"}`, [413]],
      ['bad-utf8', Buffer.concat([Buffer.from('{"reference":"'), Buffer.from([0xff, 0xfe, 0xc0]), Buffer.from('","original":"k"}')]), [400, 422]],
      ['text-plain', '{"reference":"r","original":"k"}', BAD_JSON, 'text/plain'],
      ['form', 'reference=r&original=k', BAD_JSON, 'application/x-www-form-urlencoded'],
      ['proto', '{"__proto__":{"reference":"r","original":"k"},"constructor":{"prototype":{"x":1}}}', [422]],
      ['ref-number', '{"reference":1,"original":"k"}', [422]],
      ['ref-empty', '{"reference":"","original":"k"}', [422]],
      ['ref-long', `{"reference":"${'x'.repeat(600)}","original":"k"}`, [422]],
      ['original-number', '{"reference":"r","original":5}', [422]],
      ['original-object', '{"reference":"r","original":{"$ne":null}}', [422]],
      ['original-array', '{"reference":"r","original":["a"]}', [422]],
      ['original-null', '{"reference":"r","original":null}', [422]],
      ['callback-number', '{"reference":"r","original":"k","callback_url":5}', [422]],
      ['options-string', '{"reference":"r","original":"k","options":"x"}', [422]],
      ...(route === 'bg-replace'
        ? ([
            ['background-missing', '{"reference":"r","original":"k"}', [422]],
            ['overlay-number', '{"reference":"r","original":"k","background":"k","overlay":1}', [422]],
            ['shadow-maybe', '{"reference":"r","original":"k","background":"k","options":{"shadow":"maybe"}}', [422]],
          ] as [string, string, number[]][])
        : []),
    ];
    for (const [kind, body, status, type] of bodies) json(`${p}-${kind}`, route, body, status, type);
    for (const [i, key] of ['nokey', '', '../../etc/passwd', 'x'.repeat(100), '%00', 'a b', '00000000-0000-0000-0000-000000000000', '😀', 'constructor'].entries()) {
      const extra = route === 'bg-replace' ? `,"background":${JSON.stringify(key)}` : '';
      json(`${p}-imagekey-${i}`, route, `{"reference":"r","original":${JSON.stringify(key)}${extra}}`, [422]);
    }
  }
  return out;
}

/** The messages of an error body in `dialect`'s own shape (asserting that shape), for the leak check. */
export function dialectErrorMessages(c: DialectCase, status: number, body: unknown): string[] {
  const b = body as Record<string, any>;
  const what = `${c.name} (${status})`;
  assert.ok(b && typeof b === 'object' && !Array.isArray(b), `${what}: an object`);
  switch (c.dialect) {
    case 'maskit':
      // RFC 7807 problem with our code beside it
      assert.equal(b.type, 'about:blank', `${what}: problem type`);
      assert.equal(typeof b.title, 'string', `${what}: problem title`);
      assert.equal(b.status, status, `${what}: problem status is the HTTP status`);
      assert.equal(typeof b.detail, 'string', `${what}: problem detail`);
      assert.equal(typeof b.code, 'string', `${what}: code`);
      return [b.title, b.detail, ...(b.field ? [String(b.field)] : [])];
    case 'pekat':
      // a context with error=true, plus code and message
      assert.equal(b.error, true, `${what}: context.error`);
      assert.equal(b.processing, false, `${what}: context.processing`);
      assert.equal(b.result, false, `${what}: context.result`);
      assert.ok(Array.isArray(b.errors) && b.errors.length > 0 && b.errors.every((m: unknown) => typeof m === 'string'), `${what}: context.errors`);
      assert.deepEqual(b.detectedRectangles, [], `${what}: no rectangles`);
      assert.equal(typeof b.code, 'string', `${what}: code`);
      assert.equal(typeof b.message, 'string', `${what}: message`);
      return [...b.errors, b.message];
    case 'instavid':
      assert.equal(b.success, false, `${what}: success`);
      assert.equal(b.code, status, `${what}: envelope code is the status`);
      assert.equal(b.locale, 'en', `${what}: locale`);
      assert.equal(typeof b.message, 'string', `${what}: message`);
      assert.ok(b.data && Array.isArray(b.data.messages) && b.data.messages.every((m: unknown) => typeof m === 'string'), `${what}: data.messages`);
      assert.equal(typeof b.data.error, 'string', `${what}: data.error`);
      return [b.message, ...b.data.messages];
  }
}

/** A 200 answer is that dialect's success. */
export function checkDialectSuccess(c: DialectCase, contentType: string, text: string): void {
  if (c.dialect === 'pekat') {
    if (/application\/json/.test(contentType)) {
      const ctx = JSON.parse(text) as { error?: boolean; processing?: boolean };
      assert.equal(ctx.error, false, `${c.name}: context.error false`);
    } else assert.match(contentType, /image\/png|application\/octet-stream/, c.name);
    return;
  }
  assert.match(contentType, /application\/json/, `${c.name}: JSON`);
  const body = JSON.parse(text) as Record<string, any>;
  if (c.dialect === 'maskit' && c.method === 'POST') assert.match(String(body.jobid), /^[0-9a-f-]{36}$/, `${c.name}: jobid`);
  if (c.dialect === 'instavid') assert.equal(body.success, true, `${c.name}: success`);
}

export type AnyCase = HostileCase | DialectCase;
