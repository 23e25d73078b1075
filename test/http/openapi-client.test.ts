// The served OpenAPI document as a customer uses it: redocly lint (recommended rules) finds no error, and a
// client generated with openapi-typescript type-checks under tsc --strict and runs against the real server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { FACE_PHOTO } from '../helpers/fixtures.ts';

const run = promisify(execFile);
const bin = (name: string) => fileURLToPath(new URL(`../../node_modules/.bin/${name}`, import.meta.url));
const TSX = import.meta.resolve('tsx');
// No network from tests: redocly would otherwise send telemetry and look for updates.
const QUIET = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' };

let server: TestServer;
let dir: string;
let docPath: string;

before(async () => {
  for (const name of ['redocly', 'openapi-typescript', 'tsc']) {
    if (!existsSync(bin(name))) throw new Error(`node_modules/.bin/${name} is missing: run npm ci (devDependencies @redocly/cli, openapi-typescript)`);
  }
  server = await startTestServer({ anonymize: ['face'] });
  dir = await mkdtemp(join(tmpdir(), 'anonymiser-openapi-'));
  docPath = join(dir, 'openapi.json');
  const res = await fetch(`${server.url}/v1/openapi.json`);
  assert.equal(res.status, 200);
  await writeFile(docPath, await res.text());
});
after(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the served document passes redocly lint with the recommended rules: 0 errors', async () => {
  const doc = JSON.parse(await readFile(docPath, 'utf8'));
  assert.deepEqual(doc.servers, [{ url: server.url, description: 'this server' }]);
  assert.ok(doc.webhooks.taskEnded.post.requestBody);
  const r = await run(bin('redocly'), ['lint', '--extends=recommended', '--format=json', docPath], { env: QUIET, cwd: dir }).catch((e: { stdout: string; code: number }) => e);
  const report = JSON.parse(r.stdout) as { totals: { errors: number; warnings: number }; problems: { ruleId: string; severity: string; message: string }[] };
  const errors = report.problems.filter((p) => p.severity === 'error');
  assert.deepEqual(errors, [], 'no lint errors');
  assert.equal(report.totals.errors, 0);
  // The one expected warning: a test server listens on a loopback address.
  assert.deepEqual([...new Set(report.problems.map((p) => p.ruleId))].filter((id) => id !== 'no-server-example.com'), []);
});

