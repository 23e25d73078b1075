import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createDetectionEngine } from '../../src/detect/engine.ts';
import { processImage } from '../../src/pipeline/image/index.ts';
import type { Box } from '../../src/types.ts';
import { FACE_PHOTO } from '../helpers/fixtures.ts';
import { params } from '../render/helpers.ts';

function meanAbsDiff(a: Buffer, b: Buffer, width: number, box: Box): number {
  let sum = 0;
  let n = 0;
  for (let y = Math.floor(box.y0); y < Math.ceil(box.y1); y++) {
    for (let x = Math.floor(box.x0); x < Math.ceil(box.x1); x++) {
      for (let c = 0; c < 3; c++) sum += Math.abs(a[(y * width + x) * 3 + c] - b[(y * width + x) * 3 + c]);
      n += 3;
    }
  }
  return sum / n;
}

test('real face model on a real photo: every face found is blurred, the rest only re-encoded', async () => {
  const engine = await createDetectionEngine({ classes: ['face'], provider: 'cpu' });
  try {
    const dir = await mkdtemp(join(tmpdir(), 'real-'));
    const r = await processImage({ id: 'real', inputPath: FACE_PHOTO, outputDir: dir, stem: 'faces', params: params({ classes: ['face'] }), engine });
    // Scores are the detector's business; what matters here is that whatever it reports gets blurred.
    assert.ok(r.detections.length >= 3, `the three pasted astronaut faces: got ${r.detections.length}`);
    const confident = r.detections.filter((d) => d.box.x1 - d.box.x0 >= 30);
    const input = await sharp(FACE_PHOTO).raw().toBuffer();
    const output = await sharp(r.outputs.anonymised!).raw().toBuffer();
    for (const d of confident) assert.ok(meanAbsDiff(input, output, r.width, d.box) > 6, `face at ${JSON.stringify(d.box)} not blurred`);
    // A 100×60 patch of the coffee table far from any detection: only JPEG re-encoding noise.
    const far = { x0: 1080, y0: 20, x1: 1180, y1: 80 };
    assert.ok(r.detections.every((d) => d.box.x1 < far.x0 - 60 || d.box.y0 > far.y1 + 60));
    assert.ok(meanAbsDiff(input, output, r.width, far) < 3);
    const meta = JSON.parse(await readFile(r.outputs.metadata, 'utf8'));
    assert.equal(meta.detections.length, r.detections.length);
    assert.ok(meta.detections.every((d: { type: number; is_anonymised: boolean }) => d.type === 103 && d.is_anonymised));
  } finally {
    await engine.dispose();
  }
});
