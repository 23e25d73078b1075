// Task records in SQLite (WAL). The only module that writes SQL.
import type { MediaInfo } from '../pipeline/video/ffmpeg.ts';
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ProcessParams } from '../types.ts';
import type { MediaKind } from '../pipeline/sniff.ts';

export type TaskStatus = 'queued' | 'processing' | 'done' | 'failed' | 'deleted';
export type WebhookStatus = 'empty' | 'set' | 'sent' | 'failed';

export interface WebhookTarget {
  url: string;
  headerName?: string;
  headerValue?: string;
}

/** Files a finished task produced, relative to its output folder. */
export interface TaskOutputs {
  anonymised?: string;
  binaryMask?: string;
  instanceMask?: string;
  /** PEKAT's heatmap: the soft anonymisation mask. */
  heatmap?: string;
  metadata?: string;
  videoMetadataDir?: string;
}

/** Why a task failed: a stable code and a short message that is safe to show (no paths, no tool output). */
export interface FailureReason {
  code: string;
  message: string;
}

export interface Task {
  id: string;
  /** The API dialect the task came from (src/http/<dialect>/); it presents the task and notifies its webhook. */
  dialect: string;
  name: string;
  kind: MediaKind;
  mime: string;
  status: TaskStatus;
  /** The failure's message (null unless failed); its code is in `errorCode`. */
  error: string | null;
  errorCode: string | null;
  /** Notes about the request the dialect wants shown with the task (e.g. parameters accepted but ignored). */
  warnings: string[];
  /** Per-task facts only its dialect reads (e.g. Maskit's metadata string and download outcome). */
  dialectState: DialectState;
  params: ProcessParams;
  inputPath: string;
  outputDir: string;
  stem: string;
  outputs: TaskOutputs;
  webhook: WebhookTarget | null;
  webhookStatus: WebhookStatus;
  progressDone: number;
  progressTotal: number;
  detectionCount: number | null;
  attempts: number;
  uploadTime: string;
  startTime: string | null;
  endTime: string | null;
  deleteTime: string | null;
  /** A video's ffprobe result, taken when the upload was checked; the pipeline does not probe again (null: images, older tasks). */
  probe: MediaInfo | null;
  /** The token that created the task (accounts, issue 13); null: the --api-key or no authentication. */
  createdBy: string | null;
}

export interface NewTask {
  id: string;
  dialect: string;
  name: string;
  kind: MediaKind;
  mime: string;
  params: ProcessParams;
  inputPath: string;
  outputDir: string;
  stem: string;
  webhook: WebhookTarget | null;
  warnings?: string[];
  dialectState?: DialectState;
  probe?: MediaInfo;
  createdBy?: string | null;
}

