// The PEKAT dialect end to end: real server, real models, real HTTP; encoded images and raw camera frames.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import sharp from 'sharp';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { FACE_PHOTO } from '../../helpers/fixtures.ts';
import { bytes } from '../../helpers/body.ts';
import { VERSION } from '../../../src/version.ts';

const KEY = 'pekat-key';
let server: TestServer;
let photo: Buffer;
let orig: { data: Buffer; width: number; height: number };

before(async () => {
  server = await startTestServer({ anonymize: ['face', 'license-plate'], apiKey: KEY });
  photo = await readFile(FACE_PHOTO);
  const { data, info } = await sharp(photo).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  orig = { data, width: info.width, height: info.height };
});
after(async () => {
  await server?.stop();
});

const analyze = (path: string, query: string, body: Uint8Array) =>
  fetch(`${server.url}${path}?api_key=${KEY}${query ? `&${query}` : ''}`, { method: 'POST', body: bytes(body), headers: { 'content-type': 'application/octet-stream' } });

interface Rect {
  id: number;
  x: number;
  y: number;
  width: number;
  height: number;
  rotate: number;
  confidence: number;
  classNames: { id: number; label: string; confidence: number }[];
}
interface Context {
  processing: boolean;
  error: boolean;
  imageShape: { width: number; height: number };
  data: string;
  production_mode: boolean;
  result: boolean;
  processingTime: number;
  completeTime: number;
  detectedRectangles: Rect[];
}

async function pngPixels(buf: Buffer) {
  const meta = await sharp(buf).metadata();
  assert.equal(meta.format, 'png');
  const { data, info } = await sharp(buf).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

function faces(ctx: Context): Rect[] {
  return ctx.detectedRectangles.filter((r) => r.classNames[0]?.label === 'face');
}

function meanDiffIn(a: Buffer, b: Buffer, width: number, r: Rect): number {
  let sum = 0;
  let n = 0;
  for (let y = r.y; y < r.y + r.height; y++) for (let x = r.x; x < r.x + r.width; x++) {
    const i = (y * width + x) * 3;
    sum += Math.abs(a[i]! - b[i]!) + Math.abs(a[i + 1]! - b[i + 1]!) + Math.abs(a[i + 2]! - b[i + 2]!);
    n++;
  }
  return sum / n;
}

/** Task folders left in the input and output folders (the database files do not count). */
async function leftovers(s: TestServer): Promise<string[]> {
  const names = [...(await readdir(s.config.inputDir)), ...(await readdir(s.config.outputDir))];
  return names.filter((n) => !n.startsWith('.') && !n.startsWith('tasks.sqlite'));
}

let jpegContext: Context;

test('/last_image before anything was analysed is a 404 in PEKAT\'s error shape', async () => {
  const res = await fetch(`${server.url}/last_image?api_key=${KEY}`);
  assert.equal(res.status, 404);
  const body = (await res.json()) as { error: boolean; processing: boolean; code: string };
  assert.equal(body.error, true);
  assert.equal(body.code, 'not_found');
});

test('/analyze_image answers the context JSON: faces as detectedRectangles, data echoed, PEKAT fields', async () => {
  const res = await analyze('/analyze_image', 'data=line%203%20%E2%80%93%20cam%20A', photo);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  jpegContext = (await res.json()) as Context;
  assert.equal(jpegContext.processing, true);
  assert.equal(jpegContext.error, false);
  assert.equal(jpegContext.production_mode, true);
  assert.equal(jpegContext.result, true);
  assert.equal(jpegContext.data, 'line 3 – cam A');
  assert.deepEqual(jpegContext.imageShape, { height: 700, width: 1200 });
  assert.ok(jpegContext.processingTime > 0 && jpegContext.completeTime >= jpegContext.processingTime);
  const found = faces(jpegContext);
  assert.ok(found.length >= 2, `faces: ${found.length}`);
  for (const r of found) {
    assert.equal(r.rotate, 0);
    assert.ok(r.width > 10 && r.height > 10 && r.x >= 0 && r.y >= 0 && r.x + r.width <= 1200 && r.y + r.height <= 700);
    assert.ok(r.confidence > 0.3 && r.confidence <= 1);
    assert.deepEqual(r.classNames, [{ id: 1, label: 'face', confidence: r.confidence }]);
  }
  assert.deepEqual(await leftovers(server), [], 'no files left once answered');
});

test('response_type=image: the anonymised PNG, with the context in ContextBase64utf and context headers', async () => {
  const res = await analyze('/analyze_image', 'response_type=image&data=x', photo);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'image/png');
  const fromB64 = JSON.parse(Buffer.from(res.headers.get('contextbase64utf')!, 'base64').toString('utf8')) as Context;
  const fromAscii = JSON.parse(res.headers.get('context')!) as Context;
  assert.deepEqual(fromAscii.detectedRectangles, fromB64.detectedRectangles);
  assert.equal(fromB64.data, 'x');
  const img = await pngPixels(Buffer.from(await res.arrayBuffer()));
  assert.deepEqual([img.width, img.height, img.channels], [1200, 700, 3]);
  for (const r of faces(fromB64)) assert.ok(meanDiffIn(orig.data, img.data, 1200, r) > 10, 'face blurred');
  // Far from every face the picture is the decoded input, unchanged (PNG is lossless).
  const i = (650 * 1200 + 20) * 3;
  assert.deepEqual([...img.data.subarray(i, i + 3)], [...orig.data.subarray(i, i + 3)]);
  const last = await fetch(`${server.url}/last_image?api_key=${KEY}`);
  assert.equal(last.status, 200);
  const lastImg = await pngPixels(Buffer.from(await last.arrayBuffer()));
  assert.ok(lastImg.data.equals(img.data), '/last_image is the last anonymised image');
  assert.ok(!lastImg.data.equals(orig.data), 'never the original');
  assert.deepEqual(await leftovers(server), []);
});

