// The contract of the task ports (src/tasks/ports.ts): every backend runs these same tests
// (contract.test.ts: SQLite file, real PostgreSQL). A new backend is done when it passes them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TaskBackend, TaskSignal } from '../../../src/tasks/ports.ts';
import type { NewTask } from '../../../src/tasks/task.ts';
import { QueueFullError } from '../../../src/errors.ts';
import { DEFAULT_PARAMS } from '../../../src/types.ts';

/** Opens backends on one fresh store; each call of `open` is one more process on that same store. */
export interface StoreFixture {
  open(): Promise<TaskBackend>;
  cleanup(): Promise<void>;
}

let n = 0;
function newTask(extra: Partial<NewTask> = {}): NewTask {
  const id = `t-${process.pid}-${n++}`;
  return {
    id, dialect: 'celantur', name: `${id}.jpg`, kind: 'image', mime: 'image/jpeg', params: DEFAULT_PARAMS,
    inputPath: `/in/${id}/a.jpg`, outputDir: `/out/${id}`, stem: 'a', webhook: null, ...extra,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function contractSuite(name: string, fixture: () => Promise<StoreFixture>): void {
  const withStore = (title: string, body: (b: TaskBackend, f: StoreFixture) => Promise<void>) =>
    test(`${name}: ${title}`, async () => {
      const f = await fixture();
      const b = await f.open();
      try {
        await body(b, f);
      } finally {
        await b.close();
        await f.cleanup();
      }
    });

  withStore('a created task reads back whole; list pages newest first and filters by status', async (b) => {
    const hook = { url: 'http://hooks.test/x', headerName: 'x-auth', headerValue: 's3cret' };
    const { task, depth } = await b.tasks.create(newTask({ webhook: hook, warnings: ['foo: ignored'] }));
    assert.equal(depth, 1);
    const got = await b.tasks.get(task.id);
    assert.deepEqual(got, task);
    assert.equal(task.status, 'queued');
    assert.deepEqual(task.webhook, hook);
    assert.equal(task.webhookStatus, 'set');
    assert.deepEqual(task.warnings, ['foo: ignored']);
    assert.deepEqual(task.params, DEFAULT_PARAMS);
    assert.equal(task.attempts, 0);
    assert.ok(!Number.isNaN(Date.parse(task.uploadTime)));
    const ids = [task.id];
    for (let i = 0; i < 4; i++) ids.push((await b.tasks.create(newTask())).task.id);
    const failed = await b.tasks.createFailed(newTask(), { code: 'undecodable_file', message: 'cannot be decoded' });
    assert.equal(failed.status, 'failed');
    assert.equal(failed.errorCode, 'undecodable_file');
    assert.ok(failed.endTime);
    const page1 = await b.tasks.list(1, 2);
    assert.equal(page1.total, 6);
    assert.deepEqual(page1.items.map((t) => t.id), [failed.id, ids[4]]);
    const page3 = await b.tasks.list(3, 2);
    assert.deepEqual(page3.items.map((t) => t.id), [ids[1], ids[0]]);
    assert.equal((await b.tasks.list(1, 10, 'failed')).total, 1);
    assert.deepEqual(await b.tasks.allIds(), [...ids, failed.id]);
    assert.deepEqual(await b.tasks.countByStatus(), { queued: 5, processing: 0, done: 0, failed: 1, deleted: 0 });
    assert.equal(await b.tasks.get('no-such-task'), undefined);
  });

  withStore('the queue limit refuses inserts beyond it, also when two processes insert at once', async (b, f) => {
    const other = await f.open();
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) => (i % 2 ? other : b).tasks.create(newTask(), { queueLimit: 5, retryAfterS: 7 })),
      );
      const ok = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.equal(ok.length, 5);
      assert.equal(refused.length, 7);
      for (const r of refused) {
        assert.ok(r.reason instanceof QueueFullError);
        assert.equal((r.reason as QueueFullError).retryAfterSeconds, 7);
      }
      assert.equal(await b.queue.depth(), 5);
      // A claimed task no longer waits: one more fits.
      await b.queue.claim('w', 60_000);
      await b.tasks.create(newTask(), { queueLimit: 5 });
      assert.equal(await other.queue.depth(), 5);
    } finally {
      await other.close();
    }
  });

  withStore('claims take the oldest queued task once, count the attempt, and never hand one task to two claimers', async (b, f) => {
    const other = await f.open();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push((await b.tasks.create(newTask())).task.id);
      const first = await b.queue.claim('a', 60_000);
      assert.equal(first?.id, ids[0]);
      assert.equal(first?.status, 'processing');
      assert.equal(first?.attempts, 1);
      assert.ok(first?.startTime);
      const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? other : b).queue.claim(`w${i}`, 60_000)));
      const got = claims.filter((t) => t !== undefined).map((t) => t.id);
      assert.equal(got.length, 5);
      assert.deepEqual([...got].sort(), ids.slice(1).sort());
      assert.equal(await b.queue.claim('a', 60_000), undefined);
      assert.equal(await b.queue.depth(), 0);
    } finally {
      await other.close();
    }
  });

  withStore('only the owner finishes or fails a processing task; a deleted one cannot be finished', async (b) => {
    const { task } = await b.tasks.create(newTask());
    await b.queue.claim('owner', 60_000);
    assert.equal(await b.tasks.finish(task.id, 'someone-else', { anonymised: 'a.jpg' }, 1), undefined);
    assert.equal(await b.tasks.fail(task.id, { code: 'x', message: 'y' }, 'someone-else'), undefined);
    await b.tasks.setProgress(task.id, 3, 10);
    assert.equal((await b.tasks.get(task.id))?.progressDone, 3);
    const done = await b.tasks.finish(task.id, 'owner', { anonymised: 'a.jpg', metadata: 'a.json' }, 4);
    assert.equal(done?.status, 'done');
    assert.deepEqual(done?.outputs, { anonymised: 'a.jpg', metadata: 'a.json' });
    assert.equal(done?.detectionCount, 4);
    assert.ok(done?.endTime);
    assert.equal(await b.tasks.fail(task.id, { code: 'x', message: 'y' }), undefined, 'a done task is not failed');

    const { task: t2 } = await b.tasks.create(newTask());
    await b.queue.claim('owner', 60_000);
    const deleted = await b.tasks.markDeleted(t2.id);
    assert.equal(deleted?.status, 'deleted');
    assert.ok(deleted?.deleteTime);
    assert.equal(await b.tasks.finish(t2.id, 'owner', { anonymised: 'a.jpg' }, 1), undefined);
    assert.deepEqual(await b.queue.heartbeat('owner', 60_000), [], 'a deleted task is no longer held');

    const { task: t3 } = await b.tasks.create(newTask());
    const failed = await b.tasks.fail(t3.id, { code: 'task_timeout', message: 'too slow' });
    assert.equal(failed?.status, 'failed');
    assert.equal(failed?.errorCode, 'task_timeout');
    await b.tasks.remove(t3.id);
    assert.equal(await b.tasks.get(t3.id), undefined);
  });

  withStore('heartbeats keep a lease; a lease that runs out is recovered by another process; the third crash fails the task', async (b, f) => {
    const other = await f.open();
    try {
      const { task } = await b.tasks.create(newTask());
      const { task: kept } = await b.tasks.create(newTask());
      await b.queue.claim('dies', 300);
      await b.queue.claim('lives', 300);
      for (let i = 0; i < 3; i++) {
        await sleep(150);
        assert.deepEqual(await b.queue.heartbeat('lives', 300), [kept.id]);
      }
      // 'dies' stopped beating 450 ms ago: its lease ran out, 'lives' kept its own.
      assert.deepEqual(await other.queue.recover({ all: false, except: 'other', maxAttempts: 3 }), { requeued: [task.id], failed: [] });
      assert.equal((await other.tasks.get(task.id))?.status, 'queued');
      assert.equal((await other.tasks.get(kept.id))?.status, 'processing');
      for (let attempt = 2; attempt <= 3; attempt++) {
        const again = await other.queue.claim(`dies-${attempt}`, 1);
        assert.equal(again?.id, task.id);
        assert.equal(again?.attempts, attempt);
        await sleep(30);
        const r = await b.queue.recover({ all: false, except: 'b', maxAttempts: 3 });
        if (attempt < 3) assert.deepEqual(r, { requeued: [task.id], failed: [] });
        else {
          assert.deepEqual(r.requeued, []);
          assert.equal(r.failed.length, 1);
          assert.equal(r.failed[0]!.id, task.id);
          assert.equal(r.failed[0]!.status, 'failed');
          assert.equal(r.failed[0]!.errorCode, 'crashed_repeatedly');
          assert.match(r.failed[0]!.error ?? '', /stopped 3 times/);
        }
      }
    } finally {
      await other.close();
    }
  });

  withStore('a restart on one host recovers every task not held by the new process; a release does not count as an attempt', async (b) => {
    const { task } = await b.tasks.create(newTask());
    const { task: mine } = await b.tasks.create(newTask());
    await b.queue.claim('old-process', 60_000);
    await b.queue.claim('new-process', 60_000);
    assert.deepEqual(await b.queue.recover({ all: true, except: 'new-process', maxAttempts: 3 }), { requeued: [task.id], failed: [] });
    await b.queue.release(mine.id, 'not-the-owner');
    assert.equal((await b.tasks.get(mine.id))?.status, 'processing');
    await b.queue.release(mine.id, 'new-process');
    const back = await b.tasks.get(mine.id);
    assert.equal(back?.status, 'queued');
    assert.equal(back?.attempts, 0);
  });

  withStore('one claimer wins a webhook; a claim that is not renewed can be taken over; a recorded one is no longer pending', async (b, f) => {
    const other = await f.open();
    try {
      const { task } = await b.tasks.create(newTask({ webhook: { url: 'http://hooks.test/x' } }));
      await b.queue.claim('w', 60_000);
      await b.tasks.finish(task.id, 'w', {}, 0);
      assert.deepEqual((await b.tasks.pendingWebhooks()).map((t) => t.id), [task.id]);
      const wins = await Promise.all([b, other, b, other].map((x, i) => x.tasks.claimWebhook(task.id, `r${i}`, 200)));
      assert.equal(wins.filter(Boolean).length, 1);
      assert.deepEqual(await b.tasks.pendingWebhooks(), [], 'a live claim is not pending');
      const winner = `r${wins.indexOf(true)}`;
      await sleep(120);
      await b.queue.heartbeat(winner, 200); // renewed
      await sleep(120);
      assert.equal(await other.tasks.claimWebhook(task.id, 'late', 200), false);
      await sleep(250); // not renewed any more: the winner is gone
      assert.deepEqual((await other.tasks.pendingWebhooks()).map((t) => t.id), [task.id]);
      assert.equal(await other.tasks.claimWebhook(task.id, 'late', 200), true);
      await other.tasks.setWebhookStatus(task.id, 'sent');
      assert.equal((await b.tasks.get(task.id))?.webhookStatus, 'sent');
      assert.equal(await b.tasks.claimWebhook(task.id, 'again', 200), false);
      assert.deepEqual(await b.tasks.pendingWebhooks(), []);
    } finally {
      await other.close();
    }
  });

  withStore('replicas that beat are listed until they leave', async (b, f) => {
    const other = await f.open();
    try {
      await b.cluster.beat({ id: 'r1', host: 'h1', concurrency: 2, running: 1 });
      await other.cluster.beat({ id: 'r2', host: 'h2', concurrency: 1, running: 0 });
      await b.cluster.beat({ id: 'r1', host: 'h1', concurrency: 2, running: 2 });
      const seen = await other.cluster.replicas(60_000);
      assert.deepEqual(seen.map((r) => [r.id, r.host, r.concurrency, r.running]).sort(), [['r1', 'h1', 2, 2], ['r2', 'h2', 1, 0]]);
      await sleep(60);
      assert.deepEqual(await b.cluster.replicas(30), [], 'not seen within 30 ms');
      await other.cluster.leave('r2');
      assert.deepEqual((await b.cluster.replicas(60_000)).map((r) => r.id), ['r1']);
    } finally {
      await other.close();
    }
  });

  withStore('signals reach subscribers (on a shared store, in other processes too)', async (b, f) => {
    const other = await f.open();
    try {
      const heard: [string, TaskSignal, string][] = [];
      const offB = b.signals.subscribe((id, s) => heard.push([id, s, 'b']));
      const offOther = other.signals.subscribe((id, s) => heard.push([id, s, 'other']));
      await b.signals.publish('task-1', 'settled');
      await b.signals.publish('task-2', 'cancel');
      const want = b.shared ? 4 : 2;
      const until = Date.now() + 5000;
      while (heard.length < want && Date.now() < until) await sleep(20);
      assert.deepEqual(heard.filter((h) => h[2] === 'b').map((h) => [h[0], h[1]]), [['task-1', 'settled'], ['task-2', 'cancel']]);
      if (b.shared) assert.deepEqual(heard.filter((h) => h[2] === 'other').map((h) => [h[0], h[1]]), [['task-1', 'settled'], ['task-2', 'cancel']]);
      offB();
      offOther();
      await b.signals.publish('task-3', 'queued');
      await sleep(100);
      assert.equal(heard.length, want, 'unsubscribed listeners hear nothing');
    } finally {
      await other.close();
    }
  });

  withStore('dialect state merges key by key; created_by filters list and ids; doneBefore finds one dialect\'s old results', async (b) => {
    const { task } = await b.tasks.create(newTask({ dialect: 'maskit', dialectState: { metadata: 'm1', outcome: null }, createdBy: 'tok-a' }));
    assert.deepEqual(task.dialectState, { metadata: 'm1', outcome: null });
    assert.equal(task.createdBy, 'tok-a');
    const merged = await b.tasks.mergeDialectState(task.id, { outcome: 'downloaded' });
    assert.deepEqual(merged?.dialectState, { metadata: 'm1', outcome: 'downloaded' });
    assert.deepEqual((await b.tasks.get(task.id))?.dialectState, { metadata: 'm1', outcome: 'downloaded' });
    assert.equal(await b.tasks.mergeDialectState('no-such-task', { outcome: 'x' }), undefined);
    const { task: other } = await b.tasks.create(newTask({ dialect: 'celantur', createdBy: 'tok-b' }));
    assert.deepEqual((await b.tasks.list(1, 10, undefined, 'tok-a')).items.map((t) => t.id), [task.id]);
    assert.equal((await b.tasks.list(1, 10)).total, 2);
    assert.deepEqual(await b.tasks.allIds('tok-b'), [other.id]);
    for (const t of [task, other]) {
      const claimed = await b.queue.claim('r1', 60_000);
      assert.ok(claimed);
      await b.tasks.finish(claimed.id, 'r1', { anonymised: 'x.jpg' }, 0);
    }
    await new Promise((r) => setTimeout(r, 20));
    const future = new Date(Date.now() + 60_000).toISOString();
    assert.deepEqual((await b.tasks.doneBefore('maskit', future)).map((t) => t.id), [task.id]);
    assert.deepEqual(await b.tasks.doneBefore('maskit', new Date(Date.now() - 60_000).toISOString()), []);
  });
}
