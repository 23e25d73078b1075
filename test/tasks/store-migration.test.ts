// A database file written before dialects existed opens with the new columns, its tasks counted as Celantur's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteTaskStore as TaskStore } from '../../src/tasks/store.ts';
import { DEFAULT_PARAMS } from '../../src/types.ts';

// The tasks table exactly as releases before the dialect seam created it.
const OLD_SCHEMA = `
CREATE TABLE tasks (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, kind TEXT NOT NULL,
  mime TEXT NOT NULL, status TEXT NOT NULL, error TEXT, params TEXT NOT NULL, input_path TEXT NOT NULL,
  output_dir TEXT NOT NULL, stem TEXT NOT NULL, outputs TEXT NOT NULL DEFAULT '{}', webhook_url TEXT,
  webhook_header_name TEXT, webhook_header_value TEXT, webhook_status TEXT NOT NULL DEFAULT 'empty',
  progress_done INTEGER NOT NULL DEFAULT 0, progress_total INTEGER NOT NULL DEFAULT 0, detection_count INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0, upload_time TEXT NOT NULL, start_time TEXT, end_time TEXT, delete_time TEXT
);`;

test('an old task database gains the dialect, failure code, warnings and lease columns; old tasks are Celantur tasks', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'anonymiser-migrate-'));
  try {
    const dbPath = join(dir, 'tasks.sqlite');
    const old = new Database(dbPath);
    old.exec(OLD_SCHEMA);
    old.prepare(`INSERT INTO tasks (id, name, kind, mime, status, error, params, input_path, output_dir, stem, upload_time)
      VALUES ('old', 'a.jpg', 'image', 'image/jpeg', 'failed', 'it broke', ?, '/in/a.jpg', '/out/old', 'a', '2026-01-01T00:00:00Z')`).run(JSON.stringify(DEFAULT_PARAMS));
    old.close();

    const store = new TaskStore(dbPath);
    const t = (await store.get('old'))!;
    assert.equal(t.dialect, 'celantur');
    assert.deepEqual(t.warnings, []);
    assert.equal(t.error, 'it broke');
    assert.equal(t.errorCode, null);
    await store.create({ id: 'new', dialect: 'maskit', name: 'b.jpg', kind: 'image', mime: 'image/jpeg', params: DEFAULT_PARAMS, inputPath: '/in/b.jpg', outputDir: '/out/new', stem: 'b', webhook: null, warnings: ['x: ignored'] });
    await store.close();

    // Opening again is a no-op migration, and what was written stays.
    const again = new TaskStore(dbPath);
    assert.equal((await again.get('new'))!.dialect, 'maskit');
    assert.deepEqual((await again.get('new'))!.warnings, ['x: ignored']);
    assert.equal((await again.get('old'))!.dialect, 'celantur');
    await again.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
