// Starts the real server (real models, real SQLite file, real HTTP on an ephemeral port) in temp folders.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveConfigFrom, type ServeConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server.ts';

export interface TestServer extends RunningServer {
  root: string;
  config: ServeConfig;
  stop(): Promise<void>;
}

export async function startTestServer(overrides: Record<string, unknown> = {}, root?: string, options: ServerOptions = {}): Promise<TestServer> {
  const dir = root ?? (await mkdtemp(join(tmpdir(), 'anonymiser-test-')));
  const config = serveConfigFrom({
    input: join(dir, 'input'),
    output: join(dir, 'output'),
    host: '127.0.0.1',
    port: 0,
    anonymize: ['face'],
    provider: 'cpu',
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...overrides,
  });
  const server = await startServer(config, createLogger(config.logLevel), options);
  return {
    ...server,
    root: dir,
    config,
    async stop() {
      await server.close(5000);
      if (!root) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Polls a task until it leaves queued/processing. */
export async function waitForTask(url: string, id: string, timeoutMs = 60_000, headers: Record<string, string> = {}): Promise<Record<string, any>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${url}/v1/task/${id}`, { headers });
    const body = (await res.json()) as Record<string, any>;
    if (body.status !== 'queued' && body.status !== 'processing') return body;
    if (Date.now() > until) throw new Error(`task ${id} still ${body.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
