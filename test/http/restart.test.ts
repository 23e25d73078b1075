// Nothing accepted is lost: tasks survive a killed process and a graceful SIGTERM, and run after the restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import sharp from 'sharp';
import { waitForTask } from '../helpers/server.ts';
import { FACE_PHOTO } from '../helpers/fixtures.ts';
import { bytes } from '../helpers/body.ts';

const BIN = new URL('../../bin/anonymiser', import.meta.url).pathname;

async function startProcess(root: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--host', '127.0.0.1', '-a', 'face', '--provider', 'cpu',
    '--input', join(root, 'in'), '--output', join(root, 'out'), '--concurrency', '1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start')), 60_000);
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === 'listening' && entry.url) {
          clearTimeout(timer);
          resolve(entry.url);
        }
      } catch {
        // not a log line
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  lines.on('line', () => undefined); // keep draining stdout
  return { child, url };
}

const exited = (child: ChildProcess) => new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', (code) => r(code))));

async function postAsync(url: string, body: Buffer): Promise<string> {
  const res = await fetch(`${url}/v1/file`, { method: 'POST', body: bytes(body), headers: { 'content-type': 'image/jpeg', 'x-is-async': 'true' } });
  assert.equal(res.status, 202);
  return ((await res.json()) as { id: string }).id;
}

test('tasks queued or running when the process is killed finish after a restart', async () => {
  const root = await mkdtemp(join(tmpdir(), 'anonymiser-restart-'));
  try {
    const large = await sharp(await readFile(FACE_PHOTO)).resize(2500).jpeg().toBuffer();
    const first = await startProcess(root);
    const ids = [await postAsync(first.url, large), await postAsync(first.url, large), await postAsync(first.url, large)];
    first.child.kill('SIGKILL');
    await exited(first.child);

    const second = await startProcess(root);
    try {
      for (const id of ids) {
        const task = await waitForTask(second.url, id, 120_000);
        assert.equal(task.status, 'done', `task ${id}`);
        assert.equal((await fetch(`${second.url}/v1/file/${id}/anonymised`)).status, 200);
      }
    } finally {
      second.child.kill('SIGTERM');
      await exited(second.child);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('SIGTERM finishes or re-queues running work and exits cleanly; the rest runs after the restart', async () => {
  const root = await mkdtemp(join(tmpdir(), 'anonymiser-sigterm-'));
  try {
    const large = await sharp(await readFile(FACE_PHOTO)).resize(2500).jpeg().toBuffer();
    const first = await startProcess(root);
    const ids = [await postAsync(first.url, large), await postAsync(first.url, large), await postAsync(first.url, large)];
    first.child.kill('SIGTERM');
    assert.equal(await exited(first.child), 0, 'graceful exit');

    const second = await startProcess(root);
    try {
      for (const id of ids) assert.equal((await waitForTask(second.url, id, 120_000)).status, 'done');
    } finally {
      second.child.kill('SIGTERM');
      await exited(second.child);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
