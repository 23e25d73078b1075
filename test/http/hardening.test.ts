// Issue 11: each defect the hostile-input run found, as a user sees it over real HTTP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { startTestServer, waitForTask, type TestServer } from '../helpers/server.ts';
import { FACE_PHOTO } from '../helpers/fixtures.ts';
import { bytes } from '../helpers/body.ts';
import { rawRequest } from '../helpers/raw.ts';
import { withSof } from '../hostile/cases.ts';

let server: TestServer;
let photo: Buffer;
let small: Buffer;

before(async () => {
  server = await startTestServer({ anonymize: ['face'], queueLimit: 3, concurrency: 1, maxPixels: 1_000_000 });
  photo = await readFile(FACE_PHOTO);
  small = await sharp(photo).resize(96, 72, { fit: 'fill' }).jpeg({ quality: 80 }).toBuffer();
});
after(async () => {
  await server?.stop();
});

type ErrorBody = { error: { code: string; message: string; [k: string]: unknown } };

async function expectError(res: Response, status: number, code: string): Promise<ErrorBody> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  const body = JSON.parse(text) as ErrorBody;
  assert.equal(body.error.code, code, text);
  assertNoServerDetail(body.error.message);
  return body;
}

function assertNoServerDetail(message: string) {
  assert.ok(!message.includes(server.root), `no server path in "${message}"`);
  assert.ok(!/\/(tmp|home|usr|work|node_modules)\//.test(message), `no absolute path in "${message}"`);
  assert.ok(!/ffprobe|ffmpeg|exited with|ENOENT|Invalid data found/i.test(message), `no tool output in "${message}"`);
}

const post = (query: string, body: Uint8Array, headers: Record<string, string> = {}) =>
  fetch(`${server.url}/v1/file${query}`, { method: 'POST', body: bytes(body), headers: { 'content-type': 'image/jpeg', ...headers } });

async function incomingFiles(): Promise<string[]> {
  const dir = join(server.config.inputDir, '.incoming');
  return existsSync(dir) ? readdir(dir) : [];
}


test('D2: a JPEG whose SOF promises far more pixels than its data holds is refused, not decoded as grey', async () => {
  const bomb = withSof(small, 16000, 16000);
  const r1 = await expectError(await post('', bomb), 422, 'too_many_pixels');
  assert.equal(r1.error.width, 16000);
  // under the pixel limit, the missing data is what refuses it
  await expectError(await post('', withSof(small, 1000, 1000)), 422, 'undecodable_file');
  assert.deepEqual(await incomingFiles(), []);
});

test('D2: a legitimate JPEG with a harmless libjpeg warning (extraneous bytes before a marker) is still processed', async () => {
  const at = 4 + small.readUInt16BE(4); // after SOI + APP0
  const odd = Buffer.concat([small.subarray(0, at), Buffer.from([0x00, 0x11, 0x22]), small.subarray(at)]);
  const res = await post('', odd);
  assert.equal(res.status, 200, await res.clone().text());
  const body = (await res.json()) as { id: string };
  const out = await fetch(`${server.url}/v1/file/${body.id}/anonymised`);
  assert.equal(out.status, 200);
  assert.equal((await sharp(Buffer.from(await out.arrayBuffer())).metadata()).width, 96);
});

test('D3: --max-pixels refuses a larger image with too_many_pixels', async () => {
  const big = await sharp(photo).resize(1400, 800, { fit: 'fill' }).jpeg().toBuffer(); // 1.12 Mpx > 1 Mpx
  const body = await expectError(await post('', big), 422, 'too_many_pixels');
  assert.equal(body.error.max_pixels, 1_000_000);
  assert.equal((await post('', photo)).status, 200, '1200×700 = 0.84 Mpx fits');
});

test('D3: --task-timeout stops a task that runs too long; it fails with task_timeout and the server goes on', async () => {
  const slow = await startTestServer({ anonymize: ['face'], taskTimeout: 0.05 });
  try {
    const large = await sharp(photo).resize(1200 * 2).jpeg().toBuffer();
    const res = await fetch(`${slow.url}/v1/file`, { method: 'POST', body: bytes(large), headers: { 'content-type': 'image/jpeg' } });
    const body = (await res.json()) as ErrorBody;
    assert.equal(res.status, 422, JSON.stringify(body));
    assert.equal(body.error.code, 'task_timeout');
    const task = await waitForTask(slow.url, String(body.error.task_id));
    assert.equal(task.status, 'failed');
    assert.match(JSON.stringify(task.error), /task-timeout|longer than/);
    assert.equal((await fetch(`${slow.url}/v1/status`)).status, 200);
    assert.ok(!existsSync(join(slow.config.outputDir, String(body.error.task_id), 'faces.jpg')), 'no output kept for a timed-out task');
  } finally {
    await slow.stop();
  }
});

test('D4: 40 concurrent uploads never push the queue past --queue-limit; the rest get 503 with Retry-After', async () => {
  const limit = 3;
  const s = await startTestServer({ anonymize: ['face'], queueLimit: limit, concurrency: 1 });
  try {
    // one large task keeps the single worker busy, so what is accepted meanwhile waits
    const large = await sharp(photo).resize(3000).jpeg().toBuffer();
    const first = await fetch(`${s.url}/v1/file`, { method: 'POST', body: bytes(large), headers: { 'content-type': 'image/jpeg', 'x-is-async': 'true' } });
    assert.equal(first.status, 202);
    let maxWaiting = 0;
    let sampling = true;
    const sample = () => {
      maxWaiting = Math.max(maxWaiting, s.service.queueStats.waiting);
      if (sampling) setImmediate(sample);
    };
    sample();
    const results = await Promise.all(
      Array.from({ length: 40 }, () =>
        fetch(`${s.url}/v1/file`, { method: 'POST', body: bytes(small), headers: { 'content-type': 'image/jpeg', 'x-is-async': 'true' } }),
      ),
    );
    sampling = false;
    const statuses = results.map((r) => r.status);
    const accepted = statuses.filter((x) => x === 202).length;
    const st = (await (await fetch(`${s.url}/v1/status`)).json()) as { tasks: Record<string, number> };
    const finishedMeanwhile = st.tasks.done! + st.tasks.failed!;
    assert.ok(statuses.every((x) => x === 202 || x === 503), statuses.join(','));
    assert.ok(maxWaiting <= limit, `waiting reached ${maxWaiting} > ${limit}`);
    assert.ok(accepted <= limit + finishedMeanwhile, `${accepted} accepted with limit ${limit} (${finishedMeanwhile} finished meanwhile)`);
    for (const r of results.filter((x) => x.status === 503)) {
      assert.ok(Number(r.headers.get('retry-after')) >= 1);
      assert.equal(((await r.json()) as ErrorBody).error.code, 'queue_full');
    }
  } finally {
    await s.stop();
  }
});

test('D5: downloads of a task whose files were removed from disk answer 404 file_missing, never 500, no path', async () => {
  const res = await post('?save-mask=all', photo);
  assert.equal(res.status, 200);
  const { id } = (await res.json()) as { id: string };
  await rm(join(server.config.outputDir, id), { recursive: true, force: true });
  await rm(join(server.config.inputDir, id), { recursive: true, force: true });
  for (const path of ['anonymised', 'binary-mask', 'instance-mask', 'binary-mask?mask-scale=50', 'instance-mask?mask-scale=50', 'metadata', 'original']) {
    await expectError(await fetch(`${server.url}/v1/file/${id}/${path}`), 404, 'file_missing');
  }
});

test('D5: a download racing a DELETE answers 200 or 404, never 500', async () => {
  const res = await post('?save-mask=all', photo);
  const { id } = (await res.json()) as { id: string };
  const downloads = ['anonymised', 'binary-mask?mask-scale=30', 'instance-mask', 'metadata', 'original'].map((p) => fetch(`${server.url}/v1/file/${id}/${p}`));
  const del = fetch(`${server.url}/v1/task/${id}`, { method: 'DELETE' });
  for (const r of await Promise.all(downloads)) {
    assert.ok([200, 404].includes(r.status), `status ${r.status}`);
    if (r.status === 404) assertNoServerDetail(((await r.json()) as ErrorBody).error.message);
    else await r.arrayBuffer();
  }
  assert.equal((await del).status, 200);
});

test('D6: an unreadable video gets a 422 without ffprobe output or server paths', async () => {
  const mp4 = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom'), Buffer.alloc(4000, 3)]);
  await expectError(await post('', mp4, { 'content-type': 'video/mp4' }), 422, 'undecodable_file');
  const avi = Buffer.concat([Buffer.from('RIFF\x10\0\0\0AVI LIST', 'latin1'), Buffer.alloc(300)]);
  await expectError(await post('', avi, { 'content-type': 'video/x-msvideo' }), 422, 'undecodable_file');
  assert.deepEqual(await incomingFiles(), []);
});

test('D7: webhooks to metadata and link-local targets are refused at upload time (400), nothing stored', async () => {
  for (const target of ['http://169.254.169.254/latest/meta-data/', 'http://0xA9FEA9FE/', 'http://[::ffff:169.254.169.254]/', 'http://metadata.google.internal/', 'http://[fd00:ec2::254]/', 'http://100.100.100.200/', 'http://0.0.0.0:22/']) {
    const body = await expectError(await post(`?webhook=${encodeURIComponent(target)}`, small, { 'x-is-async': 'true' }), 400, 'webhook_refused');
    assert.equal(body.error.parameter, 'webhook');
  }
  assert.deepEqual(await incomingFiles(), []);
  const listed = (await (await fetch(`${server.url}/v1/task/list?limit=1000`)).json()) as { items: { webhook: string | null }[] };
  assert.ok(listed.items.every((t) => t.webhook === null || !/169\.254|metadata|100\.100/.test(t.webhook)));
});

async function receiver(handler: (path: string) => { status: number; location?: string }): Promise<{ url: string; hits: string[]; close(): void }> {
  const hits: string[] = [];
  const srv: Server = createServer((req, res) => {
    hits.push(req.url ?? '');
    req.resume();
    const r = handler(req.url ?? '');
    res.writeHead(r.status, r.location ? { location: r.location } : {}).end('{}');
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, hits, close: () => srv.close() };
}

test('D7: webhook redirects are not followed, and names resolving to refused addresses are refused at delivery', async () => {
  const landed = await receiver(() => ({ status: 200 }));
  const redirecting = await receiver(() => ({ status: 307, location: `${landed.url}/landed` }));
  const s = await startTestServer({ anonymize: ['face'], webhookRetries: 0 });
  const strict = await startTestServer({ anonymize: ['face'], webhookRetries: 0, webhookDeny: ['127.0.0.0/8', '::1/128'] });
  try {
    const r1 = await fetch(`${s.url}/v1/file?webhook=${encodeURIComponent(`${redirecting.url}/hook`)}`, { method: 'POST', body: bytes(small), headers: { 'content-type': 'image/jpeg' } });
    const { id } = (await r1.json()) as { id: string };
    let t: Record<string, any> = {};
    for (let i = 0; i < 100 && (t.webhook_status ?? 'set') === 'set'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      t = (await (await fetch(`${s.url}/v1/task/${id}`)).json()) as Record<string, any>;
    }
    assert.equal(t.webhook_status, 'failed');
    assert.deepEqual(redirecting.hits, ['/hook']);
    assert.deepEqual(landed.hits, [], 'the redirect target was never called');

    // "localhost" passes the upload check (a name), but resolves to loopback, which this server denies
    const port = new URL(landed.url).port;
    const r2 = await fetch(`${strict.url}/v1/file?webhook=${encodeURIComponent(`http://localhost:${port}/rebound`)}`, { method: 'POST', body: bytes(small), headers: { 'content-type': 'image/jpeg' } });
    assert.equal(r2.status, 200);
    const id2 = ((await r2.json()) as { id: string }).id;
    let t2: Record<string, any> = {};
    for (let i = 0; i < 100 && (t2.webhook_status ?? 'set') === 'set'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      t2 = (await (await fetch(`${strict.url}/v1/task/${id2}`)).json()) as Record<string, any>;
    }
    assert.equal(t2.webhook_status, 'failed');
    assert.deepEqual(landed.hits, []);
    await expectError(await fetch(`${strict.url}/v1/file?webhook=${encodeURIComponent(landed.url)}`, { method: 'POST', body: bytes(small), headers: { 'content-type': 'image/jpeg' } }), 400, 'webhook_refused');
  } finally {
    await s.stop();
    await strict.stop();
    landed.close();
    redirecting.close();
  }
});

test('D8: framing, hop-by-hop and host headers are refused as web-auth-header-name', async () => {
  for (const name of ['content-length', 'Transfer-Encoding', 'host', 'connection', 'expect', 'upgrade', 'te', 'trailer', 'keep-alive', 'proxy-authorization']) {
    const body = await expectError(
      await post(`?webhook=${encodeURIComponent('http://127.0.0.1:9/hook')}&web-auth-header-name=${name}&web-auth-header-value=0`, small),
      400,
      'bad_parameter',
    );
    assert.equal(body.error.parameter, 'web-auth-header-name');
  }
});

test('D9: requests Node\'s HTTP parser refuses get the JSON error shape', async () => {
  const cases: [string, string | Buffer, number][] = [
    ['request line over 16 KB', `GET /v1/status?x${'y'.repeat(20000)}=1 HTTP/1.1\r\nHost: a\r\n\r\n`, 431],
    ['bad chunk size', 'POST /v1/file HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Type: image/jpeg\r\n\r\nzz\r\nabc\r\n0\r\n\r\n', 400],
    ['Content-Length with Transfer-Encoding', 'POST /v1/file HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    ['negative Content-Length', 'POST /v1/file HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n', 400],
    ['NUL in a header', Buffer.from('GET /v1/status HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n', 'latin1'), 400],
  ];
  for (const [name, data, status] of cases) {
    const r = await rawRequest(server.url, data);
    assert.equal(r.status, status, `${name}: ${r.raw.slice(0, 200)}`);
    assert.match(r.headers['content-type'] ?? '', /application\/json/, name);
    const body = JSON.parse(r.body) as ErrorBody;
    assert.ok(body.error.code && body.error.message, name);
  }
  assert.equal((await fetch(`${server.url}/v1/status`)).status, 200);
});

test('D10: links come from the listening address or a trusted --public-host, never from any client Host header', async () => {
  const listed = (raw: string) => JSON.parse(raw) as { items: { links: Record<string, string> }[] };
  const res = await post('', small);
  assert.equal(res.status, 200);
  const r10 = await rawRequest(server.url, 'GET /v1/task/list?limit=1 HTTP/1.0\r\n\r\n');
  assert.equal(r10.status, 200);
  const links10 = Object.values(listed(r10.body).items[0]!.links);
  assert.ok(links10.every((l) => l.startsWith(`${server.url}/`)), links10.join(' '));
  const evil = await rawRequest(server.url, 'GET /v1/task/list?limit=1 HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n');
  assert.ok(Object.values(listed(evil.body).items[0]!.links).every((l) => l.startsWith(`${server.url}/`)));

  const pub = await startTestServer({ anonymize: ['face'], publicHost: 'images.example.org,images.example.org:8443' });
  try {
    assert.equal((await fetch(`${pub.url}/v1/file`, { method: 'POST', body: bytes(small), headers: { 'content-type': 'image/jpeg' } })).status, 200);
    const trusted = await rawRequest(pub.url, 'GET /v1/task/list?limit=1 HTTP/1.1\r\nHost: images.example.org:8443\r\nConnection: close\r\n\r\n');
    assert.ok(listed(trusted.body).items[0]!.links.task!.startsWith('http://images.example.org:8443/v1/task/'));
    const other = await rawRequest(pub.url, 'GET /v1/task/list?limit=1 HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n');
    assert.ok(listed(other.body).items[0]!.links.task!.startsWith('http://images.example.org/v1/task/'));
  } finally {
    await pub.stop();
  }
});

test('D11: a trickling upload is cut with 408, its temporary file removed; open uploads count against the queue limit', async () => {
  const s = await startTestServer({ anonymize: ['face'], uploadIdleTimeout: 0.5, queueLimit: 1, concurrency: 1 });
  try {
    const head = `POST /v1/file HTTP/1.1\r\nHost: a\r\nContent-Type: image/jpeg\r\nContent-Length: ${small.length}\r\nX-Is-Async: true\r\n\r\n`;
    // One open upload would run on the idle worker, the other would wait: together they fill --queue-limit 1.
    const trickles = [0, 1].map(() => rawRequest(s.url, Buffer.concat([Buffer.from(head), small.subarray(0, 100)]), { keepOpen: true, timeoutMs: 5000 }));
    await new Promise((r) => setTimeout(r, 150));
    await expectError(await fetch(`${s.url}/v1/file`, { method: 'POST', body: bytes(small), headers: { 'content-type': 'image/jpeg', 'x-is-async': 'true' } }), 503, 'queue_full');
    for (const r of await Promise.all(trickles)) {
      assert.equal(r.status, 408, r.raw.slice(0, 300));
      assert.equal((JSON.parse(r.body) as ErrorBody).error.code, 'request_timeout');
    }
    const dir = join(s.config.inputDir, '.incoming');
    // the temporary file goes once the cut connection's upload has unwound
    for (let i = 0; i < 40 && existsSync(dir) && (await readdir(dir)).length; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(existsSync(dir) ? await readdir(dir) : [], []);
    assert.equal((await fetch(`${s.url}/v1/file`, { method: 'POST', body: bytes(small), headers: { 'content-type': 'image/jpeg', 'x-is-async': 'true' } })).status, 202, 'the slot is free again');
  } finally {
    await s.stop();
  }
});

test('D12: the restart sweep removes output temp files (.partial-*) and .incoming leftovers', async () => {
  const first = await startTestServer({ anonymize: ['face'] });
  const root = first.root;
  const res = await fetch(`${first.url}/v1/file`, { method: 'POST', body: bytes(small), headers: { 'content-type': 'image/jpeg' } });
  const { id } = (await res.json()) as { id: string };
  await first.close(5000);
  const partial = join(first.config.outputDir, id, `file.jpg.partial-4242-${Date.now().toString(36)}`);
  await writeFile(partial, 'half a file');
  await mkdir(join(first.config.inputDir, '.incoming'), { recursive: true });
  await writeFile(join(first.config.inputDir, '.incoming', 'left-over'), 'x');
  const second = await startTestServer({ anonymize: ['face'] }, root);
  try {
    assert.ok(!existsSync(partial), '.partial- file removed');
    assert.ok(!existsSync(join(first.config.inputDir, '.incoming', 'left-over')));
    assert.equal((await fetch(`${second.url}/v1/file/${id}/anonymised`)).status, 200, 'finished outputs are kept');
  } finally {
    await second.stop();
    await rm(root, { recursive: true, force: true });
  }
});

test('D13: a multipart file part named ".." gets a clear 400 about its filename', async () => {
  for (const filename of ['..', '.', 'a/..']) {
    const boundary = 'XyZ123';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="fileobject"; filename="${filename}"\r\nContent-Type: image/jpeg\r\n\r\n`),
      small,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const res = await fetch(`${server.url}/v1/file`, { method: 'POST', body: bytes(body), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } });
    const err = await expectError(res, 400, 'bad_parameter');
    assert.match(err.error.message, /filename/, filename);
  }
  assert.deepEqual(await incomingFiles(), []);
});
