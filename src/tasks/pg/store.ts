// Tasks, queue, replica registry and signals in PostgreSQL, shared by every replica (--database-url).
// Work is claimed with SELECT … FOR UPDATE SKIP LOCKED and a lease that the claimer's heartbeat renews; a
// replica that stops beating loses its tasks to the others. Signals travel by LISTEN/NOTIFY. Times come from
// the database's clock, so that replicas on different hosts agree on when a lease ran out.
import pg from 'pg';
import { QueueFullError } from '../../errors.ts';
import type { ProcessParams } from '../../types.ts';
import type { MediaKind } from '../../pipeline/sniff.ts';
import type { MediaInfo } from '../../pipeline/video/ffmpeg.ts';
import type { DialectState, FailureReason, NewTask, Task, TaskOutputs, TaskStatus, WebhookStatus } from '../task.ts';
import type { ClusterRegistry, CompletionSignals, JobQueue, ReplicaInfo, TaskBackend, TaskRepository, TaskSignal } from '../ports.ts';

/** Advisory lock keys (any two fixed numbers): migrations, and the queue-limit check at insert. */
const MIGRATION_LOCK = 7_215_001;
const INTAKE_LOCK = 7_215_002;
const CHANNEL = 'anonymiser_tasks';

/** Numbered, append-only: each runs once, inside the migration lock, recorded in schema_migrations. */
const MIGRATIONS: string[] = [
  `CREATE TABLE tasks (
     seq BIGSERIAL PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     dialect TEXT NOT NULL,
     name TEXT NOT NULL,
     kind TEXT NOT NULL,
     mime TEXT NOT NULL,
     status TEXT NOT NULL,
     error TEXT,
     error_code TEXT,
     warnings JSONB NOT NULL DEFAULT '[]',
     params JSONB NOT NULL,
     input_path TEXT NOT NULL,
     output_dir TEXT NOT NULL,
     stem TEXT NOT NULL,
     outputs JSONB NOT NULL DEFAULT '{}',
     webhook_url TEXT,
     webhook_header_name TEXT,
     webhook_header_value TEXT,
     webhook_status TEXT NOT NULL DEFAULT 'empty',
     webhook_owner TEXT,
     webhook_claim_until TIMESTAMPTZ,
     progress_done INTEGER NOT NULL DEFAULT 0,
     progress_total INTEGER NOT NULL DEFAULT 0,
     detection_count INTEGER,
     attempts INTEGER NOT NULL DEFAULT 0,
     owner TEXT,
     lease_until TIMESTAMPTZ,
     upload_time TIMESTAMPTZ NOT NULL DEFAULT now(),
     start_time TIMESTAMPTZ,
     end_time TIMESTAMPTZ,
     delete_time TIMESTAMPTZ
   );
   CREATE INDEX tasks_queued ON tasks (seq) WHERE status = 'queued';
   CREATE INDEX tasks_processing ON tasks (lease_until) WHERE status = 'processing';
   CREATE INDEX tasks_status ON tasks (status);
   CREATE INDEX tasks_webhooks ON tasks (seq) WHERE webhook_status = 'set';
   CREATE TABLE replicas (
     id TEXT PRIMARY KEY,
     host TEXT NOT NULL,
     started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
     last_seen TIMESTAMPTZ NOT NULL DEFAULT now(),
     concurrency INTEGER NOT NULL,
     running INTEGER NOT NULL
   );`,
  // Dialect state (Maskit, PEKAT), the upload's probe (videos), the token that created the task (accounts).
  // created_by is not the lease owner (owner).
  `ALTER TABLE tasks ADD COLUMN dialect_state JSONB NOT NULL DEFAULT '{}';
   ALTER TABLE tasks ADD COLUMN probe JSONB;
   ALTER TABLE tasks ADD COLUMN created_by TEXT;
   CREATE INDEX tasks_done_dialect ON tasks (dialect, end_time) WHERE status = 'done';`,
];

