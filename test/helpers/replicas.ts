// Real server processes (bin/anonymiser serve) sharing one PostgreSQL database and one data folder, as
// replicas behind a load balancer would. Each is a separate OS process that can be killed with -9.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/anonymiser', import.meta.url));

export interface Replica {
  url: string;
  pid: number;
  process: ChildProcess;
  /** What the process wrote to stderr/stdout (warnings and errors), for failure messages. */
  output(): string;
  kill9(): Promise<void>;
  /** SIGTERM: the graceful stop. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startReplica(databaseUrl: string, root: string, args: string[] = []): Promise<Replica> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--database-url', databaseUrl, '--input', join(root, 'input'), '--output', join(root, 'output'),
      '--host', '127.0.0.1', '--port', String(port), '-a', 'face', '--provider', 'cpu', '--log-level', 'warn', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ANONYMISER_API_KEY: '' } },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`replica exited with ${child.exitCode}: ${out}`);
    const ok = await fetch(`${url}/v1/status`).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`replica did not answer within 120 s: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    pid: child.pid!,
    process: child,
    output: () => out,
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
