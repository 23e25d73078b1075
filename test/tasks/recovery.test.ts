// Recovery decisions on a real SQLite file: what a restart runs again and what it gives up on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqliteBackend } from '../../src/tasks/store.ts';
import { MAX_ATTEMPTS, TaskService } from '../../src/tasks/service.ts';
import { createLogger } from '../../src/log.ts';
import { DEFAULT_PARAMS } from '../../src/types.ts';

test('a task that was running at every one of the last crashes is failed with a reason, not retried forever', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'anonymiser-recovery-'));
  try {
    const dbPath = join(dir, 'tasks.sqlite');
    let backend = sqliteBackend(dbPath);
    await backend.tasks.create({ id: 'poison', dialect: 'celantur', name: 'a.jpg', kind: 'image', mime: 'image/jpeg', params: DEFAULT_PARAMS, inputPath: join(dir, 'a.jpg'), outputDir: join(dir, 'out'), stem: 'a', webhook: null });
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      // Process i claims it and dies; process i + 1 finds it at its start.
      assert.equal((await backend.queue.claim(`process-${i}`, 60_000))?.id, 'poison');
      if (i < MAX_ATTEMPTS - 1) assert.deepEqual(await backend.queue.recover({ all: true, except: `process-${i + 1}`, maxAttempts: MAX_ATTEMPTS }), { requeued: ['poison'], failed: [] });
    }
    await backend.close(); // the process "dies" while the task is processing
    backend = sqliteBackend(dbPath);
    const service = new TaskService(backend, null, 'not needed', {
      inputDir: join(dir, 'in'), outputDir: join(dir, 'out'), concurrency: 1, queueLimit: 10,
      webhook: { retries: 0, timeoutMs: 1000, backoffMs: 1 }, notifiers: new Map(),
    }, createLogger('silent'));
    assert.deepEqual(await service.recover(), { requeued: 0, webhooks: 0 });
    await service.shutdown(100);
    const task = (await backend.tasks.get('poison'))!;
    assert.equal(task.status, 'failed');
    assert.equal(task.errorCode, 'crashed_repeatedly');
    assert.match(task.error ?? '', /stopped 3 times/);
    await backend.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a kept record deleted before its webhook went out gets a "deleted" delivery at the next start, through its dialect notifier', async () => {
  const { createServer } = await import('node:http');
  const { celanturNotifier } = await import('../../src/http/celantur/webhook.ts');
  const dir = await mkdtemp(join(tmpdir(), 'anonymiser-recovery-'));
  const bodies: Record<string, unknown>[] = [];
  const hook = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(hook.address() as import('node:net').AddressInfo).port}/h`;
    const backend = sqliteBackend(join(dir, 'tasks.sqlite'));
    await backend.tasks.create({ id: 'gone', dialect: 'celantur', name: 'a.jpg', kind: 'image', mime: 'image/jpeg', params: DEFAULT_PARAMS, inputPath: join(dir, 'a.jpg'), outputDir: join(dir, 'out'), stem: 'a', webhook: { url } });
    await backend.tasks.markDeleted('gone'); // the process stopped before the deleted delivery
    const service = new TaskService(backend, null, 'not needed', {
      inputDir: join(dir, 'in'), outputDir: join(dir, 'out'), concurrency: 1, queueLimit: 10,
      webhook: { retries: 0, timeoutMs: 5000, backoffMs: 1 }, notifiers: new Map([['celantur', celanturNotifier(() => 'http://anon.test')]]),
    }, createLogger('silent'));
    assert.deepEqual(await service.recover(), { requeued: 0, webhooks: 1 });
    await service.shutdown(1000); // waits for webhooks in flight
    assert.equal(bodies.length, 1);
    assert.equal(bodies[0]!.file_status, 'deleted');
    assert.deepEqual(bodies[0]!.links, { task: 'http://anon.test/v1/task/gone' });
    assert.equal((await backend.tasks.get('gone'))!.webhookStatus, 'sent');
    await backend.close();
  } finally {
    await new Promise((r) => hook.close(r));
    await rm(dir, { recursive: true, force: true });
  }
});

test('a pipeline that outlives the wait after the shutdown aborts it does not touch the closed store; the next start runs the task again', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'anonymiser-recovery-'));
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => unhandled.push(err);
  process.on('unhandledRejection', onUnhandled);
  const keepAlive = setInterval(() => undefined, 1000); // the server's sockets keep a real process alive
  try {
    const dbPath = join(dir, 'tasks.sqlite');
    let backend = sqliteBackend(dbPath);
    await backend.tasks.create({ id: 'slow', dialect: 'celantur', name: 'a.jpg', kind: 'image', mime: 'image/jpeg', params: DEFAULT_PARAMS, inputPath: join(dir, 'a.jpg'), outputDir: join(dir, 'out'), stem: 'a', webhook: null });
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    // A pipeline step that ignores the abort for longer than shutdown waits after aborting (an inference run in flight).
    let release!: () => void;
    const stuck = new Promise<void>((r) => (release = r));
    const service = new TaskService(backend, null, 'not needed', {
      inputDir: join(dir, 'in'), outputDir: join(dir, 'out'), concurrency: 1, queueLimit: 10, pollMs: 20, abortWaitMs: 50,
      webhook: { retries: 0, timeoutMs: 1000, backoffMs: 1 }, notifiers: new Map(),
      run: async () => {
        started();
        await stuck;
        return { outputs: {}, detectionCount: 0, timings: {} };
      },
    }, createLogger('silent'));
    await service.recover();
    await running;
    await service.shutdown(10);
    await backend.close(); // as the server does after shutdown
    release(); // the pipeline comes back after the store is gone
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(unhandled, []);
    backend = sqliteBackend(dbPath);
    const next = new TaskService(backend, null, 'not needed', {
      inputDir: join(dir, 'in'), outputDir: join(dir, 'out'), concurrency: 1, queueLimit: 10,
      webhook: { retries: 0, timeoutMs: 1000, backoffMs: 1 }, notifiers: new Map(),
      run: async () => ({ outputs: {}, detectionCount: 0, timings: {} }),
    }, createLogger('silent'));
    const { requeued } = await next.recover();
    assert.equal(requeued, 1);
    await next.shutdown(1000);
    await backend.close();
  } finally {
    clearInterval(keepAlive);
    process.off('unhandledRejection', onUnhandled);
    await rm(dir, { recursive: true, force: true });
  }
});
