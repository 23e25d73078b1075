import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pipelined } from '../../src/detect/pipelined.ts';

test('pipelined: results in order; the next input is prepared while the current one runs, at most `ahead` waiting', async () => {
  const events: string[] = [];
  // Runs are queued one at a time, as in a session worker.
  let queue: Promise<unknown> = Promise.resolve();
  const results = await pipelined(
    [30, 5, 20, 1, 10],
    async (ms, i) => {
      events.push(`prepare ${i}`);
      await sleep(2);
      return ms;
    },
    (ms, _item, i) => {
      const done = queue.then(async () => {
        events.push(`run ${i}`);
        await sleep(ms);
        events.push(`end ${i}`);
        return i * 10;
      });
      queue = done;
      return done;
    },
    1,
  );
  assert.deepEqual(results, [0, 10, 20, 30, 40]);
  const at = (e: string) => events.indexOf(e);
  for (let i = 0; i < 5; i++) assert.ok(at(`prepare ${i}`) < at(`run ${i}`) && at(`run ${i}`) < at(`end ${i}`));
  // Input 1 is prepared while run 0 runs; input 2 (two ahead) only after run 0 ended.
  assert.ok(at('run 0') < at('prepare 1') && at('prepare 1') < at('end 0'), events.join(', '));
  assert.ok(at('prepare 2') > at('end 0'), events.join(', '));
  assert.ok(at('prepare 3') > at('end 1'), events.join(', '));
});

test('pipelined: a failed preparation or run rejects, and no item after a failed preparation is prepared', async () => {
  const seen: number[] = [];
  await assert.rejects(
    pipelined([1, 2, 3, 4], async (n) => {
      seen.push(n);
      if (n === 2) throw new RangeError('bad input');
      return n;
    }, async (n) => n),
    RangeError,
  );
  assert.deepEqual(seen, [1, 2]);
  await assert.rejects(pipelined([1, 2], async (n) => n, async (n) => {
    if (n === 1) throw new TypeError('run failed');
    return n;
  }), TypeError);
  assert.deepEqual(await pipelined([], async () => 1, async () => 2), []);
});