interface Row {
  id: string;
  dialect: string;
  name: string;
  kind: string;
  mime: string;
  status: string;
  error: string | null;
  error_code: string | null;
  warnings: string[];
  params: ProcessParams;
  input_path: string;
  output_dir: string;
  stem: string;
  outputs: TaskOutputs;
  webhook_url: string | null;
  webhook_header_name: string | null;
  webhook_header_value: string | null;
  webhook_status: string;
  progress_done: number;
  progress_total: number;
  detection_count: number | null;
  attempts: number;
  upload_time: Date;
  start_time: Date | null;
  end_time: Date | null;
  delete_time: Date | null;
  dialect_state: DialectState;
  probe: MediaInfo | null;
  created_by: string | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function toTask(r: Row): Task {
  return {
    id: r.id,
    dialect: r.dialect,
    name: r.name,
    kind: r.kind as MediaKind,
    mime: r.mime,
    status: r.status as TaskStatus,
    error: r.error,
    errorCode: r.error_code,
    warnings: r.warnings,
    params: r.params,
    inputPath: r.input_path,
    outputDir: r.output_dir,
    stem: r.stem,
    outputs: r.outputs,
    webhook: r.webhook_url
      ? { url: r.webhook_url, headerName: r.webhook_header_name ?? undefined, headerValue: r.webhook_header_value ?? undefined }
      : null,
    webhookStatus: r.webhook_status as WebhookStatus,
    progressDone: r.progress_done,
    progressTotal: r.progress_total,
    detectionCount: r.detection_count,
    attempts: r.attempts,
    uploadTime: r.upload_time.toISOString(),
    startTime: iso(r.start_time),
    endTime: iso(r.end_time),
    deleteTime: iso(r.delete_time),
    dialectState: r.dialect_state,
    probe: r.probe,
    createdBy: r.created_by,
  };
}

/** Runs the migrations not yet applied; replicas starting together wait on one advisory lock. */
export async function migrate(pool: pg.Pool): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
    const done = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    let applied = 0;
    for (const [i, sql] of MIGRATIONS.entries()) {
      const version = i + 1;
      if (done.has(version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
        await client.query('COMMIT');
        applied++;
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
}

const INSERT = `INSERT INTO tasks (id, dialect, name, kind, mime, status, params, input_path, output_dir, stem, webhook_url,
    webhook_header_name, webhook_header_value, webhook_status, warnings, error, error_code, end_time, dialect_state, probe, created_by)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, CASE WHEN $6 = 'failed' THEN now() END, $18, $19, $20)
  RETURNING *`;

function insertArgs(t: NewTask, status: 'queued' | 'failed', reason?: FailureReason): unknown[] {
  return [
    t.id, t.dialect, t.name, t.kind, t.mime, status, JSON.stringify(t.params), t.inputPath, t.outputDir, t.stem,
    t.webhook?.url ?? null, t.webhook?.headerName ?? null, t.webhook?.headerValue ?? null, t.webhook ? 'set' : 'empty',
    JSON.stringify(t.warnings ?? []), reason?.message ?? null, reason?.code ?? null,
    JSON.stringify(t.dialectState ?? {}), t.probe ? JSON.stringify(t.probe) : null, t.createdBy ?? null,
  ];
}

export class PgTaskStore implements TaskRepository, JobQueue, ClusterRegistry {
  constructor(private readonly pool: pg.Pool) {}

  private async one(sql: string, args: unknown[]): Promise<Task | undefined> {
    const r = await this.pool.query<Row>(sql, args);
    return r.rows[0] ? toTask(r.rows[0]) : undefined;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  async create(t: NewTask, opts: { queueLimit?: number; retryAfterS?: number } = {}): Promise<{ task: Task; depth: number }> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // Inserts wait on one lock for the count and the insert: the limit holds across replicas.
      if (opts.queueLimit !== undefined) await client.query('SELECT pg_advisory_xact_lock($1)', [INTAKE_LOCK]);
      const before = Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM tasks WHERE status = 'queued'`)).rows[0].n);
      if (opts.queueLimit !== undefined && before >= opts.queueLimit) throw new QueueFullError(opts.retryAfterS ?? 1, opts.queueLimit);
      const r = await client.query<Row>(INSERT, insertArgs(t, 'queued'));
      await client.query('COMMIT');
      return { task: toTask(r.rows[0]), depth: before + 1 };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async createFailed(t: NewTask, reason: FailureReason): Promise<Task> {
    return (await this.one(INSERT, insertArgs(t, 'failed', reason)))!;
  }

  get(id: string): Promise<Task | undefined> {
    return this.one('SELECT * FROM tasks WHERE id = $1', [id]);
  }

  async list(page: number, limit: number, status?: TaskStatus, createdBy?: string): Promise<{ total: number; items: Task[] }> {
    const args: string[] = [];
    const conditions: string[] = [];
    if (status) conditions.push(`status = $${args.push(status)}`);
    if (createdBy !== undefined) conditions.push(`created_by = $${args.push(createdBy)}`);
    const where = conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
    const total = Number((await this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM tasks ${where}`, args)).rows[0].n);
    const n = args.length;
    const rows = await this.pool.query<Row>(`SELECT * FROM tasks ${where} ORDER BY seq DESC LIMIT $${n + 1} OFFSET $${n + 2}`, [...args, limit, (page - 1) * limit]);
    return { total, items: rows.rows.map(toTask) };
  }