test('response_type=annotated_image draws the boxes; heatmap is the soft mask, dark where nothing was found', async () => {
  const plain = await pngPixels(Buffer.from(await (await analyze('/analyze_image', 'response_type=image', photo)).arrayBuffer()));
  const annotated = await pngPixels(Buffer.from(await (await analyze('/analyze_image', 'response_type=annotated_image', photo)).arrayBuffer()));
  let magenta = 0;
  for (let i = 0; i < annotated.data.length; i += 3) {
    if (annotated.data[i] === 255 && annotated.data[i + 1] === 0 && annotated.data[i + 2] === 255 && plain.data[i + 1] !== 0) magenta++;
  }
  assert.ok(magenta > 200, `box outline pixels: ${magenta}`);

  const res = await analyze('/analyze_image', 'response_type=heatmap', photo);
  assert.equal(res.status, 200);
  const ctx = JSON.parse(res.headers.get('context')!) as Context;
  const heat = await sharp(Buffer.from(await res.arrayBuffer())).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([heat.info.width, heat.info.height, heat.info.channels], [1200, 700, 1]);
  for (const r of faces(ctx)) {
    const c = (r.y + (r.height >> 1)) * 1200 + r.x + (r.width >> 1);
    assert.equal(heat.data[c], 255, 'face centre fully bright');
  }
  assert.equal(heat.data[650 * 1200 + 20], 0, 'background dark');
  const soft = heat.data.filter((v) => v > 0 && v < 255).length;
  assert.ok(soft > 100, `soft edge pixels: ${soft}`);
  assert.deepEqual(await leftovers(server), []);
});

test('context_in_body: PNG bytes then the context JSON, split by ImageLen', async () => {
  const res = await analyze('/analyze_image', 'response_type=image&context_in_body', photo);
  assert.equal(res.status, 200);
  const len = Number(res.headers.get('imagelen'));
  const body = Buffer.from(await res.arrayBuffer());
  assert.ok(len > 1000 && len < body.length);
  const img = await pngPixels(body.subarray(0, len));
  assert.equal(img.width, 1200);
  const ctx = JSON.parse(body.subarray(len).toString('utf8')) as Context;
  assert.equal(faces(ctx).length, faces(jpegContext).length);
});

test('a context over 4 KB leaves the headers out and says so; context_in_body still carries it', async () => {
  const data = 'x'.repeat(5000);
  const res = await analyze('/analyze_image', `response_type=image&data=${data}`, photo);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('contextbase64utf'), null);
  assert.equal(res.headers.get('context'), null);
  assert.match(res.headers.get('x-context-omitted') ?? '', /over the 4096-byte header limit; ask with context_in_body/);
  await res.arrayBuffer();
  const framed = await analyze('/analyze_image', `response_type=image&context_in_body&data=${data}`, photo);
  const len = Number(framed.headers.get('imagelen'));
  const body = Buffer.from(await framed.arrayBuffer());
  assert.equal((JSON.parse(body.subarray(len).toString('utf8')) as Context).data, data);
});

