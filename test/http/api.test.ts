// The REST API end to end: real server, real models, real SQLite, real files.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { startTestServer, waitForTask, type TestServer } from '../helpers/server.ts';
import { FACE_PHOTO } from '../helpers/fixtures.ts';
import { bytes } from '../helpers/body.ts';

let server: TestServer;
let photo: Buffer;

before(async () => {
  server = await startTestServer({ anonymize: ['face', 'license-plate'] });
  photo = await readFile(FACE_PHOTO);
});
after(async () => {
  await server?.stop();
});

const post = (query: string, body: Uint8Array, headers: Record<string, string> = {}) =>
  fetch(`${server.url}/v1/file${query}`, { method: 'POST', body: bytes(body), headers: { 'content-type': 'image/jpeg', ...headers } });

async function rawPixels(buf: Buffer) {
  const { data, info } = await sharp(buf).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Mean absolute difference of two same-size RGB images inside and outside a set of boxes. */
function diffInsideOutside(a: Buffer, b: Buffer, width: number, boxes: number[][]) {
  let inSum = 0, inN = 0, outSum = 0, outN = 0;
  const height = a.length / 3 / width;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const d = Math.abs(a[i]! - b[i]!) + Math.abs(a[i + 1]! - b[i + 1]!) + Math.abs(a[i + 2]! - b[i + 2]!);
      // Outside means clearly away from any box (soft edges reach beyond it).
      const inside = boxes.some(([x0, y0, x1, y1]) => x >= x0! && x < x1! && y >= y0! && y < y1!);
      const near = boxes.some(([x0, y0, x1, y1]) => {
        const m = Math.max(x1! - x0!, y1! - y0!) * 0.6;
        return x >= x0! - m && x < x1! + m && y >= y0! - m && y < y1! + m;
      });
      if (inside) { inSum += d; inN++; } else if (!near) { outSum += d; outN++; }
    }
  }
  return { inside: inSum / Math.max(1, inN), outside: outSum / Math.max(1, outN) };
}

test('a face photo posted synchronously comes back anonymised, with masks and metadata', async () => {
  const res = await post('?method=blacken', photo);
  assert.equal(res.status, 200);
  const task = (await res.json()) as Record<string, any>;
  assert.equal(task.status, 'done');
  assert.ok(task.detections >= 1, 'at least one face found');
  for (const link of ['anonymised', 'binary_mask', 'instance_mask', 'metadata', 'original']) assert.ok(task.links[link], link);

  const metadata = (await (await fetch(task.links.metadata)).json()) as Record<string, any>;
  const faces = metadata.detections.filter((d: any) => d.type_label === 'face');
  assert.ok(faces.length >= 1);
  const boxes = faces.map((d: any) => d.bbox.map(Number));

  const anonymisedRes = await fetch(task.links.anonymised);
  assert.equal(anonymisedRes.status, 200);
  assert.match(anonymisedRes.headers.get('content-type') ?? '', /image\/jpeg/);
  const out = await rawPixels(Buffer.from(await anonymisedRes.arrayBuffer()));
  const orig = await rawPixels(photo);
  assert.equal(out.width, orig.width);
  assert.equal(out.height, orig.height);
  const { inside, outside } = diffInsideOutside(orig.data, out.data, orig.width, boxes);
  assert.ok(inside > 60, `face pixels changed (mean diff ${inside.toFixed(1)})`);
  assert.ok(outside < 12, `background kept up to JPEG noise (mean diff ${outside.toFixed(1)})`);

  const bin = await sharp(Buffer.from(await (await fetch(task.links.binary_mask)).arrayBuffer())).raw().toBuffer({ resolveWithObject: true });
  assert.equal(bin.info.width, orig.width);
  const [x0, y0, x1, y1] = boxes[0];
  const cx = Math.floor((x0 + x1) / 2), cy = Math.floor((y0 + y1) / 2);
  assert.equal(bin.data[(cy * bin.info.width + cx) * bin.info.channels], 255, 'mask is set at the face centre');
  assert.equal(bin.data[0], 0, 'mask is clear in the corner');

  const half = await sharp(Buffer.from(await (await fetch(`${task.links.instance_mask}?mask-scale=50`)).arrayBuffer())).metadata();
  assert.equal(half.width, Math.round(orig.width / 2));

  const original = Buffer.from(await (await fetch(task.links.original)).arrayBuffer());
  assert.ok(original.equals(photo), 'original is returned byte for byte');
});

test('multipart uploads use the fileobject field', async () => {
  const form = new FormData();
  form.append('fileobject', new Blob([bytes(photo)], { type: 'image/jpeg' }), 'group.jpg');
  const res = await fetch(`${server.url}/v1/file?face=true&method=pixelate`, { method: 'POST', body: form });
  assert.equal(res.status, 200);
  const task = (await res.json()) as Record<string, any>;
  assert.equal(task.name, 'group.jpg');
  assert.equal(task.parameters.method, 'pixelate');
  assert.equal(task.parameters.license_plate, false);
});

