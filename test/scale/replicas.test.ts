// Several real replicas (separate server processes) on one real PostgreSQL and one shared folder, as behind a
// load balancer: round-robin uploads, a replica killed with -9 mid-run, sync requests answered by a replica
// that did not process the task, deletes from another replica, the queue limit across replicas, /v1/status.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import sharp from 'sharp';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { startReplica, type Replica } from '../helpers/replicas.ts';
import { FACE_PHOTO } from '../helpers/fixtures.ts';

const QUEUE_LIMIT = 6;
let db: TestPostgres;
let dbUrl: string;
let root: string;
let replicas: Replica[] = [];
let hook: Server;
let hookUrl: string;
const deliveries: { file_id: string; file_status: string }[] = [];
let small: Buffer;
let large: Buffer;

before(async () => {
  db = await startPostgres();
  dbUrl = await db.newDatabase();
  root = await mkdtemp(join(tmpdir(), 'anonymiser-replicas-'));
  hook = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      deliveries.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hook.address() as import('node:net').AddressInfo).port}/hook`;
  // Small, so that 30 of them stay cheap on a loaded 2-core machine (the test is about the cluster, not detection).
  small = await sharp(await readFile(FACE_PHOTO)).resize(160).jpeg().toBuffer();
  // Big enough that its processing outlasts a burst of uploads on these 2 cores.
  large = await sharp(await readFile(FACE_PHOTO)).resize(5000, 3500, { fit: 'fill' }).jpeg({ quality: 70 }).toBuffer();
  // Three replicas start at once on an empty database: the migration lock lets one create the schema.
  const args = ['--lease-s', '2', '--queue-limit', String(QUEUE_LIMIT), '--webhook-allow', '127.0.0.1/32'];
  replicas = await Promise.all([0, 1, 2].map(() => startReplica(dbUrl, root, args)));
});

after(async () => {
  await Promise.allSettled(replicas.map((r) => r.stop()));
  await new Promise((r) => hook?.close(r));
  await db?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

async function upload(r: Replica, body: Buffer, opts: { sync?: boolean; webhook?: boolean } = {}): Promise<Response> {
  const q = opts.webhook ? `?webhook=${encodeURIComponent(hookUrl)}` : '';
  return fetch(`${r.url}/v1/file${q}`, {
    method: 'POST',
    body: new Uint8Array(body),
    headers: { 'content-type': 'image/jpeg', ...(opts.sync ? {} : { 'x-is-async': '1' }) },
  });
}

async function status(r: Replica): Promise<Record<string, any>> {
  return (await (await fetch(`${r.url}/v1/status`)).json()) as Record<string, any>;
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

async function query<T extends pg.QueryResultRow>(sql: string, args: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  try {
    return (await c.query<T>(sql, args)).rows;
  } finally {
    await c.end();
  }
}

const exists = (p: string) => stat(p).then(() => true, () => false);
const alive = () => replicas.filter((r) => r.process.exitCode === null && r.process.signalCode === null);

test('every replica reports itself and the cluster: the replicas seen by heartbeat and each schema migration applied once', async () => {
  const s = await until('3 replicas seen', async () => {
    const s = await status(replicas[0]!);
    return s.cluster.replicas.length === 3 && s;
  });
  assert.equal(s.cluster.backend, 'postgres');
  assert.equal(s.cluster.queue_depth, 0);
  const ids = new Set(s.cluster.replicas.map((r: { id: string }) => r.id));
  for (const r of replicas) {
    const mine = await status(r);
    assert.ok(ids.has(mine.replica.id), 'each replica is in the list of every other');
    assert.match(mine.replica.id, new RegExp(`-${r.pid}-`));
  }
  assert.deepEqual(await query('SELECT version FROM schema_migrations'), [{ version: 1 }, { version: 2 }]);
});

test('the queue limit holds across replicas, and a delete through one replica stops tasks running on the others', async () => {
  // Keep every replica busy with a large image, then send a burst to all three at once.
  const busy: string[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await upload(replicas[i]!, large);
    assert.equal(res.status, 202);
    busy.push(((await res.json()) as { id: string }).id);
  }
  await until('all three replicas processing', async () => {
    const rows = await query<{ n: string }>(`SELECT count(DISTINCT owner) AS n FROM tasks WHERE status = 'processing'`);
    return Number(rows[0]!.n) === 3;
  });
  const burst = await Promise.all(Array.from({ length: 12 }, (_, i) => upload(replicas[i % 3]!, small)));
  const codes = burst.map((r) => r.status);
  const accepted = burst.filter((r) => r.status === 202).length;
  assert.equal(accepted, QUEUE_LIMIT, `exactly the limit is accepted across replicas (got ${codes.join(',')})`);
  for (const r of burst.filter((x) => x.status === 503)) {
    const body = (await r.json()) as { error: { code: string } };
    assert.equal(body.error.code, 'queue_full');
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
  }
  for (const r of burst.filter((x) => x.status === 202)) await r.body?.cancel();
  const s = await status(replicas[1]!);
  assert.equal(s.cluster.queue_depth, QUEUE_LIMIT);
  assert.equal(s.queue.waiting, QUEUE_LIMIT);

  // Delete everything through replica 0: the tasks running on 1 and 2 stop there, and their files go.
  const owners = await query<{ id: string; owner: string }>(`SELECT id, owner FROM tasks WHERE status = 'processing'`);
  assert.equal(owners.length, 3);
  const del = await fetch(`${replicas[0]!.url}/v1/task/list`, { method: 'DELETE' });
  assert.equal(del.status, 200);
  assert.equal(((await del.json()) as { deleted: number }).deleted, 3 + QUEUE_LIMIT);
  for (const r of replicas) {
    const list = (await (await fetch(`${r.url}/v1/task/list`)).json()) as { total_item_count: number };
    assert.equal(list.total_item_count, 0);
    assert.equal((await fetch(`${r.url}/v1/task/${busy[0]}`)).status, 404);
  }
  // The stopped replicas leave nothing behind on the shared volume, and are free again.
  await until('replicas idle', async () => {
    const all = await Promise.all(replicas.map(status));
    return all.every((x) => x.replica.running === 0);
  });
  await new Promise((r) => setTimeout(r, 500));
  for (const id of busy) {
    assert.equal(await exists(join(root, 'output', id)), false, `outputs of ${id} removed`);
    assert.equal(await exists(join(root, 'input', id)), false, `input of ${id} removed`);
  }
});

test('30 uploads round-robin, one replica killed with -9 mid-run: every task finishes once with its webhook; list and delete agree from any replica', async () => {
  deliveries.length = 0;
  const ids: string[] = [];
  let victim: Replica | undefined;
  let victimTask: string | undefined;
  for (let i = 0; ids.length < 30; i++) {
    const r = alive()[i % alive().length]!;
    const res = await upload(r, small, { webhook: true });
    if (res.status === 503) {
      // The cluster-wide queue is full: a client retries.
      await res.body?.cancel();
      await new Promise((x) => setTimeout(x, 200));
      continue;
    }
    assert.equal(res.status, 202, await res.clone().text());
    ids.push(((await res.json()) as { id: string }).id);
    if (ids.length === 10 && !victim) {
      // Kill a replica while it processes a task.
      const running = await until('a task processing', async () => (await query<{ id: string; owner: string }>(`SELECT id, owner FROM tasks WHERE status = 'processing' AND owner LIKE '%-${replicas[2]!.pid}-%'`))[0]);
      victim = replicas[2]!;
      victimTask = running.id;
      await victim.kill9();
    }
  }
  assert.ok(victim && victimTask);
  const survivors = alive();
  assert.equal(survivors.length, 2);
  const finished = await until('all 30 tasks ended', async () => {
    const rows = await query<{ id: string; status: string; attempts: number; owner: string }>(`SELECT id, status, attempts, owner FROM tasks WHERE id = ANY($1)`, [ids]);
    return rows.every((x) => x.status === 'done' || x.status === 'failed') && rows;
  }, 150_000);
  assert.equal(finished.length, 30);
  assert.deepEqual(finished.filter((x) => x.status !== 'done'), [], 'none failed');
  // The task the killed replica was running ran again elsewhere, its second attempt counted in the database.
  const rerun = finished.find((x) => x.id === victimTask)!;
  assert.equal(rerun.attempts, 2);
  assert.doesNotMatch(rerun.owner, new RegExp(`-${victim.pid}-`));
  // Every webhook arrives; a replica dying between sending and recording may cause one duplicate, never a loss.
  await until('30 webhooks', async () => new Set(deliveries.map((d) => d.file_id)).size >= 30, 30_000);
  for (const id of ids) {
    const got = deliveries.filter((d) => d.file_id === id);
    assert.ok(got.length >= 1 && got.length <= 2, `task ${id}: ${got.length} deliveries`);
    assert.ok(got.every((d) => d.file_status === 'done'));
  }
  assert.ok(deliveries.length <= 31, `at most one duplicate (${deliveries.length} deliveries)`);
  const recorded = await query<{ webhook_status: string }>(`SELECT DISTINCT webhook_status FROM tasks WHERE id = ANY($1)`, [ids]);
  assert.deepEqual(recorded, [{ webhook_status: 'sent' }]);

  // Any replica lists the same tasks and serves any result, whoever processed it.
  const lists = await Promise.all(survivors.map(async (r) => ((await (await fetch(`${r.url}/v1/task/list?limit=100`)).json()) as { items: { id: string }[] }).items.map((t) => t.id)));
  assert.deepEqual(lists[0], lists[1]);
  assert.deepEqual([...lists[0]!].sort(), [...ids].sort());
  for (const id of ids.slice(0, 6)) {
    for (const r of survivors) {
      const res = await fetch(`${r.url}/v1/file/${id}/anonymised`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'image/jpeg');
      await res.arrayBuffer();
    }
  }
  // Delete through one replica; the other answers 404 and the files are gone from the shared folder.
  const gone = ids[0]!;
  const task = (await (await fetch(`${survivors[1]!.url}/v1/task/${gone}`)).json()) as { id: string };
  assert.equal(task.id, gone);
  assert.equal((await fetch(`${survivors[0]!.url}/v1/task/${gone}`, { method: 'DELETE' })).status, 200);
  assert.equal((await fetch(`${survivors[1]!.url}/v1/task/${gone}`)).status, 404);
  assert.equal((await fetch(`${survivors[1]!.url}/v1/file/${gone}/anonymised`)).status, 404);
  assert.equal(await exists(join(root, 'output', gone)), false);
  assert.equal(await exists(join(root, 'input', gone)), false);
  // The killed replica drops out of the cluster list once its heartbeat is older than two leases.
  const s = await until('2 replicas seen', async () => {
    const s = await status(survivors[0]!);
    return s.cluster.replicas.length === 2 && s;
  });
  assert.ok(!s.cluster.replicas.some((r: { id: string }) => r.id.includes(`-${victim.pid}-`)));
});

test('sync requests sent to one replica are answered there when other replicas process them', async () => {
  const [front] = alive();
  const answers = await Promise.all(Array.from({ length: 5 }, () => upload(front!, small, { sync: true })));
  const bodies = await Promise.all(answers.map(async (r) => ({ status: r.status, body: (await r.json()) as { id: string; status: string; anonymised_link?: string } })));
  for (const b of bodies) {
    assert.equal(b.status, 200);
    assert.equal(b.body.status, 'done');
  }
  const owners = await query<{ owner: string }>(`SELECT owner FROM tasks WHERE id = ANY($1)`, [bodies.map((b) => b.body.id)]);
  const elsewhere = owners.filter((o) => !o.owner.includes(`-${front!.pid}-`)).length;
  assert.ok(elsewhere >= 1, `at least one of the 5 ran on another replica (${elsewhere})`);
});

test('a task deleted through another replica than the one running it stops there and gets one "deleted" webhook, no "failed" one', async () => {
  deliveries.length = 0;
  const res = await upload(alive()[0]!, large, { webhook: true });
  assert.equal(res.status, 202);
  const { id } = (await res.json()) as { id: string };
  const running = await until('the task processing', async () => (await query<{ owner: string }>(`SELECT owner FROM tasks WHERE id = $1 AND status = 'processing'`, [id]))[0]);
  const owner = alive().find((r) => running.owner.includes(`-${r.pid}-`))!;
  const other = alive().find((r) => r !== owner)!;
  assert.equal((await fetch(`${other.url}/v1/task/${id}`, { method: 'DELETE' })).status, 200);
  await until('the deleted webhook', async () => deliveries.some((d) => d.file_id === id), 30_000);
  // The owner stops, and neither records a failure nor sends a second webhook.
  await until('the owner idle', async () => (await status(owner)).replica.running === 0, 60_000);
  await new Promise((r) => setTimeout(r, 1000));
  assert.deepEqual(deliveries.filter((d) => d.file_id === id).map((d) => d.file_status), ['deleted']);
  assert.equal((await fetch(`${owner.url}/v1/task/${id}`)).status, 404);
  assert.equal(await exists(join(root, 'output', id)), false);
});
