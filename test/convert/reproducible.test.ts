/** Re-converting every model gives the bytes recorded in models/manifest.json and committed in models/. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFEST_PATH, MODELS_DIR, buildModel, sha256 } from '../../tools/models/build.ts';
import { MODEL_SPECS } from '../../tools/models/specs.ts';

const manifest = JSON.parse(readFileSync(MANIFEST_PATH, 'utf8')) as { models: { name: string; file: string; sha256: string; bytes: number }[] };

test('the manifest lists every model spec, and the committed files match it', () => {
  assert.deepEqual(manifest.models.map((m) => m.name), MODEL_SPECS.map((s) => s.name));
  for (const entry of manifest.models) {
    const bytes = readFileSync(join(MODELS_DIR, entry.file));
    assert.equal(bytes.length, entry.bytes, entry.file);
    assert.equal(sha256(bytes), entry.sha256, entry.file);
  }
});

for (const spec of MODEL_SPECS) {
  test(`re-converting ${spec.name} reproduces the manifest sha256`, () => {
    const built = buildModel(spec);
    const entry = manifest.models.find((m) => m.name === spec.name)!;
    assert.equal(sha256(built.bytes), entry.sha256);
  });
}
