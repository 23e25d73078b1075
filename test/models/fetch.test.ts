// `anonymiser models fetch`: the yunet pack from a loopback HTTP mirror of ../shared/models-extra and from a folder.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fetchPacks } from '../../src/detect/pack-fetch.ts';
import { modelPacks, upstreamUrl } from '../../src/detect/packs.ts';
import { ModelPackError } from '../../src/errors.ts';
import { MODELS_EXTRA } from '../helpers/fixtures.ts';

const run = promisify(execFile);
const BIN = new URL('../../bin/anonymiser', import.meta.url).pathname;
const FILE = 'yunet_n_dynamic.onnx';

type Mode = 'good' | 'altered' | 'cut-with-length' | 'cut-chunked' | 'missing';
let modes: Mode[] = [];
let requests = 0;
let server: Server;
let base = '';

before(async () => {
  const original = await readFile(join(MODELS_EXTRA, FILE));
  server = createServer((req, res) => {
    requests++;
    const mode = modes.length > 1 ? modes.shift()! : (modes[0] ?? 'good');
    if (req.url !== `/${FILE}` || mode === 'missing') {
      res.writeHead(404).end('not here');
      return;
    }
    if (mode === 'good') {
      res.writeHead(200, { 'content-length': original.length }).end(original);
    } else if (mode === 'altered') {
      const bytes = Buffer.from(original);
      bytes[1000] = bytes[1000]! ^ 0xff;
      res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
    } else if (mode === 'cut-with-length') {
      // Announces the whole file, sends half and drops the connection.
      res.writeHead(200, { 'content-length': original.length });
      res.write(original.subarray(0, original.length >> 1), () => res.socket?.destroy());
    } else {
      // No length announced: the stream ends cleanly but short.
      res.writeHead(200);
      res.end(original.subarray(0, original.length - 4096));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'anonymiser-packs-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const sha256 = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');

test('the manifest pins each pack file to a commit on GitHub with its size, sha256 and licence', () => {
  const yunet = modelPacks().find((p) => p.name === 'yunet');
  assert.ok(yunet?.default, 'yunet is a default pack');
  const f = yunet.files[0]!;
  assert.equal(upstreamUrl(f), 'https://raw.githubusercontent.com/ShiqiYu/libfacedetection.train/0047ac24afb1a50a0c6105001c89d1b5b805dbf1/onnx/yunet_n_dynamic.onnx');
  assert.equal(f.bytes, 322906);
  assert.equal(f.licence, 'Apache-2.0');
});

test('a good download installs the verified file; a second fetch finds it installed', async () => {
  await withDir(async (dir) => {
    modes = ['good'];
    const [pack] = await fetchPacks({ packsDir: dir, mirror: base });
    assert.equal(pack!.files[0]!.status, 'installed');
    assert.deepEqual(await readdir(dir), [FILE]);
    assert.equal(await sha256(join(dir, FILE)), modelPacks()[0]!.files[0]!.sha256);
    const before = requests;
    const [again] = await fetchPacks({ packsDir: dir, mirror: base });
    assert.equal(again!.files[0]!.status, 'present');
    assert.equal(requests, before, 'nothing downloaded again');
  });
});

for (const [mode, reason] of [
  ['altered', /sha256 [0-9a-f]{64} does not match/],
  ['cut-with-length', /yunet_n_dynamic\.onnx from http:\/\/127\.0\.0\.1/],
  ['cut-chunked', /bytes received, 322906 expected/],
  ['missing', /404/],
] as const) {
  test(`a ${mode} download installs nothing and says why`, async () => {
    await withDir(async (dir) => {
      modes = [mode];
      await assert.rejects(fetchPacks({ packsDir: dir, mirror: base, retries: 1 }), (err: unknown) => {
        assert.ok(err instanceof ModelPackError);
        assert.match(err.message, reason);
        assert.match(err.message, /nothing of this pack was installed/);
        return true;
      });
      assert.deepEqual(await readdir(dir), [], 'no model file and no partial file left');
    });
  });
}

test('a failed attempt is retried cleanly, and a new fetch after a failure succeeds', async () => {
  await withDir(async (dir) => {
    modes = ['cut-with-length', 'altered', 'good'];
    const logs: string[] = [];
    await fetchPacks({ packsDir: dir, mirror: base, retries: 2, log: (m) => logs.push(m) });
    assert.equal(logs.filter((l) => /attempt \d failed/.test(l)).length, 2);
    assert.deepEqual(await readdir(dir), [FILE]);
    assert.equal(await sha256(join(dir, FILE)), modelPacks()[0]!.files[0]!.sha256);
  });
  await withDir(async (dir) => {
    modes = ['cut-chunked'];
    await assert.rejects(fetchPacks({ packsDir: dir, mirror: base, retries: 0 }), ModelPackError);
    assert.deepEqual(await readdir(dir), []);
    modes = ['good'];
    await fetchPacks({ packsDir: dir, mirror: base, retries: 0 });
    assert.deepEqual(await readdir(dir), [FILE]);
  });
});

test('a mirror folder (a copy of the files by name) installs the pack; a folder without them fails', async () => {
  await withDir(async (dir) => {
    await fetchPacks({ packsDir: dir, mirror: MODELS_EXTRA });
    assert.deepEqual(await readdir(dir), [FILE]);
    const empty = join(dir, 'empty-mirror');
    await assert.rejects(fetchPacks({ packsDir: join(dir, 'other'), mirror: empty }), /ENOENT/);
    assert.deepEqual(await readdir(join(dir, 'other')), []);
  });
});

test('the CLI fetches through --model-mirror and ANONYMISER_MODEL_MIRROR, and exits non-zero on a bad hash', async () => {
  await withDir(async (dir) => {
    modes = ['good'];
    const ok = await run(process.execPath, [BIN, 'models', 'fetch', 'yunet', '--packs-dir', dir, '--model-mirror', base]);
    assert.match(ok.stderr, /yunet: yunet_n_dynamic\.onnx installed from http:\/\/127\.0\.0\.1/);
    const bad = join(dir, 'bad');
    modes = ['altered'];
    const failed = await run(process.execPath, [BIN, 'models', 'fetch', '--packs-dir', bad], { env: { ...process.env, ANONYMISER_MODEL_MIRROR: base } }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    assert.equal(failed.code, 2);
    assert.match(failed.stderr, /^error: yunet_n_dynamic\.onnx from http:\/\/127\.0\.0\.1:\d+\/yunet_n_dynamic\.onnx: sha256 .* does not match/m);
    assert.deepEqual(await readdir(bad), []);
  });
});

test('downloaded pack files are git-ignored in the models folder', async () => {
  for (const f of modelPacks().flatMap((p) => p.files)) {
    const { stdout } = await run('git', ['check-ignore', `models/${f.file}`, `models/.${f.file}.1.abcd.partial`], { cwd: new URL('../..', import.meta.url).pathname });
    assert.equal(stdout.trim().split('\n').length, 2, `${f.file} is ignored`);
  }
});