test('/analyze_raw_image: BGR bytes find the same faces as the JPEG; grey frames are taken too', async () => {
  const bgr = Buffer.alloc(orig.data.length);
  for (let i = 0; i < bgr.length; i += 3) [bgr[i], bgr[i + 1], bgr[i + 2]] = [orig.data[i + 2]!, orig.data[i + 1]!, orig.data[i]!];
  const res = await analyze('/analyze_raw_image', 'width=1200&height=700', bgr);
  assert.equal(res.status, 200);
  const ctx = (await res.json()) as Context;
  assert.deepEqual(ctx.imageShape, { height: 700, width: 1200 });
  const a = faces(ctx).map((r) => [r.x, r.y, r.width, r.height]);
  const b = faces(jpegContext).map((r) => [r.x, r.y, r.width, r.height]);
  assert.deepEqual(a, b, 'raw pixels of the decoded JPEG give the same boxes');
  // A channel swap would be noticed by the detectors' colour models; the image response shows it directly.
  const img = await pngPixels(Buffer.from(await (await analyze('/analyze_raw_image', 'width=1200&height=700&response_type=image', bgr)).arrayBuffer()));
  const i = (650 * 1200 + 20) * 3;
  assert.deepEqual([...img.data.subarray(i, i + 3)], [...orig.data.subarray(i, i + 3)], 'BGR read as BGR');

  const grey = await sharp(photo).greyscale().raw().toBuffer();
  assert.equal(grey.length, 1200 * 700);
  const g = await analyze('/analyze_raw_image', 'width=1200&height=700', grey);
  assert.equal(g.status, 200);
  assert.deepEqual(((await g.json()) as Context).imageShape, { height: 700, width: 1200 });
  assert.deepEqual(await leftovers(server), []);
});

test('/analyze_raw_image?bayer: a BayerRG8 mosaic of the photo is demosaiced and its faces found', async () => {
  const mosaic = Buffer.alloc(1200 * 700);
  for (let y = 0; y < 700; y++) for (let x = 0; x < 1200; x++) {
    const ch = y % 2 === 0 ? (x % 2 === 0 ? 0 : 1) : x % 2 === 0 ? 1 : 2;
    mosaic[y * 1200 + x] = orig.data[(y * 1200 + x) * 3 + ch]!;
  }
  const res = await analyze('/analyze_raw_image', 'width=1200&height=700&bayer&response_type=image&context_in_body', mosaic);
  assert.equal(res.status, 200);
  const body = Buffer.from(await res.arrayBuffer());
  const len = Number(res.headers.get('imagelen'));
  const ctx = JSON.parse(body.subarray(len).toString('utf8')) as Context;
  assert.ok(faces(ctx).length >= 2, `faces in the Bayer frame: ${faces(ctx).length}`);
  const img = await pngPixels(body.subarray(0, len));
  const i = (650 * 1200 + 20) * 3;
  const d = [0, 1, 2].map((k) => Math.abs(img.data[i + k]! - orig.data[i + k]!));
  assert.ok(Math.max(...d) < 25, `colours restored (diff ${d.join(',')})`);
});

async function expectPekatError(res: Response, status: number, code: string, pattern?: RegExp) {
  assert.equal(res.status, status);
  const body = (await res.json()) as { error: boolean; processing: boolean; errors: string[]; code: string; message: string };
  assert.equal(body.error, true);
  assert.equal(body.processing, false);
  assert.equal(body.code, code);
  assert.deepEqual(body.errors, [body.message]);
  if (pattern) assert.match(body.message, pattern);
  assert.doesNotMatch(body.message, /\/tmp\/|anonymiser-test/);
  return body;
}

