// InstaVid360 dialect and the account model over real HTTP: accounts and tokens made with the real CLI on the
// server's database, tokens across dialects (Celantur too), isolation (404), scopes (403), quota and rate
// limit (429 with headers), an LPA and a bg-replace task end to end with a callback on a loopback server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { FACE_PHOTO } from '../helpers/fixtures.ts';
import { bytes } from '../helpers/body.ts';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/anonymiser', import.meta.url));

let server: TestServer;
let hook: Server;
let hookUrl: string;
const callbacks: any[] = [];
let photo: Buffer;
const tokens: Record<string, string> = {};

async function cli(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [BIN, ...args, '--db', server.config.dbPath]);
  return stdout;
}

async function makeToken(account: string, name: string, scopes: string): Promise<string> {
  const out = await cli('tokens', 'add', '--account', account, '--name', name, '--scopes', scopes);
  const lines = out.trim().split('\n');
  return lines[lines.length - 1]!;
}

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

async function upload(token: string, type: string, data: Buffer, mime = 'image/jpeg', path = '/api/v1/image/upload') {
  const form = new FormData();
  form.append('image', new Blob([bytes(data)], { type: mime }), mime === 'image/png' ? 'i.png' : 'i.jpg');
  const res = await fetch(`${server.url}${path}/${type}`, { method: 'POST', headers: auth(token), body: form });
  return { res, body: (await res.json()) as any };
}

