// `anonymiser eval --packs both --model-mirror <dir>`: one table with the YuNet pack, one with the bundled ensemble.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MODELS_EXTRA } from '../helpers/fixtures.ts';

const run = promisify(execFile);
const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
const BIN = new URL('../../bin/anonymiser', import.meta.url).pathname;

test('eval --packs both prints the table with the pack and without it, and --packs with needs the pack', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'eval-packs-'));
  try {
    await mkdir(path.join(dir, 'images'));
    await copyFile(path.join(fixtures, 'faces-group.jpg'), path.join(dir, 'images', 'a.jpg'));
    const face = (x: number, y: number, w: number, h: number) => ({ label: 'face', x, y, w, h });
    await writeFile(
      path.join(dir, 'annotations.json'),
      JSON.stringify({ images: [{ file: 'images/a.jpg', width: 640, height: 427, boxes: [face(131, 113, 73, 107), face(274, 135, 79, 105), face(482, 62, 88, 101)], annotated_labels: ['face'] }] }),
    );
    const { stdout } = await run(process.execPath, [BIN, 'eval', '--dataset', dir, '-a', 'face', '--provider', 'cpu', '--packs', 'both', '--model-mirror', MODELS_EXTRA]);
    const [withPacks, without] = stdout.split(/^== /m).filter(Boolean);
    assert.match(withPacks!, /^with packs \(yunet\)\n.*faces by face:yunet/);
    assert.match(without!, /^without packs .*\n.*faces by face:ensemble\(/);
    for (const table of [withPacks!, without!]) assert.match(table, /^face +1 +3 +[\d.]+ +1\.000 /m, 'all three faces covered');
    const failed = await run(process.execPath, [BIN, 'eval', '--dataset', dir, '-a', 'face', '--provider', 'cpu', '--packs', 'with', '--packs-dir', path.join(dir, 'none')]).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    assert.equal(failed.code, 2);
    assert.match(failed.stderr, /error: face detector yunet asked for, but yunet_n_dynamic\.onnx is not installed: run "anonymiser models fetch yunet"/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
