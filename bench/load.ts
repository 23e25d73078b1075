// `npm run bench`, load and faults (issue 11): the real server as a child process (bin/anonymiser serve).
//  1. 40 concurrent clients × 3 small photos against --queue-limit 20 --concurrency 1: only 200 or 503 with
//     Retry-After; latency p50/p95; the server's peak RSS; /v1/status latency under that load.
//  2. One 12288×6144 panorama processing: /v1/status and a download, polled every 100 ms.
//  3. kill -9 with 30 async tasks accepted: all finish after the restart; time to drain.
// Not a test: figures only.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import sharp from 'sharp';

const BIN = new URL('../bin/anonymiser', import.meta.url).pathname;
const PHOTO = new URL('../test/fixtures/faces.jpg', import.meta.url).pathname;

interface Child {
  child: ChildProcess;
  url: string;
}

async function serve(root: string, extra: string[]): Promise<Child> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--host', '127.0.0.1', '-a', 'face', '--provider', 'cpu', '--input', join(root, 'in'), '--output', join(root, 'out'), ...extra], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...(process.env.BENCH_UV ? { UV_THREADPOOL_SIZE: process.env.BENCH_UV } : {}) },
  });
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start')), 120_000);
    lines.on('line', (line) => {
      try {
        const e = JSON.parse(line) as { msg?: string; url?: string };
        if (e.msg === 'listening' && e.url) {
          clearTimeout(timer);
          resolve(e.url);
        }
      } catch {
        // not a log line
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  lines.on('line', () => undefined);
  return { child, url };
}

const exited = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));
async function stop(c: Child): Promise<void> {
  c.child.kill('SIGTERM');
  await exited(c.child);
}

/** VmHWM (peak resident set) of a process, in MiB. */
function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const pct = (xs: number[], p: number) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : 'n/a');

/** Polls `paths` every `everyMs` until stopped; latencies per path. */
function poller(url: string, paths: string[], everyMs = 100) {
  const lat = new Map<string, number[]>(paths.map((p) => [p, []]));
  let going = true;
  const done = (async () => {
    while (going) {
      await Promise.all(
        paths.map(async (p) => {
          const t = performance.now();
          const r = await fetch(`${url}${p}`);
          await r.arrayBuffer();
          lat.get(p)!.push(performance.now() - t);
        }),
      );
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      going = false;
      await done;
      return lat;
    },
  };
}

const post = (url: string, body: Buffer, async = false) =>
  fetch(`${url}/v1/file?face=true`, { method: 'POST', body: new Uint8Array(body), headers: { 'content-type': 'image/jpeg', ...(async ? { 'x-is-async': 'true' } : {}) } });

async function concurrentClients(root: string, photo: Buffer): Promise<string[]> {
  const s = await serve(root, ['--queue-limit', '20', '--concurrency', '1']);
  try {
    const small = await sharp(photo).resize(160).jpeg().toBuffer();
    // one finished task to download while the load runs
    const warm = (await (await post(s.url, small)).json()) as { id: string };
    const poll = poller(s.url, ['/v1/status', `/v1/file/${warm.id}/anonymised`]);
    const statuses = new Map<string, number>();
    const latency: number[] = [];
    let badRetryAfter = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 40 }, async () => {
        for (let i = 0; i < 3; i++) {
          const t = performance.now();
          const r = await post(s.url, small);
          await r.arrayBuffer();
          latency.push(performance.now() - t);
          const key = r.status === 503 ? `503${r.headers.get('retry-after') ? '' : ' without Retry-After'}` : String(r.status);
          if (r.status === 503 && !/^\d+$/.test(r.headers.get('retry-after') ?? '')) badRetryAfter++;
          statuses.set(key, (statuses.get(key) ?? 0) + 1);
        }
      }),
    );
    const wall = performance.now() - t0;
    const lat = await poll.stop();
    const st = lat.get('/v1/status')!;
    const dl = lat.get(`/v1/file/${warm.id}/anonymised`)!;
    return [
      `  40 clients × 3 photos (160 px, face, sync) vs --queue-limit 20 --concurrency 1: ${[...statuses].map(([k, v]) => `${v} × ${k}`).join(', ')}${badRetryAfter ? ` (${badRetryAfter} bad Retry-After)` : ''}; ${(wall / 1000).toFixed(1)} s`,
      `    latency p50 ${ms(pct(latency, 50))}, p95 ${ms(pct(latency, 95))}; server peak RSS ${peakRssMiB(s.child.pid!).toFixed(0)} MiB`,
      `    under that load: /v1/status p50 ${ms(pct(st, 50))}, p95 ${ms(pct(st, 95))}, max ${ms(Math.max(...st))} (${st.length} polls); download p50 ${ms(pct(dl, 50))}, p95 ${ms(pct(dl, 95))}, max ${ms(Math.max(...dl))}`,
    ];
  } finally {
    await stop(s);
  }
}

