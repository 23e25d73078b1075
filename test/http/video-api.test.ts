// Video through the REST API: async upload, progress while it runs, the anonymised video and per-frame metadata.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, waitForTask, type TestServer } from '../helpers/server.ts';
import { bytes } from '../helpers/body.ts';
import { makeFaceClip, probeJson } from '../video/clips.ts';

let server: TestServer;
let dir: string;
let clip: Buffer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'anonymiser-video-api-'));
  const path = join(dir, 'pan.mp4');
  await makeFaceClip(path, { audio: true });
  clip = await readFile(path);
  server = await startTestServer({ anonymize: ['face'] });
});
after(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('an mp4 posted async is anonymised, shows progress, and serves video and frame metadata', async () => {
  const res = await fetch(`${server.url}/v1/file`, { method: 'POST', body: bytes(clip), headers: { 'content-type': 'video/mp4', 'x-is-async': 'true', 'x-file-name': 'pan.mp4' } });
  assert.equal(res.status, 202);
  const queued = (await res.json()) as Record<string, any>;
  assert.equal(queued.media_type, 'video');
  // The upload's probe is stored on the task, so that the pipeline does not run ffprobe again.
  const stored = (await server.service.backend.tasks.get(queued.id))!.probe;
  assert.deepEqual([stored?.width, stored?.height, stored?.frameCount, stored?.hasAudio], [320, 240, 30, true]);

  let sawProgress = false;
  const until = Date.now() + 120_000;
  let task = queued;
  while (task.status === 'queued' || task.status === 'processing') {
    if (task.status === 'processing' && task.progress.total > 0 && task.progress.done < task.progress.total) sawProgress = true;
    assert.ok(Date.now() < until, 'video finished in time');
    await new Promise((r) => setTimeout(r, 50));
    task = (await (await fetch(`${server.url}/v1/task/${queued.id}`)).json()) as Record<string, any>;
  }
  assert.equal(task.status, 'done', task.error);
  assert.ok(sawProgress, 'frames done / total visible while it ran');
  assert.equal(task.progress.done, task.progress.total);

  const video = await fetch(task.links.anonymised);
  assert.equal(video.status, 200);
  assert.match(video.headers.get('content-type') ?? '', /video\/mp4/);
  const out = join(dir, 'out.mp4');
  await writeFile(out, Buffer.from(await video.arrayBuffer()));
  const [inInfo, outInfo] = [await probeJson(join(dir, 'pan.mp4')), await probeJson(out)];
  const v = (p: typeof inInfo) => p.streams.find((s: any) => s.codec_type === 'video');
  assert.equal(v(outInfo)?.nb_frames, v(inInfo)?.nb_frames, 'same frame count');
  assert.ok(outInfo.streams.some((s: any) => s.codec_type === 'audio'), 'audio kept');

  // Celantur's shape: a JSON list of frames {id, size, duration, detections}, integer boxes, the frame as parent.
  const frames = (await (await fetch(`${server.url}/v1/file/${queued.id}/video/metadata?start=0&end=9`)).json()) as any[];
  assert.ok(Array.isArray(frames), 'a list of frames');
  assert.deepEqual(frames.map((f) => f.id), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  for (const f of frames) {
    for (const key of ['id', 'size', 'duration', 'detections']) assert.ok(key in f, `frame has ${key}`);
    assert.equal(f.size.length, 2);
    for (const d of f.detections) {
      for (const key of ['id', 'type', 'type_label', 'score', 'bbox', 'offset', 'parent_image', 'color', 'is_anonymised', 'track_id']) assert.ok(key in d, `detection has ${key}`);
      assert.ok(d.bbox.every(Number.isInteger), `integer bbox ${d.bbox}`);
      assert.equal(d.parent_image, f.id);
    }
  }
  assert.ok(frames.some((f) => f.detections.some((d: any) => d.type_label === 'face' && d.type === 103 && typeof d.track_id === 'number')));
  const later = (await (await fetch(`${server.url}/v1/file/${queued.id}/video/metadata?start=5&end=6`)).json()) as any[];
  assert.deepEqual(later.map((f) => f.id), [5, 6]);

  assert.equal((await fetch(`${server.url}/v1/file/${queued.id}/metadata`)).status, 404, 'image metadata route points elsewhere for videos');
  await fetch(`${server.url}/v1/task/${queued.id}`, { method: 'DELETE' });
  assert.equal((await fetch(task.links.anonymised)).status, 404);
});
