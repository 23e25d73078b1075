import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { createDetectionEngine } from '../../src/detect/engine.ts';
import { ModelsUnavailableError } from '../../src/errors.ts';
import { DEFAULT_THRESHOLDS, type Box, type RgbImage } from '../../src/types.ts';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');

async function rgb(input: string | Buffer): Promise<RgbImage> {
  const { data, info } = await sharp(input).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

const contains = (b: Box, x: number, y: number) => b.x0 <= x && x < b.x1 && b.y0 <= y && y < b.y1;

test('faces: the three faces of a real group photo are found, each once, with at most one stray box', async () => {
  const engine = await createDetectionEngine({ classes: ['face'], provider: 'cpu' });
  try {
    const image = await rgb(path.join(fixtures, 'faces-group.jpg'));
    const { detections, timings } = await engine.detect(image, { classes: ['face'], thresholds: DEFAULT_THRESHOLDS });
    // Nose tips, read off the photo (640×427).
    const noses = [
      [165, 165],
      [310, 180],
      [520, 110],
    ] as const;
    // The two-model ensemble is tuned for recall on small faces; one weak stray box elsewhere is tolerated.
    assert.ok(detections.length >= 3 && detections.length <= 4, JSON.stringify(detections));
    for (const [x, y] of noses) {
      const hits = detections.filter((d) => contains(d.box, x, y));
      assert.equal(hits.length, 1, `face at ${x},${y}`);
      const h = hits[0]!.box.y1 - hits[0]!.box.y0;
      assert.ok(h > 50 && h < 140, `face box height ${h}`);
    }
    assert.ok(detections.every((d) => d.cls === 'face' && d.score >= DEFAULT_THRESHOLDS.face));
    assert.ok(timings.face! > 0);
    assert.equal(engine.provider, 'cpu');
  } finally {
    await engine.dispose();
  }
});

test('faces on a large frame (3× the group photo, 1920×1281): the coarse large-frame plan still finds each face once', async () => {
  const engine = await createDetectionEngine({ classes: ['face'], provider: 'cpu' });
  try {
    const image = await rgb(await sharp(path.join(fixtures, 'faces-group.jpg')).resize(1920).toBuffer());
    const { detections } = await engine.detect(image, { classes: ['face'], thresholds: DEFAULT_THRESHOLDS });
    for (const [x, y] of [[165, 165], [310, 180], [520, 110]] as const) {
      assert.equal(detections.filter((d) => contains(d.box, x * 3, y * 3)).length, 1, `face at ${x * 3},${y * 3}: ${JSON.stringify(detections)}`);
    }
    assert.ok(detections.length <= 4, JSON.stringify(detections));
  } finally {
    await engine.dispose();
  }
});

test('licence plate: a rendered plate on a photo is boxed with its frame, the photo around it is not', async () => {
  const plate = await sharp(
    Buffer.from(
      '<svg width="240" height="56"><rect x="1" y="1" width="238" height="54" rx="4" fill="white" stroke="black" stroke-width="2"/>' +
        '<text x="120" y="42" font-family="DejaVu Sans Mono, monospace" font-weight="bold" font-size="40" text-anchor="middle" fill="black">AB 123 CD</text></svg>',
    ),
  )
    .png()
    .toBuffer();
  const photo = await sharp(path.join(fixtures, 'astronaut.jpg'))
    .composite([{ input: plate, left: 200, top: 400 }])
    .png()
    .toBuffer();
  const engine = await createDetectionEngine({ classes: ['license-plate'], provider: 'cpu' });
  try {
    const { detections } = await engine.detect(await rgb(photo), { classes: ['license-plate'], thresholds: DEFAULT_THRESHOLDS });
    const onPlate = detections.filter((d) => contains(d.box, 320, 428));
    assert.equal(onPlate.length, 1, JSON.stringify(detections));
    const b = onPlate[0]!.box;
    // Covers the whole plate (200..440 × 400..456), without spilling far beyond it.
    assert.ok(b.x0 <= 205 && b.x1 >= 435 && b.y0 <= 405 && b.y1 >= 451, JSON.stringify(b));
    assert.ok(b.x1 - b.x0 < 320 && b.y1 - b.y0 < 100, JSON.stringify(b));
    assert.ok(detections.length <= 2, JSON.stringify(detections));
  } finally {
    await engine.dispose();
  }
});

test('person: the astronaut is found, with a silhouette mask that covers her and not the backdrop', async () => {
  const engine = await createDetectionEngine({ classes: ['person', 'vehicle'], provider: 'cpu' });
  try {
    const image = await rgb(path.join(fixtures, 'astronaut.jpg'));
    const { detections, timings } = await engine.detect(image, { classes: ['person', 'vehicle'], thresholds: DEFAULT_THRESHOLDS });
    const persons = detections.filter((d) => d.cls === 'person');
    assert.equal(persons.length, 1, JSON.stringify(detections.map((d) => [d.cls, d.score, d.box])));
    const p = persons[0]!;
    assert.ok(contains(p.box, 250, 100) && contains(p.box, 150, 400), JSON.stringify(p.box));
    assert.ok(p.mask, 'person mask');
    const m = p.mask;
    const alpha = (x: number, y: number) => m.data[(y - m.y) * m.width + (x - m.x)]!;
    assert.ok(m.x >= 0 && m.y >= 0 && m.x + m.width <= 512 && m.y + m.height <= 512);
    assert.equal(m.data.length, m.width * m.height);
    assert.ok(alpha(225, 110) > 200, `face ${alpha(225, 110)}`); // her face
    assert.ok(alpha(150, 350) > 200, `suit ${alpha(150, 350)}`); // orange suit
    assert.ok(alpha(Math.max(m.x, 60), Math.max(m.y, 20)) < 60, 'flag backdrop'); // top-left corner of the backdrop
    assert.ok(timings['person+vehicle']! > 0 && timings['person-mask']! > 0);
  } finally {
    await engine.dispose();
  }
});

test('engine: only asked classes come back; asking for no class returns nothing', async () => {
  const engine = await createDetectionEngine({ classes: ['face', 'license-plate'], provider: 'cpu' });
  try {
    const image = await rgb(path.join(fixtures, 'faces-group.jpg'));
    const plates = await engine.detect(image, { classes: ['license-plate'], thresholds: DEFAULT_THRESHOLDS });
    assert.ok(plates.detections.every((d) => d.cls === 'license-plate'));
    assert.equal(plates.timings.face, undefined);
    const strict = await engine.detect(image, { classes: ['face'], thresholds: { ...DEFAULT_THRESHOLDS, face: 0.99 } });
    assert.equal(strict.detections.length, 0);
    assert.deepEqual((await engine.detect(image, { classes: [], thresholds: DEFAULT_THRESHOLDS })).detections, []);
  } finally {
    await engine.dispose();
  }
});

test('provider auto without CUDA libraries falls back to CPU with one log line', async () => {
  const lines: string[] = [];
  const engine = await createDetectionEngine({ classes: ['face', 'license-plate'], provider: 'auto', log: (level, m) => lines.push(`${level} ${m}`) });
  try {
    // On a machine with working CUDA there is nothing to report, and the provider says so.
    if (engine.provider === 'cpu') {
      assert.equal(lines.filter((l) => l.includes('execution provider unavailable')).length, 1, lines.join('\n'));
      assert.ok(lines[0]!.startsWith('info'));
    }
  } finally {
    await engine.dispose();
  }
});

test('a missing models folder is reported as ModelsUnavailableError', async () => {
  await assert.rejects(
    createDetectionEngine({ classes: ['license-plate'], provider: 'cpu', modelsDir: '/nonexistent' }),
    ModelsUnavailableError,
  );
});
