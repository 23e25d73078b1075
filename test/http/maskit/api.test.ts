// The Maskit dialect end to end: real server, real models, real SQLite, real HTTP, a real webhook receiver.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { FACE_PHOTO } from '../../helpers/fixtures.ts';
import { bytes } from '../../helpers/body.ts';

const KEY = 'maskit-key';
const SECRET = 'whsec-test';

interface Received {
  body: Buffer;
  headers: IncomingMessage['headers'];
}

let server: TestServer;
let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];
/** Statuses the receiver answers, in turn (then 200). */
const receiverPlan: number[] = [];
let photo: Buffer;

before(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks), headers: req.headers });
      res.statusCode = receiverPlan.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  server = await startTestServer({
    anonymize: ['face', 'license-plate'],
    apiKey: KEY,
    maskitWebhookUrl: receiverUrl,
    maskitWebhookSecret: SECRET,
  });
  photo = await readFile(FACE_PHOTO);
});
after(async () => {
  await server?.stop();
  await new Promise((r) => receiver?.close(r));
});

const auth = { 'x-api-key': KEY };

function form(fields: Record<string, string>, image: Buffer | null = photo, name = 'faces.jpg', field = 'image'): FormData {
  const fd = new FormData();
  if (image) fd.append(field, new Blob([bytes(image)], { type: 'image/jpeg' }), name);
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  return fd;
}

async function processImage(fields: Record<string, string> = {}, image: Buffer | null = photo): Promise<Response> {
  return fetch(`${server.url}/api/v1/masking/process-image`, { method: 'POST', body: form(fields, image), headers: auth });
}

const status = async (id: string) => (await (await fetch(`${server.url}/api/v1/masking/image-status?jobid=${id}`, { headers: auth })).json()) as { jobid: string; status: string };

