// Celantur's TCP mode against the real server (real models, real sockets): JPEG and NumPy round trips,
// EXIF, BGR order, bad input of every kind, the shared queue, and the server still serving afterwards.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { readFile, readdir, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import exifReader from 'exif-reader';
import sharp from 'sharp';
import { parseNpy } from '../../src/tcp/npy.ts';
import { bytes } from '../helpers/body.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { buildPhoneExif, insertExif } from '../pipeline/phone-exif.ts';
import { exchange, npyFile, numpyFrame } from './helpers.ts';

const PHOTO = new URL('../fixtures/faces-group.jpg', import.meta.url).pathname;

let server: TestServer;
let photo: Buffer;
/** Face boxes of the photo, from the same server's REST metadata. */
let faceBoxes: number[][];

before(async () => {
  server = await startTestServer({ tcpPort: 0, tcpTimeout: 1 });
  photo = await readFile(PHOTO);
  const res = await fetch(`${server.url}/v1/file?save-mask=none`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: bytes(photo) });
  assert.equal(res.status, 200);
  const task = (await res.json()) as Record<string, any>;
  const meta = (await (await fetch(task.links.metadata)).json()) as Record<string, any>;
  faceBoxes = meta.detections.filter((d: any) => d.type_label === 'face').map((d: any) => d.bbox);
  assert.ok(faceBoxes.length >= 2, 'the photo has faces the detector finds');
  await fetch(`${server.url}/v1/task/${task.id}`, { method: 'DELETE' });
});
after(() => server.stop());

interface Pixels {
  data: Buffer;
  width: number;
  height: number;
  channels: number;
}
const rgbOf = async (bytes: Buffer): Promise<Pixels> => {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: 3 };
};
const inBox = (x: number, y: number, boxes: number[][]) => boxes.some(([x0, y0, x1, y1]) => x >= x0! && x < x1! && y >= y0! && y < y1!);
/** Mean absolute difference per channel value inside and far outside (8 px margin) the boxes. */
function diffInsideOutside(a: Pixels, b: Pixels, boxes: number[][]) {
  const grown = boxes.map(([x0, y0, x1, y1]) => [x0! - 8, y0! - 8, x1! + 8, y1! + 8]);
  let inSum = 0, inN = 0, outSum = 0, outN = 0, outSame = 0;
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      const p = (y * a.width + x) * 3;
      const d = Math.abs(a.data[p]! - b.data[p]!) + Math.abs(a.data[p + 1]! - b.data[p + 1]!) + Math.abs(a.data[p + 2]! - b.data[p + 2]!);
      if (inBox(x, y, boxes)) { inSum += d / 3; inN++; }
      else if (!inBox(x, y, grown)) { outSum += d / 3; outN++; if (d === 0) outSame++; }
    }
  }
  return { inside: inSum / inN, outside: outSum / outN, outsideSame: outSame / outN };
}
function swapRB(data: Buffer): Buffer {
  const out = Buffer.from(data);
  for (let i = 0; i < out.length; i += 3) [out[i], out[i + 2]] = [data[i + 2]!, data[i]!];
  return out;
}
const status = async () => (await fetch(`${server.url}/v1/status`)).status;
const taskCount = async () => ((await (await fetch(`${server.url}/v1/task/list`)).json()) as any).total_item_count as number;

