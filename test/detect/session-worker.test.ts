// Sessions in worker threads (the default) against sessions on the calling thread: same outputs, same
// detections, errors that reject instead of hanging, and runs of two models in flight at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { createDetectionEngine } from '../../src/detect/engine.ts';
import { ModelsUnavailableError } from '../../src/errors.ts';
import { SessionFactory } from '../../src/detect/session.ts';
import { SessionWorkerError, WorkerSession } from '../../src/detect/session-worker.ts';
import { DEFAULT_THRESHOLDS, type ObjectClass, type RgbImage } from '../../src/types.ts';
import { FACE_PHOTO, MODELS_EXTRA } from '../helpers/fixtures.ts';

async function rgb(input: string): Promise<RgbImage> {
  const { data, info } = await sharp(input).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

function nanodetInput(seed: number): ort.Tensor {
  const data = new Float32Array(3 * 416 * 416);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.001 + seed);
  return new ort.Tensor('float32', data, [1, 3, 416, 416]);
}

test('a worker session returns the tensors an in-thread session returns, with names and dims', async () => {
  const inThread = new SessionFactory({ provider: 'cpu', sessionWorkers: false });
  const inWorker = new SessionFactory({ provider: 'cpu' });
  try {
    const a = (await inThread.load('nanodet_coco.onnx')).session;
    const b = (await inWorker.load('nanodet_coco.onnx')).session;
    assert.ok(b instanceof WorkerSession, 'the default factory puts sessions in workers');
    assert.ok(!(a instanceof WorkerSession));
    assert.deepEqual(b.inputNames, a.inputNames);
    assert.deepEqual(b.outputNames, a.outputNames);
    const ra = await a.run({ [a.inputNames[0]!]: nanodetInput(1) });
    const input = nanodetInput(1);
    const rb = await b.run({ [b.inputNames[0]!]: input });
    assert.equal(input.data.length, 0, "the input's buffer was transferred, not copied");
    for (const name of a.outputNames) {
      assert.deepEqual(rb[name]!.dims, ra[name]!.dims, name);
      assert.equal(rb[name]!.type, 'float32');
      assert.deepEqual(rb[name]!.data, ra[name]!.data, `${name}: same values`);
    }
  } finally {
    await inThread.dispose();
    await inWorker.dispose();
  }
});

test('a failed run rejects with SessionWorkerError and the session keeps working', async () => {
  const factory = new SessionFactory({ provider: 'cpu' });
  try {
    const { session } = await factory.load('nanodet_coco.onnx');
    await assert.rejects(session.run({ not_an_input: nanodetInput(0) }), SessionWorkerError);
    const bad = new ort.Tensor('float32', new Float32Array(3 * 8 * 8), [1, 3, 8, 8]);
    await assert.rejects(session.run({ [session.inputNames[0]!]: bad }), SessionWorkerError);
    const ok = await session.run({ [session.inputNames[0]!]: nanodetInput(2) });
    assert.ok(ok[session.outputNames[0]!]!.data.length > 0);
  } finally {
    await factory.dispose();
  }
});

test('runs on two worker sessions are in flight at the same time, each answered with its own outputs', async () => {
  const factory = new SessionFactory({ provider: 'cpu' });
  const reference = new SessionFactory({ provider: 'cpu', sessionWorkers: false });
  try {
    const nano = (await factory.load('nanodet_coco.onnx')).session;
    const selfie = (await factory.load('selfie_segmentation.onnx')).session;
    const selfieInput = () => new ort.Tensor('float32', new Float32Array(256 * 256 * 3).fill(0.5), [1, 256, 256, 3]);
    const [n1, s1, n2] = await Promise.all([
      nano.run({ [nano.inputNames[0]!]: nanodetInput(3) }),
      selfie.run({ [selfie.inputNames[0]!]: selfieInput() }),
      nano.run({ [nano.inputNames[0]!]: nanodetInput(4) }),
    ]);
    const refNano = (await reference.load('nanodet_coco.onnx')).session;
    const refSelfie = (await reference.load('selfie_segmentation.onnx')).session;
    const name = nano.outputNames[0]!;
    assert.deepEqual(n1[name]!.data, (await refNano.run({ [refNano.inputNames[0]!]: nanodetInput(3) }))[name]!.data);
    assert.deepEqual(n2[name]!.data, (await refNano.run({ [refNano.inputNames[0]!]: nanodetInput(4) }))[name]!.data);
    const sName = selfie.outputNames[0]!;
    assert.deepEqual(s1[sName]!.data, (await refSelfie.run({ [refSelfie.inputNames[0]!]: selfieInput() }))[sName]!.data);
  } finally {
    await factory.dispose();
    await reference.dispose();
  }
});

test('all four classes: the engine finds the same objects with sessions in workers as on the calling thread', async () => {
  const image = await rgb(FACE_PHOTO);
  const classes: ObjectClass[] = ['face', 'license-plate', 'person', 'vehicle'];
  const packsDir = existsSync(MODELS_EXTRA) ? MODELS_EXTRA : undefined;
  const results = [];
  for (const sessionWorkers of [false, true]) {
    // Same thread counts in both, so that only where the sessions run differs.
    const engine = await createDetectionEngine({ classes, provider: 'cpu', packsDir, sessionWorkers, threads: 1 });
    try {
      results.push((await engine.detect(image, { classes, thresholds: DEFAULT_THRESHOLDS })).detections);
    } finally {
      await engine.dispose();
    }
  }
  assert.ok(results[0]!.length >= 2, 'the photo has objects');
  assert.deepEqual(results[1]!.map((d) => [d.cls, d.box, d.score]), results[0]!.map((d) => [d.cls, d.box, d.score]));
});

test('a model file that is not ONNX fails to load with ModelsUnavailableError, as on the calling thread', async (t) => {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = await mkdtemp(join(tmpdir(), 'session-worker-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'broken.onnx'), 'not a model');
  const factory = new SessionFactory({ provider: 'cpu', modelsDir: dir });
  await assert.rejects(factory.load('broken.onnx'), (err) => err instanceof ModelsUnavailableError && /cannot load broken\.onnx/.test(err.message));
  await factory.dispose();
});