async function postJson(token: string, path: string, body: unknown) {
  const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { ...auth(token), 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { res, body: (await res.json()) as any };
}

async function finished(token: string, task: string): Promise<any> {
  const until = Date.now() + 120_000;
  for (;;) {
    const { body } = await postJson(token, `/api/image/task/${task}`, {});
    assert.equal(body.success, true, JSON.stringify(body));
    if (body.data.status === 'completed' || body.data.status === 'error') return body.data;
    if (Date.now() > until) throw new Error(`task ${task} still ${body.data.status}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

function assertFailure(body: any, code: number) {
  assert.equal(body.success, false);
  assert.equal(body.code, code);
  assert.equal(body.locale, 'en');
  assert.ok(Array.isArray(body.data.messages) && body.data.messages.length > 0, JSON.stringify(body));
}

before(async () => {
  server = await startTestServer({ anonymize: ['license-plate', 'vehicle', 'person'] });
  photo = await readFile(FACE_PHOTO);
  hook = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      callbacks.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/callback`;
  await cli('accounts', 'add', '--name', 'Dealer A', '--email', 'a@dealer.test', '--quota', 'lpa=1,bg-replace=5');
  await cli('accounts', 'add', '--name', 'Dealer B', '--email', 'b@dealer.test');
  await cli('accounts', 'add', '--name', 'Reader C', '--email', 'c@dealer.test');
  tokens.a1 = await makeToken('a@dealer.test', 'main', 'image:upload,task:read,task:lpa,task:bg-replace,celantur');
  tokens.a2 = await makeToken('a@dealer.test', 'uploads-only', 'image:upload');
  tokens.b1 = await makeToken('b@dealer.test', 'main', 'image:upload,task:read,task:lpa,task:bg-replace,celantur');
  tokens.c1 = await makeToken('c@dealer.test', 'main', 'task:read');
});
after(async () => {
  await server?.stop();
  await new Promise((r) => hook?.close(r));
});

test('the CLI lists tokens without secrets and refuses a duplicate name', async () => {
  const list = await cli('tokens', 'list', '--account', 'a@dealer.test');
  assert.match(list, /main\timage:upload,task:read,task:lpa,task:bg-replace,celantur/);
  assert.ok(!list.includes(tokens.a1!), 'the secret must not be listed');
  await assert.rejects(cli('tokens', 'add', '--account', 'a@dealer.test', '--name', 'main', '--scopes', 'task:read'), /unique per account/);
});

test('once accounts exist, every dialect needs a token: 401 in each one\'s own shape', async () => {
  const iv = await fetch(`${server.url}/api/image/task/abcdefghij`, { method: 'POST' });
  assert.equal(iv.status, 401);
  assertFailure(await iv.json(), 401);
  const cel = await fetch(`${server.url}/v1/status`);
  assert.equal(cel.status, 401);
  assert.equal(((await cel.json()) as any).error.code, 'unauthorized');
  const wrong = await fetch(`${server.url}/v1/status`, { headers: auth('anon_not-a-token') });
  assert.equal(wrong.status, 401);
  assert.equal((await fetch(`${server.url}/v1/status`, { headers: auth(tokens.a1!) })).status, 200);
});

test('Celantur with tokens: own tasks only (list, task, download 404 for others), scope refusal 403', async () => {
  const small = await sharp(photo).resize(320).jpeg().toBuffer();
  const post = await fetch(`${server.url}/v1/file?method=blur`, { method: 'POST', headers: { ...auth(tokens.a1!), 'x-is-async': 'true', 'content-type': 'image/jpeg' }, body: bytes(small) });
  assert.equal(post.status, 202, await post.clone().text());
  const { id } = (await post.json()) as any;
  const mine = (await (await fetch(`${server.url}/v1/task/list`, { headers: auth(tokens.a1!) })).json()) as any;
  assert.ok(mine.items.some((t: any) => t.id === id));
  const theirs = (await (await fetch(`${server.url}/v1/task/list`, { headers: auth(tokens.b1!) })).json()) as any;
  assert.ok(!theirs.items.some((t: any) => t.id === id));
  assert.equal((await fetch(`${server.url}/v1/task/${id}`, { headers: auth(tokens.b1!) })).status, 404);
  assert.equal((await fetch(`${server.url}/v1/file/${id}/original`, { headers: auth(tokens.b1!) })).status, 404);
  assert.equal((await fetch(`${server.url}/v1/file/${id}/original`, { headers: auth(tokens.a1!) })).status, 200);
  const refused = await fetch(`${server.url}/v1/task/list`, { headers: auth(tokens.a2!) });
  assert.equal(refused.status, 403);
  assert.equal(((await refused.json()) as any).error.code, 'forbidden');
});

test('upload: imagekey of 10 alphanumerics, both paths; 403 without the scope; 415; 413 over 2 MB', async () => {
  const a = await upload(tokens.a2!, 'original', photo);
  assert.equal(a.res.status, 200);
  assert.deepEqual(Object.keys(a.body), ['success', 'code', 'locale', 'message', 'data']);
  assert.equal(a.body.success, true);
  assert.match(a.body.data.imagekey, /^[A-Za-z0-9]{10}$/);
  const b = await upload(tokens.a1!, 'background', photo, 'image/jpeg', '/api/image/upload');
  assert.match(b.body.data.imagekey, /^[A-Za-z0-9]{10}$/);
  const noScope = await upload(tokens.c1!, 'original', photo);
  assert.equal(noScope.res.status, 403);
  assertFailure(noScope.body, 403);
  const text = await upload(tokens.a1!, 'original', Buffer.from('not an image at all, just text'), 'image/jpeg');
  assert.equal(text.res.status, 415);
  assertFailure(text.body, 415);
  const big = await sharp(Buffer.from(Array.from({ length: 1100 * 1100 * 3 }, () => Math.floor(Math.random() * 256))), { raw: { width: 1100, height: 1100, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
  assert.ok(big.length > 2 * 1024 * 1024);
  const tooBig = await upload(tokens.a1!, 'original', big, 'image/png');
  assert.equal(tooBig.res.status, 413);
  assertFailure(tooBig.body, 413);
  const badType = await upload(tokens.a1!, 'logo', photo);
  assert.equal(badType.res.status, 422);
});

test('LPA end to end: task, status, result image, callback; other tokens see nothing; quota 429 after one', async () => {
  const up = await upload(tokens.a1!, 'original', photo);
  const key = up.body.data.imagekey as string;
  // Another token (even of the same account) cannot use the key: refused in the envelope.
  const foreign = await postJson(tokens.b1!, '/api/image/task/lpa', { reference: 'x', original: key });
  assert.equal(foreign.res.status, 422);
  assertFailure(foreign.body, 422);
  assert.match(foreign.body.data.messages[0], /original: no image/);
  const noScope = await postJson(tokens.a2!, '/api/image/task/lpa', { reference: 'x', original: key });
  assert.equal(noScope.res.status, 403);
  const created = await postJson(tokens.a1!, '/api/image/task/lpa', { reference: 'LPA-Test-Ref-1', original: key, options: {}, meta: { VIN: 'VIN123' }, callback_url: hookUrl });
  assert.equal(created.res.status, 200, JSON.stringify(created.body));
  const task = created.body.data.task as string;
  assert.match(task, /^[A-Za-z0-9]{10}$/);
  const data = await finished(tokens.a1!, task);
  assert.equal(data.status, 'completed');
  assert.equal(data.task_type, 'LPA');
  assert.equal(data.reference, 'LPA-Test-Ref-1');
  assert.deepEqual(data.meta, { VIN: 'VIN123' });
  assert.equal(data.callback_url, hookUrl);
  assert.deepEqual([data.result.width, data.result.height], [1200, 700]);
  const img = await fetch(data.result.url, { headers: auth(tokens.a1!) });
  assert.equal(img.status, 200);
  const meta = await sharp(Buffer.from(await img.arrayBuffer())).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 1200, 700]);
  // GET works for the status too; other tokens get 404 for the task and the image.
  assert.equal((await fetch(`${server.url}/api/image/task/${task}`, { headers: auth(tokens.a1!) })).status, 200);
  const hidden = await fetch(`${server.url}/api/image/task/${task}`, { method: 'POST', headers: auth(tokens.b1!) });
  assert.equal(hidden.status, 404);
  assertFailure(await hidden.json(), 404);
  assert.equal((await fetch(data.result.url, { headers: auth(tokens.b1!) })).status, 404);
  // The callback carries the status body.
  const until = Date.now() + 30_000;
  while (!callbacks.some((c) => c.data?.task === task) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  const cb = callbacks.find((c) => c.data?.task === task);
  assert.ok(cb, 'callback received');
  assert.equal(cb.success, true);
  assert.equal(cb.data.status, 'completed');
  assert.equal(cb.data.result.imagekey, data.result.imagekey);
  // Quota lpa=1: the second task request is refused until the month ends.
  const second = await postJson(tokens.a1!, '/api/image/task/lpa', { reference: 'LPA-2', original: key });
  assert.equal(second.res.status, 429);
  assertFailure(second.body, 429);
  assert.match(second.body.data.reset_at, /^\d{4}-\d{2}-01T00:00:00\.000Z$/);
  assert.ok(Number(second.res.headers.get('retry-after')) > 0);
  // …for every token of the account, across restarts of the count (it is in the database).
  const usage = await cli('accounts', 'list');
  assert.match(usage, /a@dealer\.test.*lpa=1\/1/);
});

test('bg-replace end to end: person on the new background, overlay on top, shadow option', async () => {
  const [w, h] = [1200, 700];
  const original = (await upload(tokens.a1!, 'original', photo)).body.data.imagekey;
  const background = (await upload(tokens.a1!, 'background', await sharp({ create: { width: w, height: h, channels: 3, background: { r: 0, g: 200, b: 0 } } }).png().toBuffer(), 'image/png')).body.data.imagekey;
  // A transparent overlay with an opaque magenta logo square in the top-right corner.
  const logo = await sharp({ create: { width: 100, height: 60, channels: 4, background: { r: 255, g: 0, b: 255, alpha: 1 } } }).png().toBuffer();
  const overlayPng = await sharp({ create: { width: w, height: h, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).composite([{ input: logo, left: w - 120, top: 20 }]).png().toBuffer();
  const overlay = (await upload(tokens.a1!, 'overlay', overlayPng, 'image/png')).body.data.imagekey;
  const created = await postJson(tokens.a1!, '/api/image/task/bg-replace', {
    reference: 'IV-Test-Ref-1', original, background, overlay, options: { shadow: true }, meta: { VIN: 'VIN123', Title: 'Front 3/4' }, callback_url: hookUrl,
  });
  assert.equal(created.res.status, 200, JSON.stringify(created.body));
  const data = await finished(tokens.a1!, created.body.data.task);
  assert.equal(data.status, 'completed', JSON.stringify(data));
  assert.equal(data.task_type, 'Background Replace');
  assert.deepEqual(data.options, { shadow: true });
  const res = await fetch(data.result.url, { headers: auth(tokens.a1!) });
  const { data: px, info } = await sharp(Buffer.from(await res.arrayBuffer())).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height], [w, h]);
  const at = (x: number, y: number) => [...px.subarray((y * w + x) * 3, (y * w + x) * 3 + 3)];
  const near = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]!) <= 12);
  assert.ok(near(at(w - 70, 50), [255, 0, 255]), `overlay logo: ${at(w - 70, 50)}`);
  assert.ok(near(at(900, 300), [0, 200, 0]), `background where the photo had coffee: ${at(900, 300)}`);
  // The largest astronaut (512 px, pasted at the left) stays: most of its suit is not background green.
  const orig = await sharp(photo).raw().toBuffer();
  let kept = 0, total = 0;
  for (let y = 300; y < 500; y += 10)
    for (let x = 100; x < 350; x += 10) {
      total++;
      const i = (y * w + x) * 3;
      if (near(at(x, y), [orig[i]!, orig[i + 1]!, orig[i + 2]!])) kept++;
    }
  assert.ok(kept / total > 0.7, `person pixels kept: ${kept}/${total}`);
});

test('bg-replace with images of different sizes ends in Error with that reason', async () => {
  const original = (await upload(tokens.a1!, 'original', photo)).body.data.imagekey;
  const background = (await upload(tokens.a1!, 'background', await sharp({ create: { width: 800, height: 600, channels: 3, background: '#336699' } }).jpeg().toBuffer())).body.data.imagekey;
  const created = await postJson(tokens.a1!, '/api/image/task/bg-replace', { reference: 'mismatch', original, background, overlay: null, options: { shadow: false } });
  assert.equal(created.res.status, 200);
  const data = await finished(tokens.a1!, created.body.data.task);
  assert.equal(data.status, 'error');
  assert.equal(data.result, null);
  assert.match(data.messages[0], /same width × height: original 1200×700, background 800×600/);
  assert.ok(!data.messages[0].includes('/'), 'no server path');
});

test('validation: missing fields are listed in data.messages with 422', async () => {
  const r = await postJson(tokens.a1!, '/api/image/task/bg-replace', { original: 5 });
  assert.equal(r.res.status, 422);
  assertFailure(r.body, 422);
  assert.ok(r.body.data.messages.length >= 3, JSON.stringify(r.body.data.messages));
});

test('rate limit: 429 with Retry-After and X-RateLimit-* once the minute\'s requests are used', async () => {
  await cli('accounts', 'add', '--name', 'Busy D', '--email', 'd@dealer.test', '--rate-limit', '3');
  const d1 = await makeToken('d@dealer.test', 'main', 'task:read');
  const seen: Response[] = [];
  for (let i = 0; i < 4; i++) seen.push(await fetch(`${server.url}/api/image/task/nosuchtask`, { method: 'POST', headers: auth(d1) }));
  assert.deepEqual(seen.map((r) => r.status), [404, 404, 404, 429]);
  assert.deepEqual(seen.map((r) => r.headers.get('x-ratelimit-remaining')), ['2', '1', '0', '0']);
  const last = seen[3]!;
  assert.equal(last.headers.get('x-ratelimit-limit'), '3');
  assert.ok(Number(last.headers.get('retry-after')) >= 1 && Number(last.headers.get('retry-after')) <= 60);
  assert.ok(Number(last.headers.get('x-ratelimit-reset')) * 1000 > Date.now());
  assertFailure(await last.json(), 429);
});

test('a revoked token is refused at once', async () => {
  const t = await makeToken('b@dealer.test', 'temp', 'task:read');
  assert.equal((await fetch(`${server.url}/api/image/task/nosuchtask`, { method: 'POST', headers: auth(t) })).status, 404);
  await cli('tokens', 'revoke', '--account', 'b@dealer.test', '--name', 'temp');
  assert.equal((await fetch(`${server.url}/api/image/task/nosuchtask`, { method: 'POST', headers: auth(t) })).status, 401);
});
