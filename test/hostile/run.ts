// Runs hostile cases against one real server (real models, SQLite, HTTP) and checks, for each: the answer
// is the API's JSON error with an expected status (or a correct 200), /v1/status still answers, a refused
// upload leaves no file, and no message carries a server path or tool output.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { startTestServer, waitForTask, type TestServer } from '../helpers/server.ts';
import { bytes } from '../helpers/body.ts';
import { parseRawResponse, rawRequest } from '../helpers/raw.ts';
import { buildCases, makeBases, type HostileCase } from './cases.ts';
import { buildDialectCases, checkDialectSuccess, dialectErrorMessages, type AnyCase, type DialectCase } from './dialects.ts';

const LEAK = /\/(tmp|home|usr|work|root|app|node_modules)\/|ffprobe|ffmpeg|exited with|ENOENT|EACCES|Invalid data found|VipsJpeg|vipspng|libpng|at [A-Za-z]+ \(/i;

async function storedEntries(server: TestServer): Promise<{ tasks: string[]; incoming: string[] }> {
  const dir = server.config.inputDir;
  const all = existsSync(dir) ? await readdir(dir) : [];
  const incomingDir = join(dir, '.incoming');
  // InstaVid keeps its uploaded images (imagekeys) in the input folder's instavid/
  const instavidDir = join(dir, 'instavid');
  const images = existsSync(instavidDir) ? (await readdir(instavidDir)).map((n) => `instavid/${n}`) : [];
  return { tasks: [...all.filter((n) => n !== '.incoming' && n !== 'instavid'), ...images].sort(), incoming: existsSync(incomingDir) ? await readdir(incomingDir) : [] };
}

/** Maskit, PEKAT, InstaVid: the status, that dialect's error shape, no leak, nothing left behind. */
async function runDialectCase(c: DialectCase, server: TestServer): Promise<void> {
  const before = await storedEntries(server);
  const res = await fetch(`${server.url}${c.path}`, { method: c.method, body: c.body ? bytes(c.body) : undefined, headers: c.headers });
  const text = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  assert.ok(c.expect.status.includes(res.status), `${c.name}: status ${res.status} not in ${c.expect.status}: ${text.slice(0, 200)}`);
  assert.ok(!text.includes(server.root), `${c.name}: no server path in the answer`);
  if (res.status >= 400) {
    assert.match(contentType, /application\/json/, `${c.name}: error answers are JSON (got "${contentType}": ${text.slice(0, 120)})`);
    const messages = dialectErrorMessages(c, res.status, JSON.parse(text));
    if (c.expect.code) assert.ok(text.includes(`"${c.expect.code}"`), `${c.name}: code ${c.expect.code}`);
    for (const m of messages) assert.ok(!LEAK.test(m), `${c.name}: no path or tool output in "${m.slice(0, 300)}"`);
  } else {
    checkDialectSuccess(c, contentType, text);
  }
  const st = await fetch(`${server.url}/v1/status`);
  assert.equal(st.status, 200, `${c.name}: /v1/status still answers`);
  await st.arrayBuffer();
  if (c.upload && res.status !== 200) {
    let after = await storedEntries(server);
    for (let i = 0; i < 20 && after.incoming.length; i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = await storedEntries(server);
    }
    assert.deepEqual(after.tasks, before.tasks, `${c.name}: no task folder or image for a refused upload`);
    assert.deepEqual(after.incoming, [], `${c.name}: no temporary upload left`);
  }
}

function checkErrorBody(c: HostileCase, status: number, contentType: string, text: string, server: TestServer): { task_id?: string } {
  assert.match(contentType, /application\/json/, `${c.name}: error answers are JSON (got "${contentType}": ${text.slice(0, 120)})`);
  const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
  assert.ok(body.error && typeof body.error.code === 'string' && typeof body.error.message === 'string', `${c.name}: {"error":{code,message}}`);
  if (c.expect.code) assert.equal(body.error.code, c.expect.code, `${c.name}: code (status ${status})`);
  assert.ok(!body.error.message.includes(server.root), `${c.name}: no server path in "${body.error.message}"`);
  assert.ok(!LEAK.test(body.error.message), `${c.name}: no path or tool output in "${body.error.message}"`);
  return body.error as { task_id?: string };
}

async function runCase(c: HostileCase, server: TestServer): Promise<void> {
  const before = await storedEntries(server);
  let status: number;
  let failedTask: string | undefined;
  if (c.kind === 'raw') {
    let r = await rawRequest(server.url, c.data, { timeoutMs: 3000, keepOpen: c.keepOpen });
    if (r.status === 100) r = parseRawResponse(r.raw.slice(r.raw.indexOf('\r\n\r\n') + 4));
    status = r.status;
    assert.ok(c.expect.status.includes(status), `${c.name}: status ${status} not in ${c.expect.status} (${r.raw.slice(0, 160)})`);
    if (status >= 400) checkErrorBody(c, status, r.headers['content-type'] ?? '', r.body, server);
  } else {
    const res =
      c.kind === 'upload'
        ? await fetch(`${server.url}/v1/file${c.query}`, { method: 'POST', body: bytes(c.body), headers: c.headers })
        : await fetch(`${server.url}${c.path}`, { method: c.method });
    status = res.status;
    const text = await res.text();
    assert.ok(c.expect.status.includes(status), `${c.name}: status ${status} not in ${c.expect.status}: ${text.slice(0, 200)}`);
    if (status >= 400) {
      const err = checkErrorBody(c, status, res.headers.get('content-type') ?? '', text, server);
      if (err.task_id) {
        // accepted, then failed while processing: the task record keeps its input (DELETE removes it)
        failedTask = err.task_id;
        const task = await waitForTask(server.url, err.task_id);
        assert.equal(task.status, 'failed', c.name);
        assert.ok(!LEAK.test(String(task.error)), `${c.name}: no path or tool output in the task's error "${task.error}"`);
      }
    }
    if (c.kind === 'upload' && status === 200) {
      // a 200 is a correct result: the task is done and its output decodes
      const task = JSON.parse(text) as { id: string; status: string; media_type: string };
      assert.equal(task.status, 'done', c.name);
      if (task.media_type === 'image') {
        const out = await fetch(`${server.url}/v1/file/${task.id}/anonymised`);
        assert.equal(out.status, 200, `${c.name}: anonymised download`);
        const meta = await sharp(Buffer.from(await out.arrayBuffer()), { failOn: 'warning' }).metadata();
        assert.ok(meta.width && meta.height, `${c.name}: output decodes`);
      } else {
        assert.equal((await waitForTask(server.url, task.id)).status, 'done');
      }
    }
  }
  const st = await fetch(`${server.url}/v1/status`);
  assert.equal(st.status, 200, `${c.name}: /v1/status still answers`);
  await st.arrayBuffer();
  if (c.kind === 'upload' && status !== 200) {
    // nothing is kept for a refused upload (a cut connection unwinds within moments)
    let after = await storedEntries(server);
    for (let i = 0; i < 20 && after.incoming.length; i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = await storedEntries(server);
    }
    assert.deepEqual(after.tasks.filter((t) => t !== failedTask), before.tasks, `${c.name}: no task folder for a refused upload`);
    assert.deepEqual(after.incoming, [], `${c.name}: no temporary upload left`);
  }
}

/** Registers one node:test test per case, all against one server. */
export function registerHostileSuite(select: (all: AnyCase[]) => AnyCase[]): void {
  let server: TestServer;
  let cases: AnyCase[] = [];
  const ready = (async () => {
    const bases = await makeBases();
    const all = [...buildCases(bases), ...buildDialectCases(bases)];
    cases = select(all);
    return cases;
  })();
  before(async () => {
    server = await startTestServer({ anonymize: ['face'], maxUploadMb: 8, queueLimit: 1000 });
  });
  after(async () => {
    await server?.stop();
  });
  test('hostile inputs', async (t) => {
    const list = await ready;
    for (const c of list) {
      await t.test(`${c.group}: ${c.name}`, { todo: c.todo }, () => (c.kind === 'dialect' ? runDialectCase(c, server) : runCase(c, server)));
    }
  });
}
