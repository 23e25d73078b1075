// Every bad input gets a clear JSON error with the right status, and leaves no files behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import sharp from 'sharp';
import { crc32, deflateSync } from 'node:zlib';
import { startTestServer, waitForTask, type TestServer } from '../helpers/server.ts';
import { FACE_PHOTO } from '../helpers/fixtures.ts';
import { bytes } from '../helpers/body.ts';

let server: TestServer;
let photo: Buffer;

before(async () => {
  server = await startTestServer({ anonymize: ['face'], maxUploadMb: 1, queueLimit: 2, concurrency: 1 });
  photo = await readFile(FACE_PHOTO);
});
after(async () => {
  await server?.stop();
});

async function expectError(res: Response, status: number, code: string, pattern?: RegExp) {
  assert.equal(res.status, status);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  const body = (await res.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, code);
  assert.ok(body.error.message.length > 0);
  if (pattern) assert.match(body.error.message, pattern);
  return body;
}

/** Everything stored under the input folder, temporary uploads included. */
async function inputFiles(): Promise<string[]> {
  const names = await readdir(server.config.inputDir, { recursive: true });
  return names.filter((n) => n !== '.incoming');
}

const post = (query: string, body: Uint8Array, type = 'image/jpeg', headers: Record<string, string> = {}) =>
  fetch(`${server.url}/v1/file${query}`, { method: 'POST', body: bytes(body), headers: { 'content-type': type, ...headers } });

test('400 names the bad parameter', async () => {
  const body = await expectError(await post('?method=smudge', photo), 400, 'bad_parameter', /^method:/);
  assert.equal((body.error as any).parameter, 'method');
  await expectError(await post('?quality=101', photo), 400, 'bad_parameter', /quality/);
  await expectError(await post('?ignores=%7Bnot-json', photo), 400, 'bad_parameter', /ignores/);
  // Every bad parameter in one answer, so a client fixes them in one round trip.
  const all = await expectError(await post('?quality=101&method=smudge&colour=red&save_mask=some', photo), 400, 'bad_parameter');
  assert.deepEqual((all.error as any).details.map((d: { parameter: string }) => d.parameter), ['quality', 'method', 'colour', 'save_mask']);
  for (const d of (all.error as any).details) assert.ok(d.message.length > 0);
  // Names every JavaScript object has are unknown parameters like any other (was a 500).
  for (const name of ['constructor', '__proto__', 'toString']) {
    const r = await expectError(await post(`?${name}=1`, photo), 400, 'bad_parameter');
    assert.equal((r.error as any).parameter, name);
  }
  assert.deepEqual(await inputFiles(), [], 'nothing stored for refused uploads');
});

test('400 when asking for a class the container was not started with', async () => {
  await expectError(await post('?vehicle=true', photo), 400, 'class_not_enabled', /vehicle/);
});

test('404 for unknown tasks, files and routes', async () => {
  await expectError(await fetch(`${server.url}/v1/task/00000000-0000-0000-0000-000000000000`), 404, 'not_found');
  await expectError(await fetch(`${server.url}/v1/file/nope/anonymised`), 404, 'not_found');
  await expectError(await fetch(`${server.url}/v2/anything`), 404, 'not_found');
});

test('413 for an upload over --max-upload-mb, raw and multipart', async () => {
  const big = Buffer.alloc(1.5 * 1024 * 1024, 1);
  big[0] = 0xff; big[1] = 0xd8; big[2] = 0xff;
  await expectError(await post('', big), 413, 'payload_too_large');
  const form = new FormData();
  form.append('fileobject', new Blob([bytes(big)]), 'big.jpg');
  await expectError(await fetch(`${server.url}/v1/file`, { method: 'POST', body: form }), 413, 'payload_too_large');
});

test('415 for bytes that are not an image or video we take, whatever the Content-Type says', async () => {
  await expectError(await post('', Buffer.from('hello, this is text')), 415, 'unsupported_media_type');
  const gif = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } }).gif().toBuffer();
  await expectError(await post('', gif, 'image/gif'), 415, 'unsupported_media_type');
  await expectError(await post('', photo, 'application/json'), 415, 'unsupported_media_type');
});

