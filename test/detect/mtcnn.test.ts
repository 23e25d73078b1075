import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { MtcnnFaceDetector, sampleCrop, square } from '../../src/detect/mtcnn/mtcnn.ts';
import { SessionFactory } from '../../src/detect/session.ts';
import type { Box, RgbImage } from '../../src/types.ts';

const groupPhoto = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/faces-group.jpg');
// Nose tips in the 640-px group photo (as in detectors.e2e.test.ts).
const NOSES = [
  [165, 165],
  [310, 180],
  [520, 110],
] as const;

async function groupAt(width: number): Promise<RgbImage> {
  const { data, info } = await sharp(groupPhoto).resize(width).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

const contains = (b: Box, x: number, y: number) => b.x0 <= x && x < b.x1 && b.y0 <= y && y < b.y1;

test('the MTCNN cascade finds each face of the group photo once, at full size and shrunk to faces of ~14 px', async () => {
  const factory = new SessionFactory({ provider: 'cpu' });
  try {
    const mtcnn = await MtcnnFaceDetector.create(factory);
    for (const width of [640, 96]) {
      const f = width / 640;
      const found = await mtcnn.detectAbove(await groupAt(width), 0.5);
      assert.equal(found.length, 3, `${width} px: ${JSON.stringify(found)}`);
      for (const [x, y] of NOSES) {
        const hits = found.filter((d) => contains(d.box, x * f, y * f));
        assert.equal(hits.length, 1, `${width} px: face at ${x},${y}`);
        const h = (hits[0]!.box.y1 - hits[0]!.box.y0) / f;
        assert.ok(h > 60 && h < 140, `${width} px: face box height ${h} (in 640-px pixels)`);
      }
    }
  } finally {
    await factory.dispose();
  }
});

test("O-Net's face probability is high for boxes on faces and low for boxes on clothes and wall", async () => {
  const factory = new SessionFactory({ provider: 'cpu' });
  try {
    const mtcnn = await MtcnnFaceDetector.create(factory);
    const around = ([x, y]: readonly [number, number]) => ({ x0: x - 35, y0: y - 45, x1: x + 35, y1: y + 35 });
    const probs = await mtcnn.faceProbability(await groupAt(640), [...NOSES, [40, 400], [600, 400], [320, 20]].map((p) => around(p as [number, number])));
    assert.ok(probs.slice(0, 3).every((p) => p > 0.9), `faces: ${probs}`);
    assert.ok(probs.slice(3).every((p) => p < 0.2), `not faces: ${probs}`);
    assert.deepEqual(await mtcnn.faceProbability(await groupAt(640), []), []);
  } finally {
    await factory.dispose();
  }
});

test('sampleCrop resamples a box bilinearly and fills what lies outside the image with black', () => {
  // 4×2 image: red rises with x (0, 60, 120, 180), green is 200 on row 1, blue constant 7.
  const data = Buffer.alloc(4 * 2 * 3);
  for (let y = 0; y < 2; y++) for (let x = 0; x < 4; x++) data.set([x * 60, y * 200, 7], (y * 4 + x) * 3);
  const image = { data, width: 4, height: 2 };
  const same = new Float32Array(4 * 4 * 3);
  // The top-left 2×2 pixels at 2× scale: sample centres fall between pixel centres.
  sampleCrop(image, { x0: 0, y0: 0, x1: 2, y1: 2 }, 4, same);
  const at = (out: Float32Array, size: number, u: number, v: number) => Array.from(out.subarray((v * size + u) * 3, (v * size + u) * 3 + 3)).map((n) => Math.round(n * 100) / 100);
  assert.deepEqual(at(same, 4, 1, 1), [15, 50, 7]); // x 0.25 between pixels 0 and 1, y 0.25
  assert.deepEqual(at(same, 4, 2, 2), [45, 150, 7]);
  const outside = new Float32Array(2 * 2 * 3);
  sampleCrop(image, { x0: -10, y0: -10, x1: -4, y1: -4 }, 2, outside);
  assert.ok(outside.every((v) => v === 0));
});

test('square() keeps the centre and takes the longer side', () => {
  assert.deepEqual(square({ x0: 10, y0: 0, x1: 20, y1: 40 }), { x0: -5, y0: 0, x1: 35, y1: 40 });
});