test('errors: wrong length says what was expected, bad parameters and files; nothing left on disk; still serving', async () => {
  await expectPekatError(await analyze('/analyze_raw_image', 'width=1200&height=700', Buffer.alloc(1000)), 400, 'bad_parameter', /2520000 bytes \(BGR, 3 per pixel\) or 840000 bytes \(grey\), got 1000/);
  await expectPekatError(await analyze('/analyze_raw_image', 'width=1200&height=700&bayer', Buffer.alloc(2520000)), 400, 'bad_parameter', /840000 bytes \(one per pixel\), got 2520000/);
  await expectPekatError(await analyze('/analyze_raw_image', 'height=700', Buffer.alloc(100)), 400, 'bad_parameter', /^width: is required/);
  await expectPekatError(await analyze('/analyze_raw_image', 'width=-3&height=700', Buffer.alloc(100)), 400, 'bad_parameter', /^width:/);
  await expectPekatError(await analyze('/analyze_image', 'response_type=thumbnail', photo), 400, 'bad_parameter', /response_type/);
  await expectPekatError(await analyze('/analyze_image', 'colour=red', photo), 400, 'bad_parameter', /unknown parameter/);
  await expectPekatError(await analyze('/analyze_image', '', Buffer.from('plain text, not an image')), 415, 'unsupported_media_type');
  await expectPekatError(await analyze('/analyze_image', '', photo.subarray(0, 3000)), 422, 'undecodable_file');
  await expectPekatError(await analyze('/analyze_image', '', Buffer.alloc(0)), 400, 'bad_parameter', /no image/);
  // Whatever the body is labelled, its bytes decide (curl --data-binary sends form-urlencoded).
  const labelled = await fetch(`${server.url}/analyze_image?api_key=${KEY}`, { method: 'POST', body: bytes(photo), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.equal(labelled.status, 200);
  assert.ok(faces((await labelled.json()) as Context).length >= 2);
  assert.deepEqual(await leftovers(server), []);
  assert.deepEqual(await readdir(`${server.config.inputDir}/.incoming`), [], 'no partial uploads');
  assert.equal((await analyze('/analyze_image', '', photo)).status, 200);
});

test('api_key: 401 without or with a wrong key, in PEKAT\'s shape; /ping and /version need none', async () => {
  const body = await expectPekatError(
    await fetch(`${server.url}/analyze_image`, { method: 'POST', body: bytes(photo), headers: { 'content-type': 'application/octet-stream' } }),
    401,
    'unauthorized',
    /api_key/,
  );
  assert.ok(body);
  await expectPekatError(await fetch(`${server.url}/analyze_image?api_key=nope`, { method: 'POST', body: bytes(photo) }), 401, 'unauthorized');
  await expectPekatError(await fetch(`${server.url}/last_image`), 401, 'unauthorized');
  const ping = await fetch(`${server.url}/ping`);
  assert.equal(ping.status, 200);
  assert.equal(await ping.text(), 'pong');
  assert.equal((await fetch(`${server.url}/Ping/`)).status, 200, 'matched like the route: any case, trailing slash');
  await expectPekatError(await fetch(`${server.url}/Last_Image/`), 401, 'unauthorized');
  const version = await fetch(`${server.url}/version`);
  assert.match(version.headers.get('content-type') ?? '', /text\/plain/);
  assert.equal(await version.text(), VERSION);
});

test('synchronous through the shared queue: 503 with Retry-After when it is full; --keep-pekat-results keeps the files; 413 over --max-upload-mb', async () => {
  const small = await startTestServer({ anonymize: ['face'], queueLimit: 1, keepPekatResults: true, maxUploadMb: 2 });
  try {
    const tooBig = await fetch(`${small.url}/analyze_raw_image?width=1200&height=700`, { method: 'POST', body: bytes(Buffer.alloc(1200 * 700 * 3)) });
    assert.equal(tooBig.status, 413);
    assert.equal(((await tooBig.json()) as { code: string; error: boolean }).code, 'payload_too_large');
    // Two async Celantur tasks fill the queue (one running, one waiting) for as long as a detection takes.
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`${small.url}/v1/file`, { method: 'POST', body: bytes(photo), headers: { 'content-type': 'image/jpeg', 'x-is-async': 'true' } });
      assert.equal(r.status, 202);
    }
    const full = await fetch(`${small.url}/analyze_image`, { method: 'POST', body: bytes(photo), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(full.status, 503);
    assert.ok(Number(full.headers.get('retry-after')) >= 1);
    const b = (await full.json()) as { code: string; error: boolean };
    assert.equal(b.code, 'queue_full');
    assert.equal(b.error, true);
    await small.service.waitFor((await small.service.list(1, 1)).items[0]!.id);
    const ok = await fetch(`${small.url}/analyze_image`, { method: 'POST', body: bytes(photo), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(ok.status, 200);
    const pekatTasks = (await small.service.list(1, 10)).items.filter((t) => t.dialect === 'pekat');
    assert.equal(pekatTasks.length, 1, 'the answered request kept its task');
    const kept = await leftovers(small);
    assert.equal(kept.length, 3 * 2, 'input and output folders of the two Celantur tasks and the kept PEKAT request');
  } finally {
    await small.stop();
  }
});

test('the OpenAPI document is served at /openapi-pekat.json', async () => {
  const res = await fetch(`${server.url}/openapi-pekat.json?api_key=${KEY}`);
  assert.equal(res.status, 200);
  const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
  assert.equal(doc.openapi, '3.1.0');
  assert.ok(doc.paths['/analyze_raw_image']);
});