test('JPEG mode: the bytes go in, half-close, the anonymised JPEG of the same size comes back; EXIF kept except GPS and thumbnail', async () => {
  const thumbnail = await sharp(photo).resize(160).jpeg().toBuffer();
  const input = insertExif(photo, buildPhoneExif({ orientation: 1, thumbnail }));
  const inExif = exifReader((await sharp(input).metadata()).exif!);
  assert.ok(inExif.GPSInfo && inExif.Thumbnail, 'the input carries GPS and a thumbnail');

  const r = await exchange(server.tcpPort!, [input]);
  assert.equal(r.reset, false);
  assert.deepEqual([...r.data.subarray(0, 3)], [0xff, 0xd8, 0xff], 'a JPEG');
  const meta = await sharp(r.data).metadata();
  assert.equal(meta.format, 'jpeg');
  const [orig, out] = [await rgbOf(photo), await rgbOf(r.data)];
  assert.deepEqual([out.width, out.height], [orig.width, orig.height], 'same size');
  const { inside, outside } = diffInsideOutside(orig, out, faceBoxes);
  assert.ok(inside > 8, `face pixels changed (mean diff ${inside.toFixed(1)})`);
  assert.ok(outside < 4, `background kept up to JPEG noise (mean diff ${outside.toFixed(1)})`);

  const exif = exifReader(meta.exif!);
  assert.equal(exif.Image?.Make, 'PhoneMaker');
  assert.equal(exif.Image?.Model, 'Phone 12 Pro');
  assert.equal(exif.Photo?.DateTimeOriginal?.toISOString(), '2024-05-06T07:08:09.000Z');
  assert.equal(exif.Photo?.FNumber, 1.8);
  assert.equal(exif.GPSInfo, undefined, 'no GPS');
  assert.equal(exif.Thumbnail, undefined, 'no thumbnail');
  assert.equal(r.data.indexOf(thumbnail.subarray(0, 256)), -1, 'the thumbnail bytes appear nowhere');
  assert.equal(await taskCount(), 0, 'the TCP task and its files are gone once answered');
});

test('NumPy mode: a 4096-byte big-endian length and a .npy BGR array come back in the same framing and shape, channels in BGR order', async () => {
  const orig = await rgbOf(photo);
  const bgr = swapRB(orig.data);
  // A pure blue stripe in BGR (255, 0, 0) at the top: it must come back blue, not red.
  for (let y = 0; y < 6; y++) for (let x = 0; x < orig.width; x++) bgr.set([255, 0, 0], (y * orig.width + x) * 3);
  const r = await exchange(server.tcpPort!, [numpyFrame(npyFile([orig.height, orig.width, 3], bgr))]);
  assert.equal(r.reset, false);
  const length = r.data.readUIntBE(4096 - 6, 6);
  assert.ok(r.data.subarray(0, 4096 - 6).every((b) => b === 0), 'the length fills a 4096-byte big-endian header');
  assert.equal(r.data.length, 4096 + length, 'the header announces exactly the payload');
  const answer = parseNpy(r.data.subarray(4096));
  assert.deepEqual([answer.height, answer.width], [orig.height, orig.width], 'same shape');
  const header = r.data.subarray(4096, 4096 + 128).toString('latin1');
  assert.match(header, /'descr': '\|u1', 'fortran_order': False, 'shape': \(427, 640, 3\)/);

  assert.deepEqual([...answer.data.subarray(0, 3)], [255, 0, 0], 'blue stays blue (BGR order kept)');
  const sent = { data: bgr, width: orig.width, height: orig.height, channels: 3 };
  const got = { ...sent, data: answer.data };
  const { inside, outside, outsideSame } = diffInsideOutside(sent, got, faceBoxes);
  assert.ok(inside > 8, `face pixels changed (mean diff ${inside.toFixed(1)})`);
  assert.ok(outside < 1 && outsideSame > 0.9, `pixels away from faces come back exact (mean diff ${outside.toFixed(2)}, ${(outsideSame * 100).toFixed(1)} % identical)`);
  // A channel swap would show everywhere outside the faces.
  const swapped = diffInsideOutside(sent, { ...sent, data: swapRB(answer.data) }, faceBoxes);
  assert.ok(swapped.outside > 10, `swapping channels would be visible (mean diff ${swapped.outside.toFixed(1)})`);
});

