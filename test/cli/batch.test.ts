// `anonymiser process <input-dir> <output-dir>`: the batch mode writes the API's files, mirroring folders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FACE_PHOTO } from '../helpers/fixtures.ts';

const run = promisify(execFile);
const BIN = new URL('../../bin/anonymiser', import.meta.url).pathname;

test('process anonymises every image below the input folder and reports failures in the exit code', async () => {
  const root = await mkdtemp(join(tmpdir(), 'anonymiser-batch-'));
  try {
    const input = join(root, 'in');
    await mkdir(join(input, 'day1'), { recursive: true });
    await copyFile(FACE_PHOTO, join(input, 'group.jpg'));
    await copyFile(FACE_PHOTO, join(input, 'day1', 'again.jpg'));
    await writeFile(join(input, 'notes.txt'), 'not an image');
    const out = join(root, 'out');
    const { stderr } = await run(process.execPath, [BIN, 'process', input, out, '-a', 'face', '--provider', 'cpu', '--method', 'blacken', '--save-mask', 'binary', '--no-progress']);
    assert.match(stderr, /2 processed/);
    for (const stem of ['group', join('day1', 'again')]) {
      assert.ok(existsSync(join(out, `${stem}.jpg`)), `${stem}.jpg`);
      assert.ok(existsSync(join(out, `${stem}_bin_mask.png`)), `${stem}_bin_mask.png`);
      assert.ok(!existsSync(join(out, `${stem}_ins_mask.png`)), 'save-mask binary writes no instance mask');
      const meta = JSON.parse(await readFile(join(out, `${stem}.json`), 'utf8')) as { detections: { type_label: string }[] };
      assert.ok(meta.detections.some((d) => d.type_label === 'face'));
    }
    const original = await readFile(FACE_PHOTO);
    assert.ok(!(await readFile(join(out, 'group.jpg'))).equals(original), 'the output is not the original');

    // A second run skips what is done; a broken image makes the run fail with exit code 1.
    await writeFile(join(input, 'broken.jpg'), original.subarray(0, 2000));
    const second = await run(process.execPath, [BIN, 'process', input, out, '-a', 'face', '--provider', 'cpu', '--no-progress']).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    assert.equal(second.code, 1);
    assert.match(second.stderr, /failed broken\.jpg/);
    assert.match(second.stderr, /2 skipped/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('process refuses a bad parameter with a message naming it', async () => {
  const root = await mkdtemp(join(tmpdir(), 'anonymiser-batch-'));
  try {
    const err = await run(process.execPath, [BIN, 'process', root, join(root, 'out'), '-a', 'face', '--method', 'smudge']).catch((e: { code: number; stderr: string }) => e);
    assert.equal((err as { code: number }).code, 2);
    assert.match((err as { stderr: string }).stderr, /^error: method: /);
    assert.doesNotMatch((err as { stderr: string }).stderr, /at parseFileQuery/, 'no stack trace');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