  async allIds(createdBy?: string): Promise<string[]> {
    if (createdBy !== undefined) return (await this.pool.query<{ id: string }>('SELECT id FROM tasks WHERE created_by = $1 ORDER BY seq', [createdBy])).rows.map((r) => r.id);
    return (await this.pool.query<{ id: string }>('SELECT id FROM tasks ORDER BY seq')).rows.map((r) => r.id);
  }

  async setProgress(id: string, done: number, total: number): Promise<void> {
    await this.pool.query('UPDATE tasks SET progress_done = $2, progress_total = $3 WHERE id = $1', [id, done, total]);
  }

  finish(id: string, owner: string, outputs: TaskOutputs, detectionCount: number | null): Promise<Task | undefined> {
    return this.one(
      `UPDATE tasks SET status = 'done', outputs = $3, detection_count = $4, end_time = now(), lease_until = NULL
       WHERE id = $1 AND status = 'processing' AND owner = $2 RETURNING *`,
      [id, owner, JSON.stringify(outputs), detectionCount],
    );
  }

  fail(id: string, reason: FailureReason, owner?: string): Promise<Task | undefined> {
    return this.one(
      `UPDATE tasks SET status = 'failed', error = $2, error_code = $3, end_time = now(), lease_until = NULL
       WHERE id = $1 AND (status = 'queued' OR (status = 'processing' AND ($4::text IS NULL OR owner = $4))) RETURNING *`,
      [id, reason.message, reason.code, owner ?? null],
    );
  }

  markDeleted(id: string): Promise<Task | undefined> {
    return this.one(`UPDATE tasks SET status = 'deleted', delete_time = now(), outputs = '{}', owner = NULL, lease_until = NULL WHERE id = $1 RETURNING *`, [id]);
  }

  mergeDialectState(id: string, patch: DialectState): Promise<Task | undefined> {
    return this.one('UPDATE tasks SET dialect_state = dialect_state || $2::jsonb WHERE id = $1 RETURNING *', [id, JSON.stringify(patch)]);
  }

  async doneBefore(dialect: string, isoTime: string): Promise<Task[]> {
    const r = await this.pool.query<Row>(`SELECT * FROM tasks WHERE status = 'done' AND dialect = $1 AND end_time < $2::timestamptz ORDER BY seq`, [dialect, isoTime]);
    return r.rows.map(toTask);
  }

