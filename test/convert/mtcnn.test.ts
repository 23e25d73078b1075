/** The MTCNN stages rebuild byte for byte, match face-api's own MTCNN (tfjs-cpu), and tell faces from coffee. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODELS_DIR, buildModel } from '../../tools/models/build.ts';
import { MODEL_SPECS } from '../../tools/models/specs.ts';
import { compareMtcnnStage, cropBatch, faceChannel, mtcnnValidationInputs } from '../../tools/models/validate-mtcnn.ts';
import { runOnnx } from '../../tools/models/validations.ts';

const STAGES = ['pnet', 'rnet', 'onet'] as const;
const model = (stage: string) => readFileSync(join(MODELS_DIR, `face_mtcnn_${stage}.onnx`));

for (const stage of STAGES) {
  test(`face_mtcnn_${stage}: rebuilding gives the committed bytes`, () => {
    const spec = MODEL_SPECS.find((s) => s.name === `face_mtcnn_${stage}`)!;
    assert.ok(Buffer.from(buildModel(spec).bytes).equals(model(stage)));
  });

  test(`face_mtcnn_${stage}: every output matches face-api's ${stage} within 1e-5`, async () => {
    const bytes = model(stage);
    for (const { label, tensor } of await mtcnnValidationInputs(stage)) {
      const c = await compareMtcnnStage(stage, bytes, tensor, label);
      const expected = stage === 'onet' ? ['prob', 'regression', 'landmarks'] : ['prob', 'regression'];
      assert.deepEqual(Object.keys(c.maxAbsDiff), expected);
      for (const [output, diff] of Object.entries(c.maxAbsDiff)) assert.ok(diff < 1e-5, `${label} ${output}: ${diff}`);
    }
  });
}

test('R-Net and O-Net score the two face crops as faces and the coffee crop as not', async () => {
  for (const [stage, size] of [['rnet', 24], ['onet', 48]] as const) {
    const face = faceChannel((await runOnnx(model(stage), { input: await cropBatch(size) }))['prob']!.data);
    assert.ok(face[0]! > 0.99 && face[1]! > 0.99, `${stage} faces ${face[0]} ${face[1]}`);
    assert.ok(face[2]! < 0.1, `${stage} coffee ${face[2]}`);
  }
});

test('O-Net landmarks: eyes left to right above the nose, mouth corners below it', async () => {
  const lm = (await runOnnx(model('onet'), { input: await cropBatch(48) }))['landmarks']!.data;
  const [xLeftEye, xRightEye, xNose, xLeftMouth, xRightMouth, yLeftEye, yRightEye, yNose, yLeftMouth, yRightMouth] = lm;
  assert.ok(xLeftEye! < xNose! && xNose! < xRightEye!, `eyes/nose x ${xLeftEye} ${xNose} ${xRightEye}`);
  assert.ok(xLeftMouth! < xNose! && xNose! < xRightMouth!, `mouth x ${xLeftMouth} ${xRightMouth}`);
  assert.ok(Math.max(yLeftEye!, yRightEye!) < yNose! && yNose! < Math.min(yLeftMouth!, yRightMouth!), `y ${Array.from(lm.slice(5, 10))}`);
});

test('P-Net: a 12 px face on a grey strip lights the cell at its x on the third output axis', async () => {
  const [width, height, faceX, faceY] = [60, 20, 40, 4];
  const face = (await cropBatch(12)).data.subarray(0, 12 * 12 * 3);
  const data = new Float32Array(width * height * 3).fill(128);
  for (let y = 0; y < 12; y++) data.set(face.subarray(y * 36, y * 36 + 36), ((faceY + y) * width + faceX) * 3);
  const prob = (await runOnnx(model('pnet'), { input: { dims: [1, height, width, 3], data } }))['prob']!;
  const [, , cellsX, cellsY] = prob.dims as [number, number, number, number];
  assert.deepEqual([cellsX, cellsY], [Math.ceil((width - 2) / 2) - 4, Math.ceil((height - 2) / 2) - 4]);
  let best = { score: -1, i: -1, j: -1 };
  for (let i = 0; i < cellsX; i++) {
    for (let j = 0; j < cellsY; j++) {
      const score = prob.data[cellsX * cellsY + i * cellsY + j]!;
      if (score > best.score) best = { score, i, j };
    }
  }
  assert.ok(best.score > 0.9, `best ${JSON.stringify(best)}`);
  // The crop is brow to chin, so windows a cell off the exact spot score as high; x is the axis under test.
  assert.ok(Math.abs(best.i - faceX / 2) <= 1 && Math.abs(best.j - faceY / 2) <= 1, `best ${JSON.stringify(best)}`);
});