test('NumPy mode: a Fortran-order array is read as the same image', async () => {
  const w = 64, h = 48;
  const c = Buffer.alloc(w * h * 3);
  for (let i = 0; i < c.length; i++) c[i] = (i * 7) % 251;
  const f = Buffer.alloc(c.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < 3; k++) f[y + h * (x + w * k)] = c[(y * w + x) * 3 + k]!;
  const r = await exchange(server.tcpPort!, [numpyFrame(npyFile([h, w, 3], f, '|u1', true))]);
  const answer = parseNpy(r.data.subarray(4096));
  assert.deepEqual(answer.data, c, 'no face in noise: every pixel comes back as sent, in C order');
});

test('bad input closes the connection without a byte and the server keeps serving', async () => {
  const port = server.tcpPort!;
  const orig = await rgbOf(photo);
  const npy = npyFile([orig.height, orig.width, 3], swapRB(orig.data));
  const small = npyFile([4, 4, 3], Buffer.alloc(48, 9));
  const cases: Record<string, { chunks: Buffer[]; halfClose?: boolean; gapMs?: number }> = {
    'garbage text': { chunks: [Buffer.from('hello, is this HTTP?\r\n\r\n')] },
    'random bytes starting like a JPEG': { chunks: [Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(5000, 0x5a)])] },
    'a truncated JPEG': { chunks: [photo.subarray(0, Math.floor(photo.length / 2))] },
    'a PNG on the JPEG path': { chunks: [await sharp(photo).png().toBuffer()] },
    'a NumPy header cut short': { chunks: [Buffer.alloc(100)] },
    'a NumPy payload shorter than announced': { chunks: [numpyFrame(npy.subarray(0, 5000), npy.length)] },
    'a NumPy payload longer than announced': { chunks: [numpyFrame(npy, npy.length - 1000)] },
    'a NumPy header announcing more than the upload limit': { chunks: [numpyFrame(Buffer.alloc(10), 600 * 1024 * 1024)], halfClose: false },
    'a NumPy header that is not a length': { chunks: [Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(4094, 0xff), small])] },
    'a payload that is not .npy': { chunks: [numpyFrame(Buffer.from('not a numpy file at all'))] },
    'an object array (needs pickle)': { chunks: [numpyFrame(npyFile([2], Buffer.alloc(16), '|O'))] },
    'float pixels': { chunks: [numpyFrame(npyFile([4, 4, 3], Buffer.alloc(48 * 4), '<f4'))] },
    'a grey H×W array': { chunks: [numpyFrame(npyFile([8, 8], Buffer.alloc(64)))] },
    'data size not matching the shape': { chunks: [numpyFrame(npyFile([4, 4, 3], Buffer.alloc(47)))] },
    'a client that stops sending (read timeout)': { chunks: [photo.subarray(0, 1000)], halfClose: false },
  };
  for (const [name, c] of Object.entries(cases)) {
    const r = await exchange(port, c.chunks, { halfClose: c.halfClose ?? true, timeoutMs: 20_000 });
    assert.equal(r.data.length, 0, `${name}: nothing written`);
    if (name.includes('timeout')) assert.ok(r.ms >= 900 && r.ms < 10_000, `${name}: closed after the 1 s timeout (${Math.round(r.ms)} ms)`);
    assert.equal(await status(), 200, `${name}: /v1/status still answers`);
  }
  const ok = await exchange(port, [photo]);
  assert.equal((await sharp(ok.data).metadata()).width, orig.width, 'a good JPEG still works after all that');
  // The timeout is for silence, not for the whole request: a slow client that keeps sending is served.
  const pieces = Array.from({ length: 6 }, (_, i) => photo.subarray(Math.floor((i * photo.length) / 6), Math.floor(((i + 1) * photo.length) / 6)));
  const slow = await exchange(port, pieces, { gapMs: 400 });
  assert.ok(slow.ms > 2000, `the slow client took ${Math.round(slow.ms)} ms`);
  assert.equal((await sharp(slow.data).metadata()).width, orig.width, 'a slow client (6 pieces, 0.4 s apart, 1 s timeout) is answered');
  assert.equal(await taskCount(), 0, 'no task left behind');
  assert.deepEqual(await readdir(join(server.config.inputDir, '.incoming')), [], 'no payload left on disk');
});

