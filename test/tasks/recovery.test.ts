// Recovery decisions on a real SQLite file: what a restart runs again and what it gives up on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskStore } from '../../src/tasks/store.ts';
import { MAX_ATTEMPTS, TaskService } from '../../src/tasks/service.ts';
import { createLogger } from '../../src/log.ts';
import { DEFAULT_PARAMS } from '../../src/types.ts';

test('a task that was running at every one of the last crashes is failed with a reason, not retried forever', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'anonymiser-recovery-'));
  try {
    const dbPath = join(dir, 'tasks.sqlite');
    let store = new TaskStore(dbPath);
    store.insert({ id: 'poison', dialect: 'celantur', name: 'a.jpg', kind: 'image', mime: 'image/jpeg', params: DEFAULT_PARAMS, inputPath: join(dir, 'a.jpg'), outputDir: join(dir, 'out'), stem: 'a', webhook: null });
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      assert.ok(store.markProcessing('poison'));
      if (i < MAX_ATTEMPTS - 1) store.requeue('poison');
    }
    store.close(); // the process "dies" while the task is processing
    store = new TaskStore(dbPath);
    const service = new TaskService(store, null, 'not needed', {
      inputDir: join(dir, 'in'), outputDir: join(dir, 'out'), concurrency: 1, queueLimit: 10,
      webhook: { retries: 0, timeoutMs: 1000, backoffMs: 1 }, notifiers: new Map(),
    }, createLogger('silent'));
    assert.deepEqual(service.recover(), { requeued: 0, webhooks: 0 });
    const task = store.get('poison')!;
    assert.equal(task.status, 'failed');
    assert.match(task.error ?? '', /stopped 3 times/);
    store.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