async function panorama(root: string, photo: Buffer, extra: string[], label: string): Promise<string[]> {
  const s = await serve(root, extra);
  try {
    const small = await sharp(photo).resize(160).jpeg().toBuffer();
    const warm = (await (await post(s.url, small)).json()) as { id: string };
    const pano = await sharp(photo).resize(12288, 6144, { fit: 'fill' }).jpeg({ quality: 85 }).toBuffer();
    const poll = poller(s.url, ['/v1/status', `/v1/file/${warm.id}/anonymised`]);
    const t = performance.now();
    const r = await post(s.url, pano);
    await r.arrayBuffer();
    const took = performance.now() - t;
    const lat = await poll.stop();
    const st = lat.get('/v1/status')!;
    const dl = lat.get(`/v1/file/${warm.id}/anonymised`)!;
    return [
      `  12288×6144 panorama (${label}): ${r.status} after ${(took / 1000).toFixed(1)} s; peak RSS ${peakRssMiB(s.child.pid!).toFixed(0)} MiB`,
      `    meanwhile /v1/status p50 ${ms(pct(st, 50))}, p95 ${ms(pct(st, 95))}, max ${ms(Math.max(...st))}; download p50 ${ms(pct(dl, 50))}, p95 ${ms(pct(dl, 95))}, max ${ms(Math.max(...dl))} (${st.length} polls)`,
    ];
  } finally {
    await stop(s);
  }
}

async function killDuringTasks(root: string, photo: Buffer): Promise<string[]> {
  const sizes = [320, 480, 640, 800, 1200];
  const bodies = await Promise.all(sizes.map((w) => sharp(photo).resize(w).jpeg().toBuffer()));
  const first = await serve(root, ['--concurrency', '1']);
  const ids: string[] = [];
  for (let i = 0; i < 30; i++) {
    const r = await post(first.url, bodies[i % bodies.length]!, true);
    ids.push(((await r.json()) as { id: string }).id);
  }
  const countDone = async (url: string) => {
    const l = (await (await fetch(`${url}/v1/task/list?limit=100`)).json()) as { items: { status: string }[] };
    return l.items.filter((t) => t.status === 'done').length;
  };
  while ((await countDone(first.url)) < 5) await new Promise((r) => setTimeout(r, 100));
  const doneBefore = await countDone(first.url);
  first.child.kill('SIGKILL');
  await exited(first.child);
  const t0 = performance.now();
  const second = await serve(root, ['--concurrency', '1']);
  const restart = performance.now() - t0;
  try {
    let done = 0;
    const deadline = Date.now() + 300_000;
    while ((done = await countDone(second.url)) < 30 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const drain = performance.now() - t0;
    const failed = 30 - done;
    return [`  kill -9 with 30 async tasks (${doneBefore} done before the kill): restart ${(restart / 1000).toFixed(1)} s, all ${done} of 30 done ${(drain / 1000).toFixed(1)} s after the kill; ${failed} lost or failed`];
  } finally {
    await stop(second);
  }
}

export async function benchLoad(only?: string): Promise<string[]> {
  const photo = await readFile(PHOTO);
  const lines = ['load and faults (real server as a child process, CPU, face model):'];
  for (const [name, run] of [
    ['clients', (root: string) => concurrentClients(root, photo)],
    ['panorama', (root: string) => panorama(root, photo, [], 'pipeline thread')],
    ['panorama-inline', (root: string) => panorama(root, photo, ['--no-pipeline-thread'], '--no-pipeline-thread, for comparison')],
    ['kill', (root: string) => killDuringTasks(root, photo)],
  ] as const) {
    if (only && name !== only) continue;
    const root = await mkdtemp(join(tmpdir(), `anonymiser-bench-${name}-`));
    try {
      lines.push(...(await run(root)));
    } catch (err) {
      lines.push(`  ${name}: failed: ${(err as Error).message}`);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of await benchLoad(process.argv[2])) console.log(line);
}
