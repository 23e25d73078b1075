// `anonymiser serve` with TCP mode switched on through the environment, as a container would be started.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import sharp from 'sharp';
import { FACE_PHOTO } from '../helpers/fixtures.ts';
import { exchange, npyFile, numpyFrame } from './helpers.ts';

const BIN = new URL('../../bin/anonymiser', import.meta.url).pathname;

test('ANONYMISER_TCP_PORT and ANONYMISER_TCP_MODE=jpeg: JPEG is answered, a NumPy frame is refused and logged, SIGTERM exits 0', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'anonymiser-tcp-cli-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--host', '127.0.0.1', '-a', 'face', '--provider', 'cpu', '--input', join(root, 'in'), '--output', join(root, 'out')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ANONYMISER_TCP_PORT: '0', ANONYMISER_TCP_MODE: 'jpeg' },
  });
  t.after(() => child.kill('SIGKILL'));
  const logs: Record<string, any>[] = [];
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('TCP mode did not start')), 60_000);
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, any>;
        logs.push(entry);
        if (entry.msg === 'TCP mode listening') {
          clearTimeout(timer);
          resolve(entry.port);
        }
      } catch {
        // not a log line
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  assert.equal(logs.find((l) => l.msg === 'TCP mode listening')?.mode, 'jpeg');

  const photo = await sharp(await readFile(FACE_PHOTO)).resize(600).jpeg().toBuffer();
  const r = await exchange(port, [photo]);
  assert.equal((await sharp(r.data).metadata()).width, 600);

  const refused = await exchange(port, [numpyFrame(npyFile([4, 4, 3], Buffer.alloc(48)))]);
  assert.equal(refused.data.length, 0);
  await new Promise((r) => setTimeout(r, 200));
  const why = logs.find((l) => l.msg?.startsWith('TCP request refused'));
  assert.ok(why && why.level === 40 && /not an image|unsupported/i.test(why.reason), `the log says why: ${JSON.stringify(why)}`);
  assert.doesNotMatch(JSON.stringify(why), new RegExp(root), 'no server path in the log reason');

  child.kill('SIGTERM');
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  assert.equal(code, 0);
});
