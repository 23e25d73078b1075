// GET /metrics in Prometheus' text format, scraped from the real server after real tasks.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { startTestServer, waitForTask, type TestServer } from '../helpers/server.ts';
import { FACE_PHOTO } from '../helpers/fixtures.ts';

let server: TestServer;
let hook: Server;
let hookUrl: string;
let hits = 0;

before(async () => {
  server = await startTestServer({ anonymize: ['face'], apiKey: 'k3y' });
  hook = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits++;
      res.end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hook.address() as import('node:net').AddressInfo).port}/h`;
});

after(async () => {
  await server?.stop();
  await new Promise((r) => hook?.close(r));
});

/** `name{labels} value` lines of the exposition, as a map from series to value. */
function series(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    m.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return m;
}

test('/metrics counts accepted, done and failed tasks by dialect, stage times, webhooks, queue and provider; it needs the API key', async () => {
  const auth = { authorization: 'Bearer k3y' };
  assert.equal((await fetch(`${server.url}/metrics`)).status, 401);
  const photo = await sharp(await readFile(FACE_PHOTO)).resize(320).jpeg().toBuffer();
  const ok = await fetch(`${server.url}/v1/file?webhook=${encodeURIComponent(hookUrl)}`, { method: 'POST', body: new Uint8Array(photo), headers: { ...auth, 'content-type': 'image/jpeg' } });
  assert.equal(ok.status, 200);
  const truncated = photo.subarray(0, Math.floor(photo.length / 3));
  const bad = await fetch(`${server.url}/v1/file`, { method: 'POST', body: new Uint8Array(truncated), headers: { ...auth, 'content-type': 'image/jpeg', 'x-is-async': '1' } });
  assert.equal(bad.status, 202);
  const badTask = (await waitForTask(server.url, ((await bad.json()) as { id: string }).id, 30_000, auth)) as { status: string };
  assert.equal(badTask.status, 'failed');
  for (let i = 0; i < 100 && hits < 1; i++) await new Promise((r) => setTimeout(r, 50));

  const res = await fetch(`${server.url}/metrics`, { headers: auth });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const m = series(await res.text());
  assert.equal(m.get('anonymiser_tasks_accepted_total{dialect="celantur"}'), 2);
  assert.equal(m.get('anonymiser_tasks_finished_total{dialect="celantur",status="done",code=""}'), 1);
  assert.equal(m.get('anonymiser_tasks_finished_total{dialect="celantur",status="failed",code="undecodable_file"}'), 1);
  assert.equal(m.get('anonymiser_task_seconds_count{dialect="celantur",kind="image"}'), 1);
  for (const stage of ['decode', 'detect', 'detect.face', 'render', 'encode', 'write']) {
    assert.equal(m.get(`anonymiser_stage_seconds_count{stage="${stage}"}`), 1, stage);
    assert.ok(m.get(`anonymiser_stage_seconds_sum{stage="${stage}"}`)! > 0, stage);
  }
  assert.equal(m.get('anonymiser_webhook_deliveries_total{outcome="sent"}'), 1);
  assert.equal(m.get('anonymiser_queue_depth'), 0);
  assert.equal(m.get('anonymiser_tasks_running'), 0);
  assert.equal(m.get('anonymiser_replicas_seen'), 1);
  assert.equal(m.get('anonymiser_provider_info{provider="cpu"}'), 1);
  assert.ok(m.get('anonymiser_process_resident_memory_bytes')! > 0);
});
