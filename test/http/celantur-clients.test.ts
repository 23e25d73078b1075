// Requests built exactly like those of Celantur's published example clients (celantur/celantur-examples,
// see ../shared/findings/celantur-clients.md), against the real server: what those clients rely on.
// Every JSON body is also checked against the zod schemas the OpenAPI document is generated from.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { startTestServer, waitForTask, type TestServer } from '../helpers/server.ts';
import { FACE_PHOTO } from '../helpers/fixtures.ts';
import { bytes } from '../helpers/body.ts';
import * as S from '../../src/http/celantur/schemas.ts';
import { makeFaceClip } from '../video/clips.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';

let server: TestServer;
let photo: Buffer;
let small: Buffer;

before(async () => {
  server = await startTestServer({ anonymize: ['face'], concurrency: 1 });
  photo = await readFile(FACE_PHOTO);
  small = await sharp(photo).resize(240).jpeg().toBuffer();
});
after(async () => {
  await server?.stop();
});

/** server/celantur-api-client.py: the full default parameter set it sends with every upload. */
const SYNC_CLIENT_QUERY = 'debug=False&score=False&save_mask=&watermark=False&method=blur&face=True&license_plate=False&person=False&vehicle=False&format=whole&bbox=False&quality=0&ignores=[]';

/** The multipart body python-requests builds for files={'fileobject': (name, f, 'image/jpg', {'Expires': '0'})}. */
function requestsMultipart(name: string, data: Buffer): { body: Buffer; type: string } {
  const boundary = randomBytes(16).toString('hex');
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="fileobject"; filename="${name}"\r\nContent-Type: image/jpg\r\nExpires: 0\r\n\r\n`;
  return { body: Buffer.concat([Buffer.from(head), data, Buffer.from(`\r\n--${boundary}--\r\n`)]), type: `multipart/form-data; boundary=${boundary}` };
}

/** server/snippets/v1_upload_async.py: raw body, its own Content-Type, header x-is-async: 1. */
const uploadAsync = (data: Buffer, query = '', type = 'image/jpeg') =>
  fetch(`${server.url}/v1/file${query}`, { method: 'POST', body: bytes(data), headers: { 'content-type': type, 'x-is-async': '1' } });

async function json<T>(res: Response, schema: { parse(v: unknown): T }): Promise<T> {
  return schema.parse(await res.json());
}

interface Hook {
  url: string;
  bodies: Record<string, any>[];
  next(predicate: (b: Record<string, any>) => boolean, timeoutMs?: number): Promise<Record<string, any>>;
  close(): Promise<void>;
}

async function webhookReceiver(): Promise<Hook> {
  const bodies: Record<string, any>[] = [];
  const srv: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/hook`;
  return {
    url,
    bodies,
    async next(predicate, timeoutMs = 60_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const found = bodies.find(predicate);
        if (found) return found;
        if (Date.now() > until) throw new Error(`no webhook matched within ${timeoutMs} ms (got ${bodies.length})`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () => new Promise((r) => srv.close(() => r())),
  };
}

test("the sync client's default parameter set with an image/jpg part answers 200 with a done task", async () => {
  const { body, type } = requestsMultipart('face_voc_001.jpg', photo);
  const res = await fetch(`${server.url}/v1/file?${SYNC_CLIENT_QUERY}`, { method: 'POST', body: bytes(body), headers: { 'content-type': type } });
  assert.equal(res.status, 200);
  const task = await json(res, S.Task);
  assert.equal(task.status, 'done');
  assert.equal(task.name, 'face_voc_001.jpg');
  assert.equal(task.parameters.face, true);
  assert.equal(task.parameters.license_plate, false);
  assert.equal(task.parameters.save_mask, 'all', 'empty save_mask is the default');
  assert.equal(task.parameters.quality, 90, 'quality=0 is the default');
  assert.deepEqual(task.warnings, ['quality: 0 means the default, 90']);
  assert.ok((task.detections ?? 0) >= 1);
  const metadata = S.ImageMetadata.parse(await (await fetch(task.links.metadata!)).json());
  assert.equal(metadata.detections.length, task.detections);
  const anonymised = await fetch(task.links.anonymised!);
  assert.equal(anonymised.status, 200);
  assert.match(anonymised.headers.get('content-type') ?? '', /image\/jpeg/);
});

test('x-is-async: 1 answers 202 with the queued task before processing ends; the async flow downloads the result', async () => {
  const started = Date.now();
  const res = await uploadAsync(photo);
  const ms = Date.now() - started;
  assert.equal(res.status, 202);
  const task = await json(res, S.Task);
  assert.ok(['queued', 'processing'].includes(task.status), `answered before the task ended (status ${task.status}, ${ms} ms)`);
  // v1_get_task.py polls until done, failed or deleted; v1_get_anonymized_image.py downloads.
  const done = S.Task.parse(await waitForTask(server.url, task.id));
  assert.equal(done.status, 'done');
  const image = await fetch(`${server.url}/v1/file/${task.id}/anonymised`);
  assert.equal(image.status, 200);
  const meta = await sharp(Buffer.from(await image.arrayBuffer())).metadata();
  assert.equal(meta.width, (await sharp(photo).metadata()).width);
  for (const value of ['true', 'True', 'yes']) {
    const r = await fetch(`${server.url}/v1/file`, { method: 'POST', body: bytes(small), headers: { 'content-type': 'image/jpeg', 'x-is-async': value } });
    assert.equal(r.status, 202, value);
    await waitForTask(server.url, ((await r.json()) as { id: string }).id);
  }
});

test('a truncated JPEG in an async batch is accepted and ends as a failed task with a safe reason; its webhook says so', async () => {
  const hook = await webhookReceiver();
  try {
    const truncated = photo.subarray(0, Math.floor(photo.length / 3));
    const ids: string[] = [];
    for (const data of [small, truncated, small]) {
      const res = await uploadAsync(data, `?webhook=${encodeURIComponent(hook.url)}`);
      assert.equal(res.status, 202);
      ids.push(S.Task.parse(await res.json()).id);
    }
    const [good1, bad, good2] = await Promise.all(ids.map((id) => waitForTask(server.url, id).then((t) => S.Task.parse(t))));
    assert.equal(good1!.status, 'done');
    assert.equal(good2!.status, 'done');
    assert.equal(bad!.status, 'failed');
    assert.equal(bad!.failure_reason?.code, 'undecodable_file');
    assert.equal(bad!.error, bad!.failure_reason?.message);
    assert.ok(!(bad!.error ?? '').includes(server.root), 'no server path');
    assert.doesNotMatch(bad!.error ?? '', /vips|premature|\.jpg/i, 'no decoder output, no stored file name');
    assert.deepEqual(Object.keys(bad!.links), ['task', 'original']);
    const original = await fetch(bad!.links.original!);
    assert.equal(original.status, 200, 'the original of a failed task is still there');

    const failedHook = S.WebhookBody.parse(await hook.next((b) => b.id === bad!.id));
    assert.equal(failedHook.file_status, 'failed');
    assert.equal(failedHook.failure_reason?.code, 'undecodable_file');
    assert.equal(failedHook.anonymized_link, null);
  } finally {
    await hook.close();
  }
});

test('the webhook carries the Celantur v1 names next to the v2 ones, and every link answers', async () => {
  const hook = await webhookReceiver();
  try {
    const res = await uploadAsync(small, `?webhook=${encodeURIComponent(hook.url)}`);
    const id = S.Task.parse(await res.json()).id;
    const body = S.WebhookBody.parse(await hook.next((b) => b.id === id));
    assert.equal(body.file_id, id);
    assert.equal(body.task_id, id);
    assert.equal(body.file_status, 'done');
    assert.equal(body.task_status, 'done');
    assert.equal(body.anonymized_url, body.anonymized_link);
    for (const key of ['original_link', 'anonymized_link', 'binary_mask_link', 'instance_mask_link', 'metadata_link'] as const) {
      const link = body[key];
      assert.ok(link, key);
      assert.equal((await fetch(link)).status, 200, key);
    }
    const task = S.Task.parse(await (await fetch(`${server.url}/v1/task/${id}`)).json());
    assert.equal(task.webhook_status, 'sent');
  } finally {
    await hook.close();
  }
});

test('a task deleted before it finished ends its webhook state with a deleted delivery; a kept record links only to itself', async () => {
  const hook = await webhookReceiver();
  try {
    const q = `?webhook=${encodeURIComponent(hook.url)}`;
    const running = S.Task.parse(await (await uploadAsync(photo, q)).json());
    const queued = S.Task.parse(await (await uploadAsync(photo, q)).json());
    // Wait until the first is being processed (the second waits behind it: concurrency 1).
    const until = Date.now() + 30_000;
    while (S.Task.parse(await (await fetch(`${server.url}/v1/task/${running.id}`)).json()).status !== 'processing') {
      assert.ok(Date.now() < until, 'the first task started');
      await new Promise((r) => setTimeout(r, 20));
    }
    const del1 = await fetch(`${server.url}/v1/task/${running.id}?records=false`, { method: 'DELETE' });
    assert.deepEqual(await json(del1, S.DeletedTask), { id: running.id, status: 'deleted', records_deleted: false, files_deleted: true });
    const del2 = await fetch(`${server.url}/v1/task/${queued.id}`, { method: 'DELETE' });
    assert.equal((await json(del2, S.DeletedTask)).records_deleted, true);

    for (const t of [running, queued]) {
      const body = S.WebhookBody.parse(await hook.next((b) => b.id === t.id));
      assert.equal(body.status, 'deleted');
      assert.equal(body.file_status, 'deleted');
      assert.deepEqual(Object.keys(body.links), ['task']);
      assert.equal(body.original_link, null);
    }
    // The kept record: webhook delivered (not "set" for good), and no link that would 404.
    const untilSent = Date.now() + 10_000;
    let kept = S.Task.parse(await (await fetch(`${server.url}/v1/task/${running.id}`)).json());
    while (kept.webhook_status === 'set' && Date.now() < untilSent) {
      await new Promise((r) => setTimeout(r, 50));
      kept = S.Task.parse(await (await fetch(`${server.url}/v1/task/${running.id}`)).json());
    }
    assert.equal(kept.status, 'deleted');
    assert.equal(kept.webhook_status, 'sent');
    assert.deepEqual(Object.keys(kept.links), ['task']);
    assert.equal((await fetch(kept.links.task)).status, 200);
    assert.equal((await fetch(`${server.url}/v1/file/${running.id}/original`)).status, 404);
    assert.equal(existsSync(join(server.config.inputDir, running.id)), false);
    // The deleted one never sends a second, "done" webhook.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(hook.bodies.filter((b) => b.id === running.id).length, 1);
  } finally {
    await hook.close();
  }
});

test('status, list, errors and deletes have the documented shapes', async () => {
  const status = await json(await fetch(`${server.url}/v1/status`), S.Status);
  assert.deepEqual(status.classes, ['face']);
  const list = await json(await fetch(`${server.url}/v1/task/list?page=1&limit=2`), S.TaskList);
  assert.equal(list.items.length, 2);
  const bad = await fetch(`${server.url}/v1/file?quality=101&colour=red`, { method: 'POST', body: bytes(small), headers: { 'content-type': 'image/jpeg' } });
  assert.equal(bad.status, 400);
  const e = await json(bad, S.Error);
  assert.equal(e.error.details?.length, 2);
  const notEnabled = await json(await fetch(`${server.url}/v1/file?vehicle=true`, { method: 'POST', body: bytes(small), headers: { 'content-type': 'image/jpeg' } }), S.Error);
  assert.deepEqual(notEnabled.error.enabled, ['face']);
  await json(await fetch(`${server.url}/v1/task/nope`), S.Error);
  const lenient = await fetch(`${server.url}/v1/file?mask-scale=&license-plate=`, { method: 'POST', body: bytes(small), headers: { 'content-type': 'image/jpeg' } });
  assert.equal(lenient.status, 200, 'empty values are the defaults');
  const all = await json(await fetch(`${server.url}/v1/task/list?records=false`, { method: 'DELETE' }), S.DeletedAll);
  assert.ok(all.deleted >= 1);
});

test('the async videos batch script: video/mp4 with x-is-async 1 and {face: True, method: blur}, poll, download the MP4', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'anonymiser-celantur-video-'));
  try {
    const path = join(dir, 'clip.mp4');
    await makeFaceClip(path, { audio: false, seconds: 1 });
    const res = await uploadAsync(await readFile(path), '?face=True&method=blur', 'video/mp4');
    assert.equal(res.status, 202);
    const queued = S.Task.parse(await res.json());
    assert.equal(queued.media_type, 'video');
    const done = S.Task.parse(await waitForTask(server.url, queued.id, 120_000));
    assert.equal(done.status, 'done');
    for (const route of ['video/anonymised', 'anonymised']) {
      const video = await fetch(`${server.url}/v1/file/${queued.id}/${route}`);
      assert.equal(video.status, 200, route);
      assert.match(video.headers.get('content-type') ?? '', /^video\/mp4/, `${route} of a video is video/mp4, as documented`);
      const head = Buffer.from(await video.arrayBuffer()).subarray(4, 8).toString('latin1');
      assert.equal(head, 'ftyp');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