// A customer's program against the generated types: every body it reads is typed, none is `unknown`/`never`.
const CLIENT = `
import type { paths, components } from './api.ts';
declare const process: { argv: string[] };

type Task = components['schemas']['Task'];
type StatusBody = paths['/v1/status']['get']['responses'][200]['content']['application/json'];
type ListBody = paths['/v1/task/list']['get']['responses'][200]['content']['application/json'];
type DeletedBody = paths['/v1/task/{id}']['delete']['responses'][200]['content']['application/json'];
type DeletedAllBody = paths['/v1/task/list']['delete']['responses'][200]['content']['application/json'];
type ErrorBody = paths['/v1/file']['post']['responses'][400]['content']['application/json'];
type NotFoundBody = paths['/v1/task/{id}']['get']['responses'][404]['content']['application/json'];
type Metadata = paths['/v1/file/{id}/metadata']['get']['responses'][200]['content']['application/json'];
type UploadQuery = NonNullable<paths['/v1/file']['post']['parameters']['query']>;
type Webhook = components['schemas']['WebhookBody'];

const base = process.argv[2]!;
const image = process.argv[3]!;

function query(q: UploadQuery): string {
  return new URLSearchParams(Object.entries(q).map(([k, v]) => [k, String(v)])).toString();
}

async function upload(q: UploadQuery, body: ArrayBuffer, async: boolean): Promise<{ status: number; task: Task }> {
  const headers: Record<string, string> = { 'content-type': 'image/jpeg', 'x-file-name': 'photo.jpg' };
  if (async) headers['x-is-async'] = '1';
  const res = await fetch(base + '/v1/file?' + query(q), { method: 'POST', body, headers });
  return { status: res.status, task: (await res.json()) as Task };
}

async function main(): Promise<void> {
  const bytes = await (await fetch(image)).arrayBuffer();
  const status = (await (await fetch(base + '/v1/status')).json()) as StatusBody;
  const sync = await upload({ method: 'blur', face: true, quality: 85, 'face-threshold': 0.4 }, bytes, false);
  const threshold: number = sync.task.parameters.face_threshold;
  const quality: number = sync.task.parameters.quality;
  const meta = (await (await fetch(sync.task.links.metadata!)).json()) as Metadata;
  const firstFace = meta.detections.find((d) => d.type_label === 'face');
  const queued = await upload({ method: 'pixelate' }, bytes, true);
  const list = (await (await fetch(base + '/v1/task/list?page=1&limit=10')).json()) as ListBody;
  const names: string[] = list.items.map((t) => t.name);
  const bad = (await (await fetch(base + '/v1/file?quality=101&colour=red', { method: 'POST', body: bytes, headers: { 'content-type': 'image/jpeg' } })).json()) as ErrorBody;
  const problems: string[] = (bad.error.details ?? []).map((d) => d.parameter);
  const missing = (await (await fetch(base + '/v1/task/nope')).json()) as NotFoundBody;
  const deleted = (await (await fetch(base + '/v1/task/' + queued.task.id, { method: 'DELETE' })).json()) as DeletedBody;
  const deletedAll = (await (await fetch(base + '/v1/task/list', { method: 'DELETE' })).json()) as DeletedAllBody;
  const hookLinks: (keyof Webhook)[] = ['file_id', 'file_status', 'anonymized_link', 'metadata_link'];
  console.log(JSON.stringify({
    provider: status.provider, classes: status.classes, waiting: status.queue.waiting,
    syncStatus: sync.status, done: sync.task.status, threshold, quality, faceBoxWidth: firstFace ? firstFace.bbox[2]! - firstFace.bbox[0]! : null,
    asyncStatus: queued.status, listed: list.total_item_count, names,
    problems, missing: missing.error.code, deleted: deleted.status, recordsDeleted: deleted.records_deleted, deletedAll: deletedAll.deleted, hookLinks,
  }));
}

await main();
`;

test('a client generated with openapi-typescript type-checks under tsc --strict and runs against the server', async () => {
  await run(bin('openapi-typescript'), [docPath, '-o', join(dir, 'api.ts')], { env: QUIET });
  await writeFile(join(dir, 'client.ts'), CLIENT);
  await writeFile(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022', 'DOM'], types: [], allowImportingTsExtensions: true, noUncheckedIndexedAccess: true },
      files: ['client.ts'],
    }),
  );
  // package.json "type": "module" lets the client use top-level await.
  await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  const tsc = await run(bin('tsc'), ['-p', join(dir, 'tsconfig.json')], { cwd: dir }).catch((e: { stdout: string; stderr: string; code: number }) => e);
  assert.equal('code' in tsc ? tsc.code : 0, 0, `tsc reports no type errors:\n${tsc.stdout}${tsc.stderr}`);

  // Serve the photo to the client over HTTP too, as it would come from anywhere.
  const { createServer } = await import('node:http');
  const photo = await readFile(FACE_PHOTO);
  const files = createServer((_req, res) => res.end(photo));
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
  try {
    const imageUrl = `http://127.0.0.1:${(files.address() as import('node:net').AddressInfo).port}/photo.jpg`;
    const out = await run(process.execPath, ['--import', TSX, join(dir, 'client.ts'), server.url, imageUrl], { cwd: dir });
    const r = JSON.parse(out.stdout) as Record<string, any>;
    assert.equal(r.provider, 'cpu');
    assert.deepEqual(r.classes, ['face']);
    assert.equal(r.syncStatus, 200);
    assert.equal(r.done, 'done');
    assert.equal(r.threshold, 0.4);
    assert.equal(r.quality, 85);
    assert.ok(r.faceBoxWidth > 0, 'a face with a box');
    assert.equal(r.asyncStatus, 202);
    assert.ok(r.listed >= 2);
    assert.ok(r.names.includes('photo.jpg'), 'x-file-name names the task');
    assert.deepEqual(r.problems, ['quality', 'colour']);
    assert.equal(r.missing, 'not_found');
    assert.equal(r.deleted, 'deleted');
    assert.equal(r.recordsDeleted, true);
    assert.ok(r.deletedAll >= 1);
  } finally {
    await new Promise<void>((r) => files.close(() => r()));
  }
});