/** JSON-serialisable facts a dialect keeps with a task. */
export type DialectState = Record<string, string | number | boolean | null>;

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
`;

/** Columns added after the first release: ALTER TABLE brings older database files up to date at open. */
const ADDED_COLUMNS: { name: string; definition: string }[] = [
  // Every task before dialects existed came through the Celantur API.
  { name: 'dialect', definition: "TEXT NOT NULL DEFAULT 'celantur'" },
  { name: 'error_code', definition: 'TEXT' },
  { name: 'warnings', definition: "TEXT NOT NULL DEFAULT '[]'" },
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

export class TaskStore {
  private readonly db: Database.Database;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.migrate();
  }

  private migrate(): void {
    const have = new Set((this.db.prepare('PRAGMA table_info(tasks)').all() as { name: string }[]).map((c) => c.name));
    for (const c of ADDED_COLUMNS) {
      if (!have.has(c.name)) this.db.exec(`ALTER TABLE tasks ADD COLUMN ${c.name} ${c.definition}`);
    }
  }

  close(): void {
    this.db.close();
  }

  insert(t: NewTask): Task {
    this.db
      .prepare(
        `INSERT INTO tasks (id, dialect, name, kind, mime, status, params, input_path, output_dir, stem, webhook_url,
           webhook_header_name, webhook_header_value, webhook_status, upload_time, warnings, dialect_state, probe, created_by)
         VALUES (@id, @dialect, @name, @kind, @mime, 'queued', @params, @inputPath, @outputDir, @stem, @webhookUrl,
           @headerName, @headerValue, @webhookStatus, @uploadTime, @warnings, @dialectState, @probe, @createdBy)`,
      )
      .run({
        id: t.id,
        dialect: t.dialect,
        name: t.name,
        kind: t.kind,
        mime: t.mime,
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
        dialectState: JSON.stringify(t.dialectState ?? {}),
        probe: t.probe ? JSON.stringify(t.probe) : null,
        createdBy: t.createdBy ?? null,
      });
    return this.get(t.id)!;
  }

  get(id: string): Task | undefined {
    const row = this.db.prepare('SELECT * FROM tasks WHERE id = ?').get(id) as Row | undefined;
    return row ? toTask(row) : undefined;
  }

  /** `owner`: only that token's tasks (accounts, issue 13). */
  list(page: number, limit: number, status?: TaskStatus, owner?: string): { total: number; items: Task[] } {
    const conditions = [status ? 'status = @status' : '', owner !== undefined ? 'created_by = @owner' : ''].filter(Boolean);
    const where = conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM tasks ${where}`).get({ status, owner }) as { n: number }).n;
    const rows = this.db
      .prepare(`SELECT * FROM tasks ${where} ORDER BY seq DESC LIMIT @limit OFFSET @offset`)
      .all({ status, owner, limit, offset: (page - 1) * limit }) as Row[];
    return { total, items: rows.map(toTask) };
  }

  allIds(owner?: string): string[] {
    if (owner !== undefined) return (this.db.prepare('SELECT id FROM tasks WHERE created_by = ? ORDER BY seq').all(owner) as { id: string }[]).map((r) => r.id);
    return (this.db.prepare('SELECT id FROM tasks ORDER BY seq').all() as { id: string }[]).map((r) => r.id);
  }

  /** Tasks that were accepted but not finished, oldest first: what a restart must run again. */
  unfinished(): Task[] {
    return (this.db.prepare(`SELECT * FROM tasks WHERE status IN ('queued','processing') ORDER BY seq`).all() as Row[]).map(toTask);
  }

  /** Finished tasks whose webhook was never delivered (the process stopped in between). */
  pendingWebhooks(): Task[] {
    return (
      this.db.prepare(`SELECT * FROM tasks WHERE webhook_status = 'set' AND status IN ('done','failed','deleted') ORDER BY seq`).all() as Row[]
    ).map(toTask);
  }

  markProcessing(id: string): boolean {
    const r = this.db
      .prepare(`UPDATE tasks SET status = 'processing', start_time = ?, attempts = attempts + 1, error = NULL, error_code = NULL WHERE id = ? AND status = 'queued'`)
      .run(now(), id);
    return r.changes === 1;
  }

  requeue(id: string): void {
    this.db.prepare(`UPDATE tasks SET status = 'queued', progress_done = 0 WHERE id = ? AND status IN ('processing','queued')`).run(id);
  }

  /** Puts a task stopped by a graceful shutdown back in the queue; that start does not count as an attempt. */
  releaseOnShutdown(id: string): void {
    this.db
      .prepare(`UPDATE tasks SET status = 'queued', progress_done = 0, attempts = MAX(0, attempts - 1) WHERE id = ? AND status = 'processing'`)
      .run(id);
  }

  markDone(id: string, outputs: TaskOutputs, detectionCount: number | null): boolean {
    const r = this.db
      .prepare(`UPDATE tasks SET status = 'done', outputs = ?, detection_count = ?, end_time = ? WHERE id = ? AND status = 'processing'`)
      .run(JSON.stringify(outputs), detectionCount, now(), id);
    return r.changes === 1;
  }

  markFailed(id: string, reason: FailureReason): boolean {
    const r = this.db
      .prepare(`UPDATE tasks SET status = 'failed', error = ?, error_code = ?, end_time = ? WHERE id = ? AND status IN ('queued','processing')`)
      .run(reason.message, reason.code, now(), id);
    return r.changes === 1;
  }

  setProgress(id: string, done: number, total: number): void {
    this.db.prepare('UPDATE tasks SET progress_done = ?, progress_total = ? WHERE id = ?').run(done, total, id);
  }

  setWebhookStatus(id: string, status: WebhookStatus): void {
    this.db.prepare('UPDATE tasks SET webhook_status = ? WHERE id = ?').run(status, id);
  }

  /** Keeps the record with status `deleted` (its files are gone). */
  markDeleted(id: string): void {
    this.db.prepare(`UPDATE tasks SET status = 'deleted', delete_time = ?, outputs = '{}' WHERE id = ?`).run(now(), id);
  }

  /** Merges `patch` into the task's dialect state; false when there is no such task. */
  mergeDialectState(id: string, patch: DialectState): boolean {
    return this.db.transaction(() => {
      const row = this.db.prepare('SELECT dialect_state FROM tasks WHERE id = ?').get(id) as { dialect_state: string } | undefined;
      if (!row) return false;
      const state = { ...(JSON.parse(row.dialect_state) as DialectState), ...patch };
      this.db.prepare('UPDATE tasks SET dialect_state = ? WHERE id = ?').run(JSON.stringify(state), id);
      return true;
    })();
  }

  /** Done tasks of one dialect that finished before `isoTime`, oldest first. */
  doneBefore(dialect: string, isoTime: string): Task[] {
    return (
      this.db.prepare(`SELECT * FROM tasks WHERE status = 'done' AND dialect = ? AND end_time < ? ORDER BY seq`).all(dialect, isoTime) as Row[]
    ).map(toTask);
  }

  remove(id: string): void {
    this.db.prepare('DELETE FROM tasks WHERE id = ?').run(id);
  }

  countByStatus(): Record<TaskStatus, number> {
    const counts: Record<TaskStatus, number> = { queued: 0, processing: 0, done: 0, failed: 0, deleted: 0 };
    for (const r of this.db.prepare('SELECT status, COUNT(*) AS n FROM tasks GROUP BY status').all() as { status: TaskStatus; n: number }[]) {
      counts[r.status] = r.n;
    }
    return counts;
  }
}
