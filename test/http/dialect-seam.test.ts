// The dialect seam with two dialects mounted side by side: Celantur's and a small second one written here
// against the Dialect interface (as Maskit and PEKAT will be). Each task records the dialect it came
// through, its webhook is built by that dialect's notifier, and each dialect's errors keep its own shape.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { startTestServer, waitForTask, type TestServer } from '../helpers/server.ts';
import { FACE_PHOTO } from '../helpers/fixtures.ts';
import { bytes } from '../helpers/body.ts';
import { defaultDialects } from '../../src/server.ts';
import { mountRoutes, type Dialect } from '../../src/http/dialect.ts';
import { receiveUpload } from '../../src/http/upload.ts';
import { probeUpload } from '../../src/pipeline/probe.ts';
import { BadParameterError } from '../../src/errors.ts';
import { DEFAULT_PARAMS } from '../../src/types.ts';

const probeDialect: Dialect = {
  name: 'probe',
  mount: (router, ctx) =>
    mountRoutes(router, ctx, [
      {
        method: 'post',
        path: '/probe/upload',
        handler: async (ctx, req, res) => {
          const received = await receiveUpload(req, res, join(ctx.inputDir, '.incoming'), ctx.maxUploadMb);
          try {
            const type = await probeUpload(received.path);
            const hook = typeof req.query.hook === 'string' ? { url: req.query.hook } : null;
            const task = await ctx.service.accept({ dialect: 'probe', path: received.path, originalName: 'p.jpg', type, params: { ...DEFAULT_PARAMS, classes: ['face'] }, webhook: hook });
            res.status(202).json({ job: task.id });
          } catch (err) {
            await rm(received.path, { force: true });
            throw err;
          }
        },
      },
      { method: 'get', path: '/probe/fail', handler: () => { throw new BadParameterError('x', 'nope'); } },
    ]),
  notifier: {
    request: (task, event) =>
      task.webhook ? { url: task.webhook.url, headers: { 'x-probe': event }, contentType: 'text/plain', body: `${task.id} ${task.status}` } : null,
  },
  openapi: () => null,
  errorBody: (err) => ({ problem: err.code }),
};

let server: TestServer;
let hook: Server;
let hookUrl: string;
const received: { headers: IncomingHttpHeaders; body: string }[] = [];
let small: Buffer;

before(async () => {
  server = await startTestServer({ anonymize: ['face'], lenientParams: true }, undefined, { dialects: (baseUrl) => [...defaultDialects(baseUrl), probeDialect] });
  small = await sharp(await readFile(FACE_PHOTO)).resize(240).jpeg().toBuffer();
  hook = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/h`;
});
after(async () => {
  await server?.stop();
  await new Promise((r) => hook?.close(r));
});

async function delivered(predicate: (r: (typeof received)[number]) => boolean) {
  const until = Date.now() + 30_000;
  for (;;) {
    const r = received.find(predicate);
    if (r) return r;
    assert.ok(Date.now() < until, 'webhook arrived');
    await new Promise((res) => setTimeout(res, 50));
  }
}

test("each task records its dialect and is notified by that dialect's notifier", async () => {
  const res = await fetch(`${server.url}/probe/upload?hook=${encodeURIComponent(hookUrl)}`, { method: 'POST', body: bytes(small), headers: { 'content-type': 'image/jpeg' } });
  assert.equal(res.status, 202);
  const { job } = (await res.json()) as { job: string };
  assert.equal((await server.service.get(job)).dialect, 'probe');
  const probeHook = await delivered((r) => r.body.startsWith(job));
  assert.equal(probeHook.body, `${job} done`);
  assert.equal(probeHook.headers['content-type'], 'text/plain');
  assert.equal(probeHook.headers['x-probe'], 'finished');

  const celantur = await fetch(`${server.url}/v1/file?webhook=${encodeURIComponent(hookUrl)}`, { method: 'POST', body: bytes(small), headers: { 'content-type': 'image/jpeg', 'x-is-async': 'true' } });
  const { id } = (await celantur.json()) as { id: string };
  assert.equal((await server.service.get(id)).dialect, 'celantur');
  await waitForTask(server.url, id);
  const celanturHook = await delivered((r) => r.body.includes(`"file_id":"${id}"`));
  assert.match(celanturHook.headers['content-type'] ?? '', /application\/json/);
  assert.equal(celanturHook.headers['x-probe'], undefined);
});

test("each dialect's errors keep its own shape; unknown routes get the shared one", async () => {
  const probe = await fetch(`${server.url}/probe/fail`);
  assert.equal(probe.status, 400);
  assert.deepEqual(await probe.json(), { problem: 'bad_parameter' });
  const celantur = await fetch(`${server.url}/v1/task/nope`);
  assert.equal(celantur.status, 404);
  assert.equal(((await celantur.json()) as { error: { code: string } }).error.code, 'not_found');
  const nowhere = await fetch(`${server.url}/nowhere`);
  assert.equal(nowhere.status, 404);
  assert.equal(((await nowhere.json()) as { error: { code: string } }).error.code, 'not_found');
});

test('with --lenient-params an unknown Celantur query parameter is a task warning, not a 400', async () => {
  const res = await fetch(`${server.url}/v1/file?colour=red&sender=celantur`, { method: 'POST', body: bytes(small), headers: { 'content-type': 'image/jpeg' } });
  assert.equal(res.status, 200);
  const task = (await res.json()) as { status: string; warnings: string[] };
  assert.equal(task.status, 'done');
  assert.deepEqual(task.warnings, ['colour: unknown parameter, ignored', 'sender: unknown parameter, ignored']);
});
