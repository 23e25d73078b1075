// Throughput of 1, 2 and 3 replicas (real server processes) on one PostgreSQL and one folder, and what the
// database costs per task. Run alone: `node --import tsx bench/replicas.ts`; also part of `npm run bench`
// (BENCH_REPLICAS=0 skips it). Not a test: numbers depend on the machine and on what else runs on it.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import sharp from 'sharp';
import { startPostgres } from '../test/helpers/postgres.ts';
import { startReplica, type Replica } from '../test/helpers/replicas.ts';
import { postgresBackend } from '../src/tasks/pg/store.ts';
import { sqliteBackend } from '../src/tasks/store.ts';
import type { TaskBackend } from '../src/tasks/ports.ts';
import { DEFAULT_PARAMS } from '../src/types.ts';

const TASKS = Number(process.env.BENCH_REPLICA_TASKS ?? 24);
const IMAGE_WIDTH = Number(process.env.BENCH_REPLICA_WIDTH ?? 640);

async function stats(url: string): Promise<{ xacts: number; tupUpd: number; tupIns: number }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    // Counters are flushed to the stats system when a backend goes idle: ask for a fresh snapshot.
    await c.query('SELECT pg_stat_clear_snapshot()');
    const r = await c.query<{ xact_commit: string; tup_updated: string; tup_inserted: string }>('SELECT xact_commit, tup_updated, tup_inserted FROM pg_stat_database WHERE datname = current_database()');
    return { xacts: Number(r.rows[0]!.xact_commit), tupUpd: Number(r.rows[0]!.tup_updated), tupIns: Number(r.rows[0]!.tup_inserted) };
  } finally {
    await c.end();
  }
}

/** Counts webhook deliveries: the bench learns that tasks ended without querying the database itself. */
async function webhookReceiver(): Promise<{ url: string; count: () => number; close: () => Promise<void> }> {
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      n++;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    count: () => n,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** The task lifecycle alone (create, claim, progress, finish, webhook claim and record), sequential, without the pipeline. */
async function lifecycle(backend: TaskBackend, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const id = `bench-${i}-${Math.random().toString(36).slice(2)}`;
    await backend.tasks.create({ id, dialect: 'celantur', name: 'a.jpg', kind: 'image', mime: 'image/jpeg', params: DEFAULT_PARAMS, inputPath: `/in/${id}/a.jpg`, outputDir: `/out/${id}`, stem: 'a', webhook: { url: 'http://hooks.test/' } }, { queueLimit: 1_000_000 });
    const t = await backend.queue.claim('bench', 30_000);
    await backend.tasks.setProgress(t!.id, 1, 1);
    await backend.tasks.finish(t!.id, 'bench', { anonymised: 'a.jpg' }, 0);
    await backend.tasks.claimWebhook(t!.id, 'bench', 30_000);
    await backend.tasks.setWebhookStatus(t!.id, 'sent');
  }
  return (performance.now() - t0) / n;
}

export async function benchReplicas(): Promise<string[]> {
  const lines: string[] = [];
  const db = await startPostgres();
  const image = await sharp(await readFile(new URL('../test/fixtures/faces.jpg', import.meta.url))).resize(IMAGE_WIDTH).jpeg().toBuffer();
  try {
    lines.push(`replicas: ${TASKS} async uploads of a ${IMAGE_WIDTH} px JPEG (faces only, CPU), round-robin; ${cpus().length} cores shared by every replica and PostgreSQL`);
    let one = 0;
    for (const n of [1, 2, 3]) {
      const url = await db.newDatabase();
      const root = await mkdtemp(join(tmpdir(), 'anonymiser-bench-replicas-'));
      let replicas: Replica[] = [];
      try {
        replicas = await Promise.all(Array.from({ length: n }, () => startReplica(url, root, ['--queue-limit', '1000'])));
        // Warm-up: the first inference of each replica allocates.
        await Promise.all(replicas.map((r) => fetch(`${r.url}/v1/file`, { method: 'POST', body: new Uint8Array(image), headers: { 'content-type': 'image/jpeg' } }).then((x) => x.text())));
        const idle0 = await stats(url);
        await new Promise((r) => setTimeout(r, 5000));
        const idle1 = await stats(url);
        const hook = await webhookReceiver();
        const before = await stats(url);
        const t0 = performance.now();
        await Promise.all(
          Array.from({ length: TASKS }, async (_, i) => {
            const res = await fetch(`${replicas[i % n]!.url}/v1/file?webhook=${encodeURIComponent(hook.url)}`, { method: 'POST', body: new Uint8Array(image), headers: { 'content-type': 'image/jpeg', 'x-is-async': '1' } });
            await res.text();
          }),
        );
        while (hook.count() < TASKS) await new Promise((r) => setTimeout(r, 50));
        const seconds = (performance.now() - t0) / 1000;
        await new Promise((r) => setTimeout(r, 200)); // the last webhook's outcome is recorded after the answer
        const after = await stats(url);
        await hook.close();
        const rate = TASKS / seconds;
        if (n === 1) one = rate;
        const perTask = (after.xacts - before.xacts) / TASKS;
        lines.push(
          `replicas: ${n} replica(s): ${rate.toFixed(2)} tasks/s (${(rate / one).toFixed(2)}× one replica), ${seconds.toFixed(1)} s for ${TASKS}; ` +
            `database: ${perTask.toFixed(1)} transactions per task while busy (the replicas' polling and heartbeats included: they grow with the time a task takes), idle ${((idle1.xacts - idle0.xacts) / 5).toFixed(1)} transactions/s for ${n} replica(s)`,
        );
      } finally {
        await Promise.allSettled(replicas.map((r) => r.stop()));
        await rm(root, { recursive: true, force: true });
      }
    }
    lines.push('replicas: on one 2-core machine the replicas share the same cores, so more replicas cannot add compute; the figure shows the cost of coordination, not the gain of more machines (each replica on its own host/GPU adds its own compute)');
    const url = await db.newDatabase();
    const pgb = await postgresBackend(url, { poolSize: 2 });
    const dir = await mkdtemp(join(tmpdir(), 'anonymiser-bench-sqlite-'));
    const sq = sqliteBackend(join(dir, 'tasks.sqlite'));
    try {
      await lifecycle(pgb, 20);
      await lifecycle(sq, 20);
      const s0 = await stats(url);
      const pgMs = await lifecycle(pgb, 300);
      const s1 = await stats(url);
      const sqMs = await lifecycle(sq, 300);
      lines.push(
        `replicas: database cost of one task's lifecycle alone (create with queue-limit check, claim, progress, finish, webhook claim and record; 300 in a row, loopback): ` +
          `PostgreSQL ${pgMs.toFixed(2)} ms and ${((s1.xacts - s0.xacts) / 300).toFixed(1)} transactions per task, SQLite ${sqMs.toFixed(2)} ms`,
      );
    } finally {
      await pgb.close();
      await sq.close();
      await rm(dir, { recursive: true, force: true });
    }
  } finally {
    await db.stop();
  }
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of await benchReplicas()) console.log(line);
}
