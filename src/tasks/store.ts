// Task records, queue and replica registry in SQLite (WAL): the one-host backend. The only module that writes
// SQLite SQL; PostgreSQL's counterpart is pg/store.ts. Both pass test/tasks/contract/.
import type { MediaInfo } from '../pipeline/video/ffmpeg.ts';
import type Database from 'better-sqlite3';
import { openSqliteFile } from '../db/sqlite.ts';
import { hostname } from 'node:os';
import type { ProcessParams } from '../types.ts';
import type { MediaKind } from '../pipeline/sniff.ts';
import { QueueFullError } from '../errors.ts';
import type { DialectState, FailureReason, NewTask, Task, TaskOutputs, TaskStatus, WebhookStatus } from './task.ts';
import type { ClusterRegistry, JobQueue, ReplicaInfo, TaskRepository } from './ports.ts';
import { LocalSignals } from './signals.ts';

export type { DialectState, FailureReason, NewTask, Task, TaskOutputs, TaskStatus, WebhookStatus, WebhookTarget } from './task.ts';

interface Row {
  id: string;
  dialect: string;
  name: string;
  kind: string;
  mime: string;
  status: string;
  error: string | null;
  error_code: string | null;
  warnings: string;
  dialect_state: string;
  params: string;
  input_path: string;
  output_dir: string;
  stem: string;
  outputs: string;
  webhook_url: string | null;
  webhook_header_name: string | null;
  webhook_header_value: string | null;
  webhook_status: string;
  progress_done: number;
  progress_total: number;
  detection_count: number | null;
  attempts: number;
  upload_time: string;
  start_time: string | null;
  end_time: string | null;
  delete_time: string | null;
  probe: string | null;
  created_by: string | null;
  seq: number;
  owner: string | null;
  lease_until: number | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tasks (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  mime TEXT NOT NULL,
  status TEXT NOT NULL,
  error TEXT,
  params TEXT NOT NULL,
  input_path TEXT NOT NULL,
  output_dir TEXT NOT NULL,
  stem TEXT NOT NULL,
  outputs TEXT NOT NULL DEFAULT '{}',
  webhook_url TEXT,
  webhook_header_name TEXT,
  webhook_header_value TEXT,
  webhook_status TEXT NOT NULL DEFAULT 'empty',
  progress_done INTEGER NOT NULL DEFAULT 0,
  progress_total INTEGER NOT NULL DEFAULT 0,
  detection_count INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,
  upload_time TEXT NOT NULL,
  start_time TEXT,
  end_time TEXT,
  delete_time TEXT
);
CREATE INDEX IF NOT EXISTS tasks_status ON tasks(status);
CREATE TABLE IF NOT EXISTS replicas (
  id TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  started_at TEXT NOT NULL,
  last_seen INTEGER NOT NULL,
  concurrency INTEGER NOT NULL,
  running INTEGER NOT NULL
);
`;

/** Columns added after the first release: ALTER TABLE brings older database files up to date at open. */
const ADDED_COLUMNS: { name: string; definition: string }[] = [
  // Every task before dialects existed came through the Celantur API.
  { name: 'dialect', definition: "TEXT NOT NULL DEFAULT 'celantur'" },
  { name: 'error_code', definition: 'TEXT' },
  { name: 'warnings', definition: "TEXT NOT NULL DEFAULT '[]'" },
  // Leases (issue 15): who processes a task and until when (epoch ms), who sends its webhook.
  { name: 'owner', definition: 'TEXT' },
  { name: 'lease_until', definition: 'INTEGER' },
  { name: 'webhook_owner', definition: 'TEXT' },
  { name: 'webhook_claim_until', definition: 'INTEGER' },
  { name: 'dialect_state', definition: "TEXT NOT NULL DEFAULT '{}'" },
  // The upload's probe (videos), so that the pipeline does not run ffprobe a second time.
  { name: 'probe', definition: 'TEXT' },
  // Accounts (issue 13): the token that created the task; tokens see only their own tasks.
  { name: 'created_by', definition: 'TEXT' },
];

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
    warnings: JSON.parse(r.warnings) as string[],
    dialectState: JSON.parse(r.dialect_state) as DialectState,
    params: JSON.parse(r.params) as ProcessParams,
    inputPath: r.input_path,
    outputDir: r.output_dir,
    stem: r.stem,
    outputs: JSON.parse(r.outputs) as TaskOutputs,
    webhook: r.webhook_url
      ? { url: r.webhook_url, headerName: r.webhook_header_name ?? undefined, headerValue: r.webhook_header_value ?? undefined }
      : null,
    webhookStatus: r.webhook_status as WebhookStatus,
    progressDone: r.progress_done,
    progressTotal: r.progress_total,
    detectionCount: r.detection_count,
    attempts: r.attempts,
    uploadTime: r.upload_time,
    startTime: r.start_time,
    endTime: r.end_time,
    deleteTime: r.delete_time,
    probe: r.probe ? (JSON.parse(r.probe) as MediaInfo) : null,
    createdBy: r.created_by ?? null,
  };
}

const now = () => new Date().toISOString();


/** Claims this many ms old count as lost; the SQLite store runs in one process, so only a restart loses them. */
const FINISHED = `('done','failed','deleted')`;

export class SqliteTaskStore implements TaskRepository, JobQueue, ClusterRegistry {
  private readonly db: Database.Database;

  constructor(path: string) {
    this.db = openSqliteFile(path);
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    this.migrate();
  }

  private migrate(): void {
    const have = new Set((this.db.prepare('PRAGMA table_info(tasks)').all() as { name: string }[]).map((c) => c.name));
    for (const c of ADDED_COLUMNS) {
      if (!have.has(c.name)) this.db.exec(`ALTER TABLE tasks ADD COLUMN ${c.name} ${c.definition}`);
    }
  }

  async close(): Promise<void> {
    this.db.close();
  }

  private row(sql: string, ...args: unknown[]): Task | undefined {
    const r = this.db.prepare(sql).get(...args) as Row | undefined;
    return r ? toTask(r) : undefined;
  }

  private insertRow(t: NewTask, status: 'queued' | 'failed', reason?: FailureReason): Task {
    const r = this.db
      .prepare(
        `INSERT INTO tasks (id, dialect, name, kind, mime, status, params, input_path, output_dir, stem, webhook_url,
           webhook_header_name, webhook_header_value, webhook_status, upload_time, warnings, error, error_code, end_time,
           dialect_state, probe, created_by)
         VALUES (@id, @dialect, @name, @kind, @mime, @status, @params, @inputPath, @outputDir, @stem, @webhookUrl,
           @headerName, @headerValue, @webhookStatus, @uploadTime, @warnings, @error, @errorCode, @endTime,
           @dialectState, @probe, @createdBy)
         RETURNING *`,
      )
      .get({
        id: t.id,
        dialect: t.dialect,
        name: t.name,
        kind: t.kind,
        mime: t.mime,
        status,
        params: JSON.stringify(t.params),
        inputPath: t.inputPath,
        outputDir: t.outputDir,
        stem: t.stem,
        webhookUrl: t.webhook?.url ?? null,
        headerName: t.webhook?.headerName ?? null,
        headerValue: t.webhook?.headerValue ?? null,
        webhookStatus: t.webhook ? 'set' : 'empty',
        uploadTime: now(),
        warnings: JSON.stringify(t.warnings ?? []),
        error: reason?.message ?? null,
        errorCode: reason?.code ?? null,
        endTime: reason ? now() : null,
        dialectState: JSON.stringify(t.dialectState ?? {}),
        probe: t.probe ? JSON.stringify(t.probe) : null,
        createdBy: t.createdBy ?? null,
      }) as Row;
    return toTask(r);
  }

  private queuedCount(): number {
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM tasks WHERE status = 'queued'`).get() as { n: number }).n;
  }

  async create(t: NewTask, opts: { queueLimit?: number; retryAfterS?: number } = {}): Promise<{ task: Task; depth: number }> {
    return this.db.transaction(() => {
      const before = this.queuedCount();
      if (opts.queueLimit !== undefined && before >= opts.queueLimit) throw new QueueFullError(opts.retryAfterS ?? 1, opts.queueLimit);
      return { task: this.insertRow(t, 'queued'), depth: before + 1 };
    }).immediate();
  }

  async createFailed(t: NewTask, reason: FailureReason): Promise<Task> {
    return this.insertRow(t, 'failed', reason);
  }

  async get(id: string): Promise<Task | undefined> {
    return this.row('SELECT * FROM tasks WHERE id = ?', id);
  }

  /** `createdBy`: only that token's tasks (accounts, issue 13). */
  async list(page: number, limit: number, status?: TaskStatus, createdBy?: string): Promise<{ total: number; items: Task[] }> {
    const conditions = [status ? 'status = @status' : '', createdBy !== undefined ? 'created_by = @createdBy' : ''].filter(Boolean);
    const where = conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM tasks ${where}`).get({ status, createdBy }) as { n: number }).n;
    const rows = this.db
      .prepare(`SELECT * FROM tasks ${where} ORDER BY seq DESC LIMIT @limit OFFSET @offset`)
      .all({ status, createdBy, limit, offset: (page - 1) * limit }) as Row[];
    return { total, items: rows.map(toTask) };
  }

  async allIds(createdBy?: string): Promise<string[]> {
    if (createdBy !== undefined) return (this.db.prepare('SELECT id FROM tasks WHERE created_by = ? ORDER BY seq').all(createdBy) as { id: string }[]).map((r) => r.id);
    return (this.db.prepare('SELECT id FROM tasks ORDER BY seq').all() as { id: string }[]).map((r) => r.id);
  }

  async setProgress(id: string, done: number, total: number): Promise<void> {
    this.db.prepare('UPDATE tasks SET progress_done = ?, progress_total = ? WHERE id = ?').run(done, total, id);
  }

  async finish(id: string, owner: string, outputs: TaskOutputs, detectionCount: number | null): Promise<Task | undefined> {
    return this.row(
      `UPDATE tasks SET status = 'done', outputs = ?, detection_count = ?, end_time = ?, lease_until = NULL
       WHERE id = ? AND status = 'processing' AND owner = ? RETURNING *`,
      JSON.stringify(outputs), detectionCount, now(), id, owner,
    );
  }

  async fail(id: string, reason: FailureReason, owner?: string): Promise<Task | undefined> {
    return this.row(
      `UPDATE tasks SET status = 'failed', error = ?, error_code = ?, end_time = ?, lease_until = NULL
       WHERE id = ? AND (status = 'queued' OR (status = 'processing' AND (? IS NULL OR owner = ?))) RETURNING *`,
      reason.message, reason.code, now(), id, owner ?? null, owner ?? null,
    );
  }

  async markDeleted(id: string): Promise<Task | undefined> {
    return this.row(`UPDATE tasks SET status = 'deleted', delete_time = ?, outputs = '{}', owner = NULL, lease_until = NULL WHERE id = ? RETURNING *`, now(), id);
  }

  /** Merges `patch` into the task's dialect state; undefined when there is no such task. */
  async mergeDialectState(id: string, patch: DialectState): Promise<Task | undefined> {
    return this.db.transaction(() => {
      const row = this.db.prepare('SELECT dialect_state FROM tasks WHERE id = ?').get(id) as { dialect_state: string } | undefined;
      if (!row) return undefined;
      const state = { ...(JSON.parse(row.dialect_state) as DialectState), ...patch };
      return this.row('UPDATE tasks SET dialect_state = ? WHERE id = ? RETURNING *', JSON.stringify(state), id);
    }).immediate();
  }

  async doneBefore(dialect: string, isoTime: string): Promise<Task[]> {
    return (
      this.db.prepare(`SELECT * FROM tasks WHERE status = 'done' AND dialect = ? AND end_time < ? ORDER BY seq`).all(dialect, isoTime) as Row[]
    ).map(toTask);
  }

  async remove(id: string): Promise<void> {
    this.db.prepare('DELETE FROM tasks WHERE id = ?').run(id);
  }

  async countByStatus(): Promise<Record<TaskStatus, number>> {
    const counts: Record<TaskStatus, number> = { queued: 0, processing: 0, done: 0, failed: 0, deleted: 0 };
    for (const r of this.db.prepare('SELECT status, COUNT(*) AS n FROM tasks GROUP BY status').all() as { status: TaskStatus; n: number }[]) {
      counts[r.status] = r.n;
    }
    return counts;
  }

  async claimWebhook(id: string, owner: string, leaseMs: number): Promise<boolean> {
    const t = Date.now();
    const r = this.db
      .prepare(
        `UPDATE tasks SET webhook_owner = ?, webhook_claim_until = ?
         WHERE id = ? AND webhook_status = 'set' AND (webhook_claim_until IS NULL OR webhook_claim_until < ?)`,
      )
      .run(owner, t + leaseMs, id, t);
    return r.changes === 1;
  }

  async setWebhookStatus(id: string, status: WebhookStatus): Promise<void> {
    this.db.prepare('UPDATE tasks SET webhook_status = ?, webhook_owner = NULL, webhook_claim_until = NULL WHERE id = ?').run(status, id);
  }

  async pendingWebhooks(): Promise<Task[]> {
    const rows = this.db
      .prepare(
        `SELECT * FROM tasks WHERE webhook_status = 'set' AND status IN ${FINISHED}
           AND (webhook_claim_until IS NULL OR webhook_claim_until < ?) ORDER BY seq`,
      )
      .all(Date.now()) as Row[];
    return rows.map(toTask);
  }

  // ---- JobQueue ----

  async claim(owner: string, leaseMs: number): Promise<Task | undefined> {
    return this.row(
      `UPDATE tasks SET status = 'processing', owner = ?, lease_until = ?, start_time = ?, attempts = attempts + 1, error = NULL, error_code = NULL
       WHERE seq = (SELECT seq FROM tasks WHERE status = 'queued' ORDER BY seq LIMIT 1) RETURNING *`,
      owner, Date.now() + leaseMs, now(),
    );
  }

  async heartbeat(owner: string, leaseMs: number): Promise<string[]> {
    const until = Date.now() + leaseMs;
    this.db.prepare(`UPDATE tasks SET webhook_claim_until = ? WHERE webhook_owner = ? AND webhook_status = 'set'`).run(until, owner);
    const rows = this.db.prepare(`UPDATE tasks SET lease_until = ? WHERE owner = ? AND status = 'processing' RETURNING id`).all(until, owner) as { id: string }[];
    return rows.map((r) => r.id);
  }

  async release(id: string, owner: string): Promise<void> {
    this.db
      .prepare(
        `UPDATE tasks SET status = 'queued', progress_done = 0, attempts = MAX(0, attempts - 1), owner = NULL, lease_until = NULL
         WHERE id = ? AND status = 'processing' AND owner = ?`,
      )
      .run(id, owner);
  }

  async recover(opts: { all: boolean; except: string; maxAttempts: number }): Promise<{ requeued: string[]; failed: Task[] }> {
    return this.db.transaction(() => {
      const lost = opts.all ? `owner IS NOT @except` : `lease_until < @now`;
      const failed = (
        this.db
          .prepare(
            `UPDATE tasks SET status = 'failed', error_code = 'crashed_repeatedly',
               error = 'the server stopped ' || attempts || ' times while processing this file; not retried again',
               end_time = @end, owner = NULL, lease_until = NULL
             WHERE status = 'processing' AND ${lost} AND attempts >= @max RETURNING *`,
          )
          .all({ except: opts.except, now: Date.now(), end: now(), max: opts.maxAttempts }) as Row[]
      ).map(toTask);
      const requeued = (
        this.db
          .prepare(`UPDATE tasks SET status = 'queued', progress_done = 0, owner = NULL, lease_until = NULL WHERE status = 'processing' AND ${lost} RETURNING id`)
          .all({ except: opts.except, now: Date.now() }) as { id: string }[]
      ).map((r) => r.id);
      return { requeued, failed };
    })();
  }

  async depth(): Promise<number> {
    return this.queuedCount();
  }

  // ---- ClusterRegistry (one host: this process, and any that shared the file before) ----

  async beat(r: Omit<ReplicaInfo, 'lastSeen' | 'startedAt'>): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO replicas (id, host, started_at, last_seen, concurrency, running) VALUES (@id, @host, @startedAt, @now, @concurrency, @running)
         ON CONFLICT(id) DO UPDATE SET last_seen = @now, running = @running`,
      )
      .run({ ...r, startedAt: now(), now: Date.now() });
  }

  async replicas(seenWithinMs: number): Promise<ReplicaInfo[]> {
    const rows = this.db.prepare('SELECT * FROM replicas WHERE last_seen >= ? ORDER BY started_at').all(Date.now() - seenWithinMs) as {
      id: string; host: string; started_at: string; last_seen: number; concurrency: number; running: number;
    }[];
    return rows.map((x) => ({ id: x.id, host: x.host, startedAt: x.started_at, lastSeen: new Date(x.last_seen).toISOString(), concurrency: x.concurrency, running: x.running }));
  }

  async leave(id: string): Promise<void> {
    this.db.prepare('DELETE FROM replicas WHERE id = ?').run(id);
  }
}

/** The one-host backend: a SQLite file, signals inside this process. */
export function sqliteBackend(path: string) {
  const store = new SqliteTaskStore(path);
  const signals = new LocalSignals();
  return {
    kind: 'sqlite' as const,
    shared: false,
    tasks: store,
    queue: store,
    cluster: store,
    signals,
    async close() {
      await signals.close();
      await store.close();
    },
  };
}

export const defaultHost = hostname;