test('async upload returns 202 at once, then the webhook is called with the auth header', async () => {
  const calls: { headers: IncomingMessage['headers']; body: any }[] = [];
  const hook = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      calls.push({ headers: req.headers, body: JSON.parse(data) });
      // The first call fails so that the retry is exercised.
      res.statusCode = calls.length === 1 ? 503 : 200;
      res.end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/done?x=1&y=2`;
  try {
    const res = await post(`?webhook=${encodeURIComponent(hookUrl)}&web-auth-header-name=X-Secret&web-auth-header-value=s3cr3t`, photo, { 'x-is-async': 'true' });
    assert.equal(res.status, 202);
    const queued = (await res.json()) as Record<string, any>;
    assert.ok(['queued', 'processing'].includes(queued.status));
    assert.equal(queued.webhook_status, 'set');
    const done = await waitForTask(server.url, queued.id);
    assert.equal(done.status, 'done');
    const until = Date.now() + 10_000;
    let task = done;
    while (task.webhook_status === 'set' && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      task = (await (await fetch(`${server.url}/v1/task/${queued.id}`)).json()) as Record<string, any>;
    }
    assert.equal(task.webhook_status, 'sent');
    assert.equal(calls.length, 2, 'one failed attempt, one retry');
    assert.equal(calls[1]!.headers['x-secret'], 's3cr3t');
    assert.equal(calls[1]!.body.id, queued.id);
    assert.equal(calls[1]!.body.status, 'done');
    assert.match(calls[1]!.body.links.anonymised, new RegExp(`/v1/file/${queued.id}/anonymised$`));
  } finally {
    hook.close();
  }
});

test('task list pages, and delete removes record and files', async () => {
  const a = (await (await post('', photo)).json()) as Record<string, any>;
  const list = (await (await fetch(`${server.url}/v1/task/list?page=1&limit=2`)).json()) as Record<string, any>;
  assert.ok(list.total_item_count >= 3);
  assert.equal(list.items.length, 2);
  assert.equal(list.total_page_count, Math.ceil(list.total_item_count / 2));
  assert.equal(list.items[0].id, a.id, 'newest first');

  const inputDir = join(server.config.inputDir, a.id);
  const outputDir = join(server.config.outputDir, a.id);
  assert.ok(existsSync(inputDir) && existsSync(outputDir));
  const del = await fetch(`${server.url}/v1/task/${a.id}`, { method: 'DELETE' });
  assert.equal(del.status, 200);
  assert.ok(!existsSync(inputDir), 'input files gone');
  assert.ok(!existsSync(outputDir), 'output files gone');
  assert.equal((await fetch(`${server.url}/v1/task/${a.id}`)).status, 404);
  assert.equal((await fetch(`${server.url}/v1/file/${a.id}/anonymised`)).status, 404);
});

test('delete with records=false keeps the record as deleted; delete all empties the store', async () => {
  const a = (await (await post('', photo)).json()) as Record<string, any>;
  await fetch(`${server.url}/v1/task/${a.id}?records=false`, { method: 'DELETE' });
  const kept = (await (await fetch(`${server.url}/v1/task/${a.id}`)).json()) as Record<string, any>;
  assert.equal(kept.status, 'deleted');
  assert.ok(kept.delete_time);
  assert.ok(!existsSync(join(server.config.outputDir, a.id)));

  const all = await fetch(`${server.url}/v1/task/list`, { method: 'DELETE' });
  assert.equal(all.status, 200);
  const list = (await (await fetch(`${server.url}/v1/task/list`)).json()) as Record<string, any>;
  assert.equal(list.total_item_count, 0);
  const left = (await readdir(server.config.inputDir)).filter((n) => !n.startsWith('.'));
  assert.deepEqual(left, []);
});

test('status reports version, provider, classes and queue; openapi is served', async () => {
  const res = await fetch(`${server.url}/v1/status`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as Record<string, any>;
  assert.equal(body.status, 'ok');
  assert.equal(body.provider, 'cpu');
  assert.deepEqual(body.classes, ['face', 'license-plate']);
  assert.equal(typeof body.queue.waiting, 'number');
  const doc = (await (await fetch(`${server.url}/v1/openapi.json`)).json()) as Record<string, any>;
  assert.equal(doc.openapi, '3.1.0');
});

test('a synchronous request whose task is deleted meanwhile answers 409 and leaves no files', async () => {
  const large = await sharp(photo).resize(3000).jpeg().toBuffer();
  const pending = post('', large);
  let id: string | undefined;
  const until = Date.now() + 30_000;
  while (!id && Date.now() < until) {
    const list = (await (await fetch(`${server.url}/v1/task/list?status=processing`)).json()) as Record<string, any>;
    id = list.items[0]?.id;
    if (!id) await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(id, 'the task started');
  assert.equal((await fetch(`${server.url}/v1/task/${id}`, { method: 'DELETE' })).status, 200);
  const res = await pending;
  assert.equal(res.status, 409);
  const body = (await res.json()) as { error: { code: string; task_id: string } };
  assert.equal(body.error.code, 'deleted');
  assert.equal(body.error.task_id, id);
  // The pipeline may still be finishing the image; what it writes must be cleaned up once it stops.
  for (let i = 0; i < 300; i++) {
    const status = (await (await fetch(`${server.url}/v1/status`)).json()) as Record<string, any>;
    if (status.queue.running === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(!existsSync(join(server.config.outputDir, id!)), 'no output files left');
  assert.ok(!existsSync(join(server.config.inputDir, id!)), 'no input files left');
});
