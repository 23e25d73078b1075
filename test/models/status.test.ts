// /v1/status says which face detector is in use: YuNet with the pack installed, the bundled ensemble without.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchPacks } from '../../src/detect/pack-fetch.ts';
import { MODELS_EXTRA } from '../helpers/fixtures.ts';
import { startTestServer } from '../helpers/server.ts';

test('status reports the face detector: yunet from the packs folder, the ensemble without it', async () => {
  const packsDir = await mkdtemp(join(tmpdir(), 'anonymiser-status-packs-'));
  try {
    await fetchPacks({ packsDir, mirror: MODELS_EXTRA });
    for (const [dir, expected] of [[packsDir, /^face:yunet$/], [join(packsDir, 'none'), /^face:ensemble\(/]] as const) {
      const server = await startTestServer({ packsDir: dir });
      try {
        const body = (await (await fetch(`${server.url}/v1/status`)).json()) as Record<string, unknown>;
        assert.equal(body.status, 'ok');
        assert.match(String(body.faceDetector), expected);
      } finally {
        await server.stop();
      }
    }
  } finally {
    await rm(packsDir, { recursive: true, force: true });
  }
});