test('422 for a truncated or corrupt image, and no orphan files', async () => {
  const truncated = photo.subarray(0, Math.floor(photo.length / 3));
  await expectError(await post('', truncated), 422, 'undecodable_file');
  const garbage = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(5000, 7)]);
  await expectError(await post('', garbage, 'image/png'), 422, 'undecodable_file');
  const fakeVideo = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom'), Buffer.alloc(4000, 3)]);
  await expectError(await post('', fakeVideo, 'video/mp4'), 422, 'undecodable_file');
  assert.deepEqual(await inputFiles(), [], 'nothing stored for refused uploads');
});

/** A tiny PNG that claims 30000×30000 pixels: decoding it would need 2.7 GB. */
function pngBomb(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(30000, 0);
  ihdr.writeUInt32BE(30000, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(30001 * 4))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

test('422 for a decompression bomb, and the server keeps serving', async () => {
  await expectError(await post('', pngBomb(), 'image/png'), 422, 'undecodable_file', /pixel limit/);
  assert.equal((await fetch(`${server.url}/v1/status`)).status, 200);
});

test('400 for an empty body or a multipart body without a file', async () => {
  await expectError(await post('', Buffer.alloc(0)), 400, 'bad_parameter');
  const form = new FormData();
  form.append('note', 'no file here');
  await expectError(await fetch(`${server.url}/v1/file`, { method: 'POST', body: form }), 400, 'bad_parameter', /fileobject/);
});

test('409 while a task is not done, 503 with Retry-After when the queue is full, and nothing is lost', async () => {
  // A large image keeps the single worker busy while the next uploads queue up.
  const large = await sharp(photo).resize(3000).jpeg().toBuffer();
  const accepted: string[] = [];
  let refused: Response | undefined;
  for (let i = 0; i < 6 && !refused; i++) {
    const res = await post('', large, 'image/jpeg', { 'x-is-async': 'true' });
    if (res.status === 202) accepted.push(((await res.json()) as { id: string }).id);
    else refused = res;
  }
  assert.ok(refused, 'the queue limit was reached');
  await expectError(refused, 503, 'queue_full');
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);

  const last = accepted.at(-1)!;
  const notReady = await expectError(await fetch(`${server.url}/v1/file/${last}/anonymised`), 409, 'not_ready');
  assert.ok(['queued', 'processing'].includes((notReady.error as any).status));

  for (const id of accepted) assert.equal((await waitForTask(server.url, id, 120_000)).status, 'done');
});

test('401 without the API key, 200 with it as Bearer or x-api-key', async () => {
  const secured = await startTestServer({ anonymize: ['face'], apiKey: 'k3y' });
  try {
    await expectError(await fetch(`${secured.url}/v1/status`), 401, 'unauthorized');
    await expectError(await fetch(`${secured.url}/v1/status`, { headers: { authorization: 'Bearer wrong' } }), 401, 'unauthorized');
    assert.equal((await fetch(`${secured.url}/v1/status`, { headers: { authorization: 'Bearer k3y' } })).status, 200);
    assert.equal((await fetch(`${secured.url}/v1/status`, { headers: { 'x-api-key': 'k3y' } })).status, 200);
  } finally {
    await secured.stop();
  }
});

test('status answers 500 and uploads are refused when the models cannot be loaded', async () => {
  const broken = await startTestServer({ anonymize: ['face'], modelsDir: '/nonexistent-models' });
  try {
    const res = await fetch(`${broken.url}/v1/status`);
    assert.equal(res.status, 500);
    const body = (await res.json()) as Record<string, any>;
    assert.equal(body.status, 'down');
    assert.ok(body.error);
    await expectError(await fetch(`${broken.url}/v1/file`, { method: 'POST', body: bytes(photo), headers: { 'content-type': 'image/jpeg' } }), 500, 'models_unavailable');
  } finally {
    await broken.stop();
  }
});
