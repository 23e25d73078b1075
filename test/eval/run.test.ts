import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatEvalTable, runEvaluation } from '../../src/eval/index.ts';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');

test('evaluation on a one-image set scores found faces and a planted miss', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'eval-'));
  try {
    await mkdir(path.join(dir, 'images'));
    await copyFile(path.join(fixtures, 'faces-group.jpg'), path.join(dir, 'images', 'a.jpg'));
    const face = (x: number, y: number, w: number, h: number) => ({ label: 'face', x, y, w, h });
    const annotations = {
      images: [
        {
          file: 'images/a.jpg',
          width: 640,
          height: 427,
          // Three real heads plus a box on the empty wall that nothing should find.
          boxes: [face(125, 110, 75, 95), face(272, 140, 72, 85), face(485, 72, 64, 75), face(20, 20, 30, 30)],
          annotated_labels: ['face'],
        },
      ],
    };
    await writeFile(path.join(dir, 'annotations.json'), JSON.stringify(annotations));
    const report = await runEvaluation({ dataset: dir, classes: ['face'], provider: 'cpu' });
    const faces = report.classes[0]!;
    assert.equal(report.images, 1);
    assert.equal(faces.tally.truth, 4);
    assert.equal(faces.tally.covered, 3);
    assert.equal(faces.coverageRecall, 0.75);
    assert.equal(faces.falsePositivesPerImage, 0);
    assert.equal(faces.precision, 1);
    const table = formatEvalTable(report);
    assert.match(table, /face\s+1\s+4\s+\S+\s+0\.750/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
