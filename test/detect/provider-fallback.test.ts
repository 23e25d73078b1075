// The GPU providers' fallback, on a machine without CUDA or TensorRT libraries (this one): asking for
// them still gives a working engine on CPU, said once in the log, and the same detections as 'cpu'.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { createDetectionEngine } from '../../src/detect/engine.ts';
import { DEFAULT_THRESHOLDS, type RgbImage } from '../../src/types.ts';
import { FACE_PHOTO } from '../helpers/fixtures.ts';

async function rgb(input: string): Promise<RgbImage> {
  const { data, info } = await sharp(input).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

test('cuda, tensorrt and auto fall back to CPU with one log line each and detect what CPU detects', async (t) => {
  const image = await rgb(FACE_PHOTO);
  const options = { classes: ['face' as const], thresholds: DEFAULT_THRESHOLDS };
  const cpu = await createDetectionEngine({ classes: ['face'], provider: 'cpu' });
  const expected = (await cpu.detect(image, options)).detections;
  await cpu.dispose();
  assert.ok(expected.length >= 2, 'the photo has faces');
  for (const provider of ['cuda', 'tensorrt', 'auto'] as const) {
    const logs: Array<[string, string]> = [];
    const engine = await createDetectionEngine({ classes: ['face'], provider, log: (level, message) => logs.push([level, message]) });
    try {
      if (engine.provider !== 'cpu') return t.skip(`${provider} really loads on this machine (${engine.provider}); the fallback cannot be seen here`);
      const fallback = logs.filter(([, m]) => /execution provider unavailable/.test(m));
      assert.equal(fallback.length, 1, `${provider}: one fallback line, not one per model: ${JSON.stringify(logs)}`);
      assert.equal(fallback[0]![0], provider === 'auto' ? 'info' : 'warn', 'asked for explicitly: a warning; auto: information');
      assert.match(fallback[0]![1], /running on CPU/);
      assert.doesNotMatch(fallback[0]![1], /\n/);
      const found = (await engine.detect(image, options)).detections;
      assert.deepEqual(found.map((d) => d.box), expected.map((d) => d.box), `${provider}: same boxes as cpu`);
    } finally {
      await engine.dispose();
    }
  }
});