test('TCP images share the queue and its limit with HTTP uploads: a full queue closes the connection', async (t) => {
  const small = await startTestServer({ tcpPort: 0, queueLimit: 1, concurrency: 1 });
  t.after(() => small.stop());
  const first = exchange(small.tcpPort!, [photo]);
  const second = exchange(small.tcpPort!, [photo]);
  const until = Date.now() + 20_000;
  for (;;) {
    const q = ((await (await fetch(`${small.url}/v1/status`)).json()) as any).queue;
    if (q.running === 1 && q.waiting === 1) break;
    assert.ok(Date.now() < until, `both TCP images queued: ${JSON.stringify(q)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const http = await fetch(`${small.url}/v1/file`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: bytes(photo) });
  assert.equal(http.status, 503, 'an HTTP upload sees the queue the TCP images fill');
  const third = await exchange(small.tcpPort!, [photo]);
  assert.equal(third.data.length, 0, 'a TCP image beyond the limit gets no answer');
  for (const r of await Promise.all([first, second])) assert.equal((await sharp(r.data).metadata()).format, 'jpeg');
});

test("Python clients: np.load(allow_pickle=False) reads the NumPy answer, sendfile + SHUT_WR gets a JPEG, as Celantur's clients do", async (t) => {
  const probe = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) return t.skip('python3 with numpy is not installed here');
  const dir = await mkdtemp(join(tmpdir(), 'tcp-py-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const orig = await rgbOf(photo);
  await writeFile(join(dir, 'in.bgr'), swapRB(orig.data));
  // The protocol of celantur-examples' server/celantur-numpy-client.py, written from its description.
  const script = `
import socket, sys, io, numpy as np
h, w, port, path = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
img = np.fromfile(path, dtype=np.uint8).reshape(h, w, 3)
buf = io.BytesIO(); np.save(buf, img, allow_pickle=False); payload = buf.getvalue()
with socket.create_connection(("127.0.0.1", port)) as s:
    s.sendall(len(payload).to_bytes(4096, "big") + payload)
    s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk: break
        data += chunk
size = int.from_bytes(data[:4096], "big")
out = np.load(io.BytesIO(data[4096:4096 + size]), allow_pickle=False)
assert len(data) == 4096 + size, (len(data), size)
assert out.dtype == np.uint8 and out.shape == img.shape, (out.dtype, out.shape)
print(int((out != img).any(axis=2).sum()), int(out.shape[0] * out.shape[1]))
# JPEG mode as server/celantur-jpeg-client.py talks: sendfile, SHUT_WR, read the answer to the end.
with socket.create_connection(("127.0.0.1", port)) as s, open(sys.argv[5], "rb") as fp:
    s.sendfile(fp)
    s.shutdown(socket.SHUT_WR)
    jpeg = s.makefile("rb").read()
assert jpeg[:2] == bytes([0xFF, 0xD8]) and jpeg[-2:] == bytes([0xFF, 0xD9]) and len(jpeg) > 10000, jpeg[:16]
`;
  // Asynchronously: the server runs in this process and must keep serving while Python waits.
  const py = await promisify(execFile)('python3', ['-c', script, String(orig.height), String(orig.width), String(server.tcpPort), join(dir, 'in.bgr'), PHOTO], { encoding: 'utf8', timeout: 120_000 });
  const [changed, total] = py.stdout.trim().split(' ').map(Number) as [number, number];
  assert.ok(changed > 500 && changed < total * 0.3, `some pixels (the faces) changed: ${changed} of ${total}`);
});

test('a TCP port already in use stops the start with an error that names the flag', async () => {
  await assert.rejects(startTestServer({ tcpPort: server.tcpPort }), /--tcp-port \d+: .*EADDRINUSE/);
  assert.equal(await status(), 200, 'the running server is not disturbed');
});
