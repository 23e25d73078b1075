// Uploaded images addressed by short keys, and short task keys with the dialect's own task fields
// (InstaVid360, issue 13): a port with a SQLite implementation on the task database file.
import type Database from 'better-sqlite3';
import { randomInt } from 'node:crypto';
import { openSqliteFile } from '../db/sqlite.ts';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A key like InstaVid360's `KEbHXtkHor`: 10 alphanumerics (62^10 ≈ 8e17, drawn with a CSPRNG). */
export function newKey(length = 10): string {
  let s = '';
  for (let i = 0; i < length; i++) s += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return s;
}

export interface StoredImage {
  key: string;
  /** Token id of the uploader (null: --api-key or no auth). */
  owner: string | null;
  /** original | background | overlay | result */
  kind: string;
  path: string;
  mime: string;
  width: number;
  height: number;
  /** The task whose result this is (kind result). */
  taskId: string | null;
}

export interface KeyedTask {
  key: string;
  taskId: string;
  dialect: string;
  state: Record<string, unknown>;
}

export interface ImageStore {
  addImage(image: StoredImage): Promise<StoredImage>;
  getImage(key: string): Promise<StoredImage | undefined>;
  /** The result image registered for a task, if any. */
  resultOf(taskId: string): Promise<StoredImage | undefined>;
  addTask(task: KeyedTask): Promise<void>;
  taskByKey(key: string): Promise<KeyedTask | undefined>;
  taskById(taskId: string): Promise<KeyedTask | undefined>;
  close(): Promise<void>;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS images (
  key TEXT PRIMARY KEY,
  owner TEXT,
  kind TEXT NOT NULL,
  path TEXT NOT NULL,
  mime TEXT NOT NULL,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL,
  task_id TEXT UNIQUE,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS keyed_tasks (
  key TEXT PRIMARY KEY,
  task_id TEXT NOT NULL UNIQUE,
  dialect TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT '{}'
);
`;

interface ImageRow {
  key: string;
  owner: string | null;
  kind: string;
  path: string;
  mime: string;
  width: number;
  height: number;
  task_id: string | null;
}
const toImage = (r: ImageRow): StoredImage => ({ key: r.key, owner: r.owner, kind: r.kind, path: r.path, mime: r.mime, width: r.width, height: r.height, taskId: r.task_id });
interface TaskRow {
  key: string;
  task_id: string;
  dialect: string;
  state: string;
}
const toTask = (r: TaskRow): KeyedTask => ({ key: r.key, taskId: r.task_id, dialect: r.dialect, state: JSON.parse(r.state) as Record<string, unknown> });

export class SqliteImageStore implements ImageStore {
  private readonly db: Database.Database;

  constructor(path: string) {
    this.db = openSqliteFile(path);
    this.db.exec(SCHEMA);
  }

  async addImage(image: StoredImage): Promise<StoredImage> {
    // A result is registered once per task, whoever asks first (status query or callback).
    this.db
      .prepare(
        `INSERT INTO images (key, owner, kind, path, mime, width, height, task_id, created_at)
         VALUES (@key, @owner, @kind, @path, @mime, @width, @height, @taskId, @createdAt) ON CONFLICT (task_id) DO NOTHING`,
      )
      .run({ ...image, createdAt: new Date().toISOString() });
    return image.taskId ? (await this.resultOf(image.taskId))! : image;
  }

  async getImage(key: string): Promise<StoredImage | undefined> {
    const r = this.db.prepare('SELECT * FROM images WHERE key = ?').get(key) as ImageRow | undefined;
    return r ? toImage(r) : undefined;
  }

  async resultOf(taskId: string): Promise<StoredImage | undefined> {
    const r = this.db.prepare('SELECT * FROM images WHERE task_id = ?').get(taskId) as ImageRow | undefined;
    return r ? toImage(r) : undefined;
  }

  async addTask(task: KeyedTask): Promise<void> {
    this.db.prepare('INSERT INTO keyed_tasks (key, task_id, dialect, state) VALUES (?, ?, ?, ?)').run(task.key, task.taskId, task.dialect, JSON.stringify(task.state));
  }

  async taskByKey(key: string): Promise<KeyedTask | undefined> {
    const r = this.db.prepare('SELECT * FROM keyed_tasks WHERE key = ?').get(key) as TaskRow | undefined;
    return r ? toTask(r) : undefined;
  }

  async taskById(taskId: string): Promise<KeyedTask | undefined> {
    const r = this.db.prepare('SELECT * FROM keyed_tasks WHERE task_id = ?').get(taskId) as TaskRow | undefined;
    return r ? toTask(r) : undefined;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
