/** The converted face-api SSD MobileNetV1 matches face-api's own network (tfjs-cpu) and finds the portrait face. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODELS_DIR } from '../../tools/models/build.ts';
import { compareSsdWithFaceApi, SSD_RECIPE } from '../../tools/models/validate-ssd.ts';
import { PERSON_PHOTO, fixture, runOnnx } from '../../tools/models/validations.ts';
import { imageToTensor } from '../../tools/models/preprocess.ts';
import { decodeSsdMobilenet } from '../../src/detect/ssd-mobilenet/ssd-mobilenet-decode.ts';
import { iou } from '../../src/detect/boxes.ts';

const model = readFileSync(join(MODELS_DIR, 'face_ssd_mobilenetv1.onnx'));

test('face_ssd_mobilenetv1.onnx agrees with face-api on every anchor', async () => {
  const c = await compareSsdWithFaceApi(model, PERSON_PHOTO);
  assert.ok(c.maxScoreDiff < 1e-4, `max score diff ${c.maxScoreDiff}`);
  assert.ok(c.maxBoxDiffPx < 0.01, `max box diff ${c.maxBoxDiffPx} px`);
  assert.equal(c.facesAt05.onnx, c.facesAt05.faceApi);
  assert.ok(c.facesAt05.onnx > 0);
});

test('face_ssd_mobilenetv1.onnx: best box lies on the astronaut face', async () => {
  const out = await runOnnx(model, { input: await imageToTensor(fixture(PERSON_PHOTO), SSD_RECIPE) });
  const boxes = decodeSsdMobilenet(out['box_encodings']!.data, out['class_logits']!.data, out['anchors']!.data, 512, 0.5);
  const best = boxes.reduce((a, b) => (b.score > a.score ? b : a));
  // Face of the 512×512 portrait, brow to chin and ear to ear, measured by eye (as in face-full-range.test.ts).
  const face = { x0: 172, y0: 62, x1: 282, y1: 180 };
  assert.ok(best.score > 0.9, `score ${best.score}`);
  assert.ok(iou(best, face) > 0.6, `IoU ${iou(best, face)} for ${JSON.stringify(best)}`);
});
