// `node --import tsx bench/dialects-http.ts`: wall time of one image through each API over real HTTP on the same
// server (faces + plates), so the cost a dialect adds around the shared pipeline shows. Not a test.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { serveConfigFrom } from '../src/config.ts';
import { createLogger } from '../src/log.ts';
import { startServer } from '../src/server.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const photo = await readFile(new URL('../test/fixtures/faces.jpg', import.meta.url));
const { data, info } = await sharp(photo).raw().toBuffer({ resolveWithObject: true });
const bgr = Buffer.alloc(data.length);
for (let i = 0; i < bgr.length; i += 3) [bgr[i], bgr[i + 1], bgr[i + 2]] = [data[i + 2], data[i + 1], data[i]];

const dir = await mkdtemp(join(tmpdir(), 'anonymiser-bench-'));
const config = serveConfigFrom({ input: join(dir, 'in'), output: join(dir, 'out'), host: '127.0.0.1', port: 0, anonymize: ['face', 'license-plate'], provider: 'cpu', logLevel: 'silent' });
const server = await startServer(config, createLogger('silent'));
const u = server.url;
const octet = { 'content-type': 'application/octet-stream' };

async function maskit(): Promise<void> {
  const fd = new FormData();
  fd.append('image', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'faces.jpg');
  const { jobid } = (await (await fetch(`${u}/api/v1/masking/process-image`, { method: 'POST', body: fd })).json()) as { jobid: string };
  for (;;) {
    const s = (await (await fetch(`${u}/api/v1/masking/image-status?jobid=${jobid}`)).json()) as { status: string };
    if (s.status === 'ReadyToDownload') break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await (await fetch(`${u}/api/v1/masking/image-download?jobid=${jobid}`)).arrayBuffer();
}

const cases: [string, () => Promise<unknown>][] = [
  ['celantur POST /v1/file (sync) + download', async () => {
    const t = (await (await fetch(`${u}/v1/file?save-mask=none`, { method: 'POST', body: new Uint8Array(photo), headers: { 'content-type': 'image/jpeg' } })).json()) as { links: { anonymised: string } };
    await (await fetch(t.links.anonymised)).arrayBuffer();
  }],
  ['maskit process-image, poll 20 ms, download', maskit],
  ['pekat analyze_image context', async () => (await fetch(`${u}/analyze_image`, { method: 'POST', body: new Uint8Array(photo), headers: octet })).arrayBuffer()],
  ['pekat analyze_image image', async () => (await fetch(`${u}/analyze_image?response_type=image`, { method: 'POST', body: new Uint8Array(photo), headers: octet })).arrayBuffer()],
  ['pekat analyze_raw_image BGR context', async () => (await fetch(`${u}/analyze_raw_image?width=${info.width}&height=${info.height}`, { method: 'POST', body: new Uint8Array(bgr), headers: octet })).arrayBuffer()],
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
try {
  console.log(`${info.width}×${info.height} JPEG, faces + plates, median of ${RUNS} runs after one warm-up`);
  for (const [label, run] of cases) {
    const samples: number[] = [];
    for (let i = 0; i <= RUNS; i++) {
      const t = performance.now();
      await run();
      if (i > 0) samples.push(performance.now() - t);
    }
    console.log(`${label.padEnd(45)} ${median(samples).toFixed(0).padStart(6)} ms`);
  }
} finally {
  await server.close(5000);
  await rm(dir, { recursive: true, force: true });
}