  async remove(id: string): Promise<void> {
    await this.pool.query('DELETE FROM tasks WHERE id = $1', [id]);
  }

  async countByStatus(): Promise<Record<TaskStatus, number>> {
    const counts: Record<TaskStatus, number> = { queued: 0, processing: 0, done: 0, failed: 0, deleted: 0 };
    const r = await this.pool.query<{ status: TaskStatus; n: string }>('SELECT status, count(*) AS n FROM tasks GROUP BY status');
    for (const row of r.rows) counts[row.status] = Number(row.n);
    return counts;
  }

  async claimWebhook(id: string, owner: string, leaseMs: number): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE tasks SET webhook_owner = $2, webhook_claim_until = now() + $3 * interval '1 millisecond'
       WHERE id = $1 AND webhook_status = 'set' AND (webhook_claim_until IS NULL OR webhook_claim_until < now())`,
      [id, owner, leaseMs],
    );
    return r.rowCount === 1;
  }

  async setWebhookStatus(id: string, status: WebhookStatus): Promise<void> {
    await this.pool.query('UPDATE tasks SET webhook_status = $2, webhook_owner = NULL, webhook_claim_until = NULL WHERE id = $1', [id, status]);
  }

  async pendingWebhooks(): Promise<Task[]> {
    const r = await this.pool.query<Row>(
      `SELECT * FROM tasks WHERE webhook_status = 'set' AND status IN ('done','failed','deleted')
         AND (webhook_claim_until IS NULL OR webhook_claim_until < now()) ORDER BY seq LIMIT 100`,
    );
    return r.rows.map(toTask);
  }

  // ---- JobQueue ----

  claim(owner: string, leaseMs: number): Promise<Task | undefined> {
    return this.one(
      `UPDATE tasks SET status = 'processing', owner = $1, lease_until = now() + $2 * interval '1 millisecond', start_time = now(),
         attempts = attempts + 1, error = NULL, error_code = NULL
       WHERE seq = (SELECT seq FROM tasks WHERE status = 'queued' ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [owner, leaseMs],
    );
  }

  async heartbeat(owner: string, leaseMs: number): Promise<string[]> {
    await this.pool.query(
      `UPDATE tasks SET webhook_claim_until = now() + $2 * interval '1 millisecond' WHERE webhook_owner = $1 AND webhook_status = 'set'`,
      [owner, leaseMs],
    );
    const r = await this.pool.query<{ id: string }>(
      `UPDATE tasks SET lease_until = now() + $2 * interval '1 millisecond' WHERE owner = $1 AND status = 'processing' RETURNING id`,
      [owner, leaseMs],
    );
    return r.rows.map((x) => x.id);
  }

  async release(id: string, owner: string): Promise<void> {
    await this.pool.query(
      `UPDATE tasks SET status = 'queued', progress_done = 0, attempts = GREATEST(0, attempts - 1), owner = NULL, lease_until = NULL
       WHERE id = $1 AND status = 'processing' AND owner = $2`,
      [id, owner],
    );
  }

  async recover(opts: { all: boolean; except: string; maxAttempts: number }): Promise<{ requeued: string[]; failed: Task[] }> {
    const lost = opts.all ? `owner IS DISTINCT FROM $1` : `lease_until < now() AND $1::text IS NOT NULL`;
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const failed = await client.query<Row>(
        `UPDATE tasks SET status = 'failed', error_code = 'crashed_repeatedly',
           error = 'the server stopped ' || attempts || ' times while processing this file; not retried again',
           end_time = now(), owner = NULL, lease_until = NULL
         WHERE status = 'processing' AND ${lost} AND attempts >= $2 RETURNING *`,
        [opts.except, opts.maxAttempts],
      );
      const requeued = await client.query<{ id: string }>(
        `UPDATE tasks SET status = 'queued', progress_done = 0, owner = NULL, lease_until = NULL
         WHERE status = 'processing' AND ${lost} RETURNING id`,
        [opts.except],
      );
      await client.query('COMMIT');
      return { requeued: requeued.rows.map((r) => r.id), failed: failed.rows.map(toTask) };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async depth(): Promise<number> {
    return Number((await this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM tasks WHERE status = 'queued'`)).rows[0].n);
  }

  // ---- ClusterRegistry ----

  async beat(r: Omit<ReplicaInfo, 'lastSeen' | 'startedAt'>): Promise<void> {
    await this.pool.query(
      `INSERT INTO replicas (id, host, concurrency, running) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET last_seen = now(), running = EXCLUDED.running`,
      [r.id, r.host, r.concurrency, r.running],
    );
    // Replicas gone for a day are forgotten.
    await this.pool.query(`DELETE FROM replicas WHERE last_seen < now() - interval '1 day'`);
  }

  async replicas(seenWithinMs: number): Promise<ReplicaInfo[]> {
    const r = await this.pool.query<{ id: string; host: string; started_at: Date; last_seen: Date; concurrency: number; running: number }>(
      `SELECT * FROM replicas WHERE last_seen >= now() - $1 * interval '1 millisecond' ORDER BY started_at`,
      [seenWithinMs],
    );
    return r.rows.map((x) => ({ id: x.id, host: x.host, startedAt: x.started_at.toISOString(), lastSeen: x.last_seen.toISOString(), concurrency: x.concurrency, running: x.running }));
  }

  async leave(id: string): Promise<void> {
    await this.pool.query('DELETE FROM replicas WHERE id = $1', [id]);
  }
}

/** LISTEN/NOTIFY on one dedicated connection; reconnects after a lost connection (polling covers the gap). */
export class PgSignals implements CompletionSignals {
  private client: pg.Client | null = null;
  private readonly listeners = new Set<(id: string, signal: TaskSignal) => void>();
  private closed = false;

  constructor(private readonly pool: pg.Pool, private readonly config: pg.ClientConfig) {}

  async connect(): Promise<void> {
    const client = new pg.Client(this.config);
    client.on('notification', (msg) => {
      const [signal, id] = String(msg.payload ?? '').split(':', 2) as [TaskSignal, string];
      if (!id) return;
      for (const l of this.listeners) l(id, signal);
    });
    client.on('error', () => {
      this.client = null;
      client.end().catch(() => undefined);
      if (!this.closed) setTimeout(() => void this.connect().catch(() => undefined), 1000).unref();
    });
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.client = client;
  }

  async publish(id: string, signal: TaskSignal): Promise<void> {
    await this.pool.query('SELECT pg_notify($1, $2)', [CHANNEL, `${signal}:${id}`]);
  }

  subscribe(listener: (id: string, signal: TaskSignal) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    await this.client?.end().catch(() => undefined);
  }
}

/** Connects, migrates (under the advisory lock) and listens. */
export async function postgresBackend(url: string, opts: { poolSize?: number } = {}): Promise<TaskBackend & { pool: pg.Pool; migrated: number }> {
  const config: pg.PoolConfig = { connectionString: url, max: opts.poolSize ?? 10, connectionTimeoutMillis: 10_000 };
  const pool = new pg.Pool(config);
  pool.on('error', () => undefined); // an idle client lost its connection: the pool replaces it
  try {
    const migrated = await migrate(pool);
    const store = new PgTaskStore(pool);
    const signals = new PgSignals(pool, { connectionString: url });
    await signals.connect();
    return {
      kind: 'postgres',
      shared: true,
      tasks: store,
      queue: store,
      cluster: store,
      signals,
      pool,
      migrated,
      async close() {
        await signals.close();
        await pool.end();
      },
    };
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new Error(`--database-url: ${(err as Error).message}`);
  }
}