async function waitForStatus(id: string, wanted: (s: string) => boolean, timeoutMs = 60_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const s = (await status(id)).status;
    if (wanted(s)) return s;
    if (Date.now() > until) throw new Error(`job ${id} still ${s}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function expectProblem(res: Response, statusCode: number, code: string, pattern?: RegExp) {
  assert.equal(res.status, statusCode);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  const body = (await res.json()) as { status: number; title: string; detail: string; code: string; field?: string };
  assert.equal(body.status, statusCode);
  assert.equal(body.code, code);
  assert.ok(body.title.length > 0);
  if (pattern) assert.match(body.detail, pattern);
  assert.doesNotMatch(body.detail, /\/tmp\/|anonymiser-test/, 'no server path in the error');
  return body;
}

async function rgb(buf: Buffer) {
  const { data, info } = await sharp(buf).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Face boxes found by the Celantur API on the same photo, for checking where Maskit's result changed. */
async function faceBoxes(): Promise<number[][]> {
  const res = await fetch(`${server.url}/v1/file?face=true&save-mask=none`, { method: 'POST', body: bytes(photo), headers: { ...auth, 'content-type': 'image/jpeg' } });
  const task = (await res.json()) as { links: { metadata: string } };
  const meta = (await (await fetch(task.links.metadata, { headers: auth })).json()) as { detections: { type_label: string; bbox: number[] }[] };
  return meta.detections.filter((d) => d.type_label === 'face').map((d) => d.bbox);
}

function meanDiff(a: Buffer, b: Buffer, width: number, box: number[]): number {
  const [x0, y0, x1, y1] = box as [number, number, number, number];
  let sum = 0;
  let n = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) {
    const i = (y * width + x) * 3;
    sum += Math.abs(a[i]! - b[i]!) + Math.abs(a[i + 1]! - b[i + 1]!) + Math.abs(a[i + 2]! - b[i + 2]!);
    n++;
  }
  return sum / n;
}

test('process-image → image-status → one image-download of the masked photo; then Succeeded, files gone, second download refused', async () => {
  const res = await processImage({ Method: 'blackfill', SHAPE: 'Rectangle' });
  assert.equal(res.status, 200);
  const { jobid } = (await res.json()) as { jobid: string };
  assert.match(jobid, /^[0-9a-f-]{36}$/);
  assert.ok(['Pending', 'InProgress', 'ReadyToDownload'].includes((await status(jobid)).status));
  await waitForStatus(jobid, (s) => s === 'ReadyToDownload');
  // The job id's name is matched in any case.
  const upper = (await (await fetch(`${server.url}/api/v1/masking/image-status?JobId=${jobid.toUpperCase()}`, { headers: auth })).json()) as { jobid: string; status: string };
  assert.deepEqual(upper, { jobid, status: 'ReadyToDownload' });

  const dl = await fetch(`${server.url}/api/v1/masking/image-download?jobid=${jobid}`, { headers: auth });
  assert.equal(dl.status, 200);
  assert.match(dl.headers.get('content-type') ?? '', /^image\/jpeg/);
  assert.equal(dl.headers.get('content-disposition'), 'attachment; filename="masked_faces.jpg"');
  const masked = await rgb(Buffer.from(await dl.arrayBuffer()));
  const orig = await rgb(photo);
  assert.deepEqual([masked.width, masked.height], [orig.width, orig.height]);
  const boxes = await faceBoxes();
  assert.ok(boxes.length >= 2, `faces found: ${boxes.length}`);
  for (const box of boxes) {
    const [x0, y0, x1, y1] = box as [number, number, number, number];
    const c = ((((y0 + y1) >> 1) * orig.width + ((x0 + x1) >> 1)) * 3);
    assert.ok(masked.data[c]! < 20 && masked.data[c + 1]! < 20 && masked.data[c + 2]! < 20, 'face centre black-filled');
    assert.ok(meanDiff(orig.data, masked.data, orig.width, box) > 60);
  }

  assert.equal((await status(jobid)).status, 'Succeeded');
  assert.ok(!existsSync(join(server.config.outputDir, jobid)), 'result deleted after the download');
  assert.ok(!existsSync(join(server.config.inputDir, jobid)), 'original deleted');
  await expectProblem(await fetch(`${server.url}/api/v1/masking/image-download?jobid=${jobid}`, { headers: auth }), 400, 'not_ready', /image is not ready.*Succeeded/);
});

test('a Maskit Rectangle/BlackFill request and a Celantur bbox=true&method=blacken request give the same pixels', async () => {
  const res = await processImage({ shape: 'Rectangle', method: 'BlackFill' });
  const { jobid } = (await res.json()) as { jobid: string };
  await waitForStatus(jobid, (s) => s === 'ReadyToDownload');
  const maskit = await rgb(Buffer.from(await (await fetch(`${server.url}/api/v1/masking/image-download?jobid=${jobid}`, { headers: auth })).arrayBuffer()));
  const c = await fetch(`${server.url}/v1/file?bbox=true&method=blacken&face=true&license-plate=true`, {
    method: 'POST',
    body: bytes(photo),
    headers: { ...auth, 'content-type': 'image/jpeg' },
  });
  assert.equal(c.status, 200);
  const task = (await c.json()) as { links: { anonymised: string } };
  const celantur = await rgb(Buffer.from(await (await fetch(task.links.anonymised, { headers: auth })).arrayBuffer()));
  assert.ok(maskit.data.equals(celantur.data), 'identical pixels');
  // And the default Mask/Blur request differs from it (the mapping is not a no-op).
  const blur = (await (await processImage({})).json()) as { jobid: string };
  await waitForStatus(blur.jobid, (s) => s === 'ReadyToDownload');
  const blurred = await rgb(Buffer.from(await (await fetch(`${server.url}/api/v1/masking/image-download?jobid=${blur.jobid}`, { headers: auth })).arrayBuffer()));
  assert.ok(!blurred.data.equals(celantur.data));
});

test('blurStrength: 90 changes the faces more than 30, 30 more than 5', async () => {
  const boxes = await faceBoxes();
  const orig = await rgb(photo);
  const diffs: number[] = [];
  for (const strength of ['5', '30', '90']) {
    const { jobid } = (await (await processImage({ blurStrength: strength, shape: 'Rectangle', edgeBlurSize: '0' })).json()) as { jobid: string };
    await waitForStatus(jobid, (s) => s === 'ReadyToDownload');
    const out = await rgb(Buffer.from(await (await fetch(`${server.url}/api/v1/masking/image-download?jobid=${jobid}`, { headers: auth })).arrayBuffer()));
    diffs.push(boxes.reduce((a, b) => a + meanDiff(orig.data, out.data, orig.width, b), 0) / boxes.length);
  }
  assert.ok(diffs[0]! < diffs[1]! && diffs[1]! < diffs[2]!, `mean face change by strength 5/30/90: ${diffs.map((d) => d.toFixed(1)).join(' / ')}`);
});

test('useWebhook: one signed multipart POST with metadata and maskedImage, retried after a 500; then Succeeded and deleted', async () => {
  received.length = 0;
  receiverPlan.push(500);
  const res = await processImage({ useWebhook: 'true', metadata: 'order-42 ü' });
  assert.equal(res.status, 200);
  const { jobid } = (await res.json()) as { jobid: string };
  await waitForStatus(jobid, (s) => s === 'Succeeded' || s === 'Failed', 30_000);
  assert.equal((await status(jobid)).status, 'Succeeded');
  assert.equal(received.length, 2, 'first attempt answered 500, the retry 200');
  const call = received[1]!;
  const expected = createHmac('sha256', SECRET).update(call.body).digest('hex');
  assert.equal(call.headers['x-signature'], expected, 'HMAC-SHA256 of the entire raw body, lowercase hex');
  assert.ok(received[0]!.body.length > 1000);
  const parsed = await new Response(bytes(call.body), { headers: { 'content-type': String(call.headers['content-type']) } }).formData();
  assert.equal(parsed.get('metadata'), 'order-42 ü');
  const file = parsed.get('maskedImage') as File;
  assert.equal(file.type, 'image/jpeg');
  assert.equal(file.name, 'masked_faces.jpg');
  const img = await rgb(Buffer.from(await file.arrayBuffer()));
  const orig = await rgb(photo);
  assert.deepEqual([img.width, img.height], [orig.width, orig.height]);
  const boxes = await faceBoxes();
  assert.ok(meanDiff(orig.data, img.data, orig.width, boxes[0]!) > 10, 'the delivered image is masked');
  // A tampered body would not match the signature.
  const tampered = Buffer.from(call.body);
  tampered[tampered.length - 10] ^= 1;
  assert.notEqual(createHmac('sha256', SECRET).update(tampered).digest('hex'), call.headers['x-signature']);
  for (let i = 0; i < 50 && existsSync(join(server.config.outputDir, jobid)); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(!existsSync(join(server.config.outputDir, jobid)), 'delivered result removed');
  await expectProblem(await fetch(`${server.url}/api/v1/masking/image-download?jobid=${jobid}`, { headers: auth }), 400, 'not_ready');
});

test('errors in Maskit\'s shape: 401, 400 for bad fields and files, 400/404 for job ids; nothing left on disk', async () => {
  await expectProblem(await fetch(`${server.url}/api/v1/masking/image-status?jobid=x`), 401, 'unauthorized', /x-api-key/);
  await expectProblem(await fetch(`${server.url}/api/v1/masking/process-image`, { method: 'POST', body: form({}), headers: { 'x-api-key': 'wrong' } }), 401, 'unauthorized');
  const bad = await expectProblem(await processImage({ shape: 'Circle' }), 400, 'bad_parameter', /Mask, Rectangle/);
  assert.equal(bad.field, 'shape');
  await expectProblem(await processImage({ blurStrength: 'strong' }), 400, 'bad_parameter', /blurStrength/);
  await expectProblem(await processImage({ edgeBlurSize: '2' }), 400, 'bad_parameter', /edgeBlurSize/);
  await expectProblem(await processImage({ extra: '1' }), 400, 'bad_parameter', /unknown field/);
  await expectProblem(await processImage({}, null), 400, 'bad_parameter', /field "image"/);
  await expectProblem(await processImage({}, Buffer.from('this is not an image at all, just text')), 400, 'unsupported_media_type');
  await expectProblem(await processImage({}, Buffer.concat([photo.subarray(0, 2000)])), 400, 'undecodable_file');
  await expectProblem(
    await fetch(`${server.url}/api/v1/masking/process-image`, { method: 'POST', body: bytes(photo), headers: { ...auth, 'content-type': 'image/jpeg' } }),
    400,
    'bad_parameter',
    /multipart\/form-data/,
  );
  await expectProblem(await fetch(`${server.url}/api/v1/masking/image-status`, { headers: auth }), 400, 'bad_parameter', /missing job id/);
  await expectProblem(await fetch(`${server.url}/api/v1/masking/image-status?jobid=123`, { headers: auth }), 400, 'bad_parameter', /invalid job id/);
  await expectProblem(await fetch(`${server.url}/api/v1/masking/image-download?jobid=`, { headers: auth }), 400, 'bad_parameter', /missing job id/);
  const unknown = '00000000-0000-4000-8000-000000000000';
  await expectProblem(await fetch(`${server.url}/api/v1/masking/image-status?jobid=${unknown}`, { headers: auth }), 404, 'not_found');
  await expectProblem(await fetch(`${server.url}/api/v1/masking/image-download?jobid=${unknown}`, { headers: auth }), 404, 'not_found');
  // A Celantur task is not a Maskit job.
  const c = (await (await fetch(`${server.url}/v1/file`, { method: 'POST', body: bytes(photo), headers: { ...auth, 'content-type': 'image/jpeg', 'x-is-async': 'true' } })).json()) as { id: string };
  await expectProblem(await fetch(`${server.url}/api/v1/masking/image-status?jobid=${c.id}`, { headers: auth }), 404, 'not_found');
  const incoming = join(server.config.inputDir, '.incoming');
  assert.deepEqual(existsSync(incoming) ? await readdir(incoming) : [], [], 'no upload left behind');
  // The server still serves.
  assert.equal((await processImage({})).status, 200);
});

test('image-download before the job is ready is a 400 "image is not ready"', async () => {
  // With one worker, the second of two jobs waits behind the first.
  const first = (await (await processImage({})).json()) as { jobid: string };
  const second = (await (await processImage({})).json()) as { jobid: string };
  const s = (await status(second.jobid)).status;
  assert.ok(s === 'Pending' || s === 'InProgress', s);
  await expectProblem(await fetch(`${server.url}/api/v1/masking/image-download?jobid=${second.jobid}`, { headers: auth }), 400, 'not_ready', /image is not ready/);
  await waitForStatus(first.jobid, (x) => x === 'ReadyToDownload');
  await waitForStatus(second.jobid, (x) => x === 'ReadyToDownload');
});

test('useWebhook=true without a configured webhook URL is a 400; an upload over --max-upload-mb a 413', async () => {
  const plain = await startTestServer({ anonymize: ['face'], maxUploadMb: 1 });
  try {
    const res = await fetch(`${plain.url}/api/v1/masking/process-image`, { method: 'POST', body: form({ useWebhook: 'true' }) });
    await expectProblem(res, 400, 'bad_parameter', /--maskit-webhook-url/);
    const big = Buffer.concat([photo, Buffer.alloc(1024 * 1024)]);
    await expectProblem(await fetch(`${plain.url}/api/v1/masking/process-image`, { method: 'POST', body: form({}, big) }), 413, 'payload_too_large');
    const incoming = join(plain.config.inputDir, '.incoming');
    assert.deepEqual(existsSync(incoming) ? await readdir(incoming) : [], []);
  } finally {
    await plain.stop();
  }
});

test('a webhook that fails every try leaves the result downloadable (ReadyToDownload)', async () => {
  const failing = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.statusCode = 500;
      res.end();
    });
  });
  await new Promise<void>((r) => failing.listen(0, '127.0.0.1', () => r()));
  const hook = `http://127.0.0.1:${(failing.address() as AddressInfo).port}/down`;
  const s = await startTestServer({ anonymize: ['face'], maskitWebhookUrl: hook, maskitWebhookSecret: 'x', webhookRetries: 0 });
  try {
    const res = await fetch(`${s.url}/api/v1/masking/process-image`, { method: 'POST', body: form({ useWebhook: 'true' }) });
    const { jobid } = (await res.json()) as { jobid: string };
    for (let i = 0; i < 600; i++) {
      const t = await s.service.get(jobid);
      if (t.webhookStatus === 'failed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal((await s.service.get(jobid)).webhookStatus, 'failed');
    const st = (await (await fetch(`${s.url}/api/v1/masking/image-status?jobid=${jobid}`)).json()) as { status: string };
    assert.equal(st.status, 'ReadyToDownload');
    const dl = await fetch(`${s.url}/api/v1/masking/image-download?jobid=${jobid}`);
    assert.equal(dl.status, 200);
    assert.ok((await dl.arrayBuffer()).byteLength > 1000);
  } finally {
    await s.stop();
    await new Promise((r) => failing.close(r));
  }
});

test('results nobody downloads are deleted after --maskit-result-ttl, also when the server was stopped meanwhile', async () => {
  const root = await mkdtemp(join(tmpdir(), 'anonymiser-maskit-ttl-'));
  try {
    const first = await startTestServer({ anonymize: ['face'], maskitResultTtl: '1h' }, root);
    let jobid: string;
    try {
      const res = await fetch(`${first.url}/api/v1/masking/process-image`, { method: 'POST', body: form({}) });
      jobid = ((await res.json()) as { jobid: string }).jobid;
      for (let i = 0; i < 600; i++) {
        const s = (await (await fetch(`${first.url}/api/v1/masking/image-status?jobid=${jobid}`)).json()) as { status: string };
        if (s.status === 'ReadyToDownload') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(existsSync(join(first.config.outputDir, jobid)));
    } finally {
      await first.stop();
    }
    await new Promise((r) => setTimeout(r, 1500));
    const second = await startTestServer({ anonymize: ['face'], maskitResultTtl: '1s' }, root);
    try {
      const s = (await (await fetch(`${second.url}/api/v1/masking/image-status?jobid=${jobid}`)).json()) as { status: string };
      assert.equal(s.status, 'Failed', 'expired unseen');
      // The sweep at start runs beside the first requests: the status says so at once, the files follow.
      for (let i = 0; i < 40 && existsSync(join(second.config.outputDir, jobid)); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(!existsSync(join(second.config.outputDir, jobid)), 'result deleted by the sweep at start');
      assert.ok(!existsSync(join(second.config.inputDir, jobid)), 'original deleted');
      const dl = await fetch(`${second.url}/api/v1/masking/image-download?jobid=${jobid}`);
      assert.equal(dl.status, 400);
    } finally {
      await second.stop();
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('the OpenAPI document is served at /api/v1/masking/openapi.json', async () => {
  const res = await fetch(`${server.url}/api/v1/masking/openapi.json`, { headers: auth });
  assert.equal(res.status, 200);
  const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
  assert.equal(doc.openapi, '3.1.0');
  assert.ok(doc.paths['/api/v1/masking/process-image']);
});
