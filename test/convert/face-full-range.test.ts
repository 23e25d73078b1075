/** The shipped full-range face model, decoded as models/README.md describes, boxes the face of a portrait. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODELS_DIR } from '../../tools/models/build.ts';
import { FACE_RECIPE_192, PERSON_PHOTO, fixture, runOnnx } from '../../tools/models/validations.ts';
import { imageToTensor } from '../../tools/models/preprocess.ts';

/** Face of test/fixtures/astronaut.jpg (512×512), brow to chin and ear to ear, measured by eye. */
const FACE = { x0: 172, y0: 62, x1: 282, y1: 180 };

test('face_full_range.onnx: best anchor decodes to a box on the portrait face', async () => {
  const model = readFileSync(join(MODELS_DIR, 'face_full_range.onnx'));
  const out = await runOnnx(model, { input: await imageToTensor(fixture(PERSON_PHOTO), FACE_RECIPE_192) });
  const reg = out['regressors']!.data;
  const logits = out['classificators']!.data;
  let best = 0;
  for (let i = 1; i < 2304; i++) if (logits[i]! > logits[best]!) best = i;
  const score = 1 / (1 + Math.exp(-logits[best]!));
  const scale = 512 / 192;
  const cx = ((best % 48) + 0.5) * 4 + reg[best * 16]!;
  const cy = (Math.floor(best / 48) + 0.5) * 4 + reg[best * 16 + 1]!;
  const [w, h] = [reg[best * 16 + 2]!, reg[best * 16 + 3]!];
  const box = { x0: (cx - w / 2) * scale, y0: (cy - h / 2) * scale, x1: (cx + w / 2) * scale, y1: (cy + h / 2) * scale };
  const iw = Math.max(0, Math.min(box.x1, FACE.x1) - Math.max(box.x0, FACE.x0));
  const ih = Math.max(0, Math.min(box.y1, FACE.y1) - Math.max(box.y0, FACE.y0));
  const inter = iw * ih;
  const iou = inter / ((box.x1 - box.x0) * (box.y1 - box.y0) + (FACE.x1 - FACE.x0) * (FACE.y1 - FACE.y0) - inter);
  assert.ok(score > 0.8, `best score ${score}`);
  assert.ok(iou > 0.6, `IoU ${iou} for box ${JSON.stringify(box)}`);
  // Keypoint 2 (nose tip) lies inside the face box.
  const nose = { x: (((best % 48) + 0.5) * 4 + reg[best * 16 + 8]!) * scale, y: ((Math.floor(best / 48) + 0.5) * 4 + reg[best * 16 + 9]!) * scale };
  assert.ok(nose.x > FACE.x0 && nose.x < FACE.x1 && nose.y > FACE.y0 && nose.y < FACE.y1, `nose at ${JSON.stringify(nose)}`);
});
