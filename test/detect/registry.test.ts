// The detector registry (src/detect/registry.ts): plugins' model cards, the engine's choice of plugins,
// and the order of stages by their needs. Real models throughout (pack files from ../shared/models-extra).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { createDetectionEngine } from '../../src/detect/engine.ts';
import { FaceEnsemble } from '../../src/detect/face-ensemble/face-ensemble.ts';
import { describePlugins, formatPlugins } from '../../src/detect/listing.ts';
import { FaceDetector } from '../../src/detect/mediapipe-face/face.ts';
import { bundledModels } from '../../src/detect/model-cards.ts';
import { modelPacks } from '../../src/detect/packs.ts';
import type { DetectorPlugin, StageInputs } from '../../src/detect/plugin.ts';
import { PLATE_CONTEXT_VEHICLE_SCORE } from '../../src/detect/ppocr-plate/plugin.ts';
import { REGISTRY, withPlugin } from '../../src/detect/registry.ts';
import { DEFAULT_MODELS_DIR, SessionFactory } from '../../src/detect/session.ts';
import type { DetectOptions } from '../../src/detect/types.ts';
import { YunetFaceDetector } from '../../src/detect/yunet/yunet.ts';
import { ModelsUnavailableError } from '../../src/errors.ts';
import { DEFAULT_THRESHOLDS, OBJECT_CLASSES, type Box, type Detection, type RgbImage } from '../../src/types.ts';
import { MODELS_EXTRA } from '../helpers/fixtures.ts';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
/** A Brazilian car from the front, its plate readable (development set, openalpr benchmarks; not committed). */
const CAR_PHOTO = fileURLToPath(new URL('../../../shared/eval/images/plate_br_001.jpg', import.meta.url));
const contains = (b: Box, x: number, y: number) => b.x0 <= x && x < b.x1 && b.y0 <= y && y < b.y1;

async function rgb(input: string | Buffer): Promise<RgbImage> {
  const { data, info } = await sharp(input).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

async function withEmptyDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'anonymiser-registry-'));
  try {
    return await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('every plugin card resolves to a manifest or pack entry with its licence and source, and every listed model file belongs to a plugin', () => {
  const bundled = new Map(bundledModels().map((m) => [m.file, m]));
  const packed = new Map(modelPacks().flatMap((p) => p.files.map((f) => [f.file, { pack: p.name, f }] as const)));
  const claimed = new Set<string>();
  for (const plugin of REGISTRY.plugins) {
    const cards = plugin.modelCards();
    assert.deepEqual(cards.map((c) => c.file), [...plugin.files], plugin.key);
    assert.ok(cards.length > 0, `${plugin.key} names no model file`);
    for (const card of cards) {
      claimed.add(card.file);
      assert.ok(card.licence.length > 0 && card.source.length > 0 && card.input.name.length > 0, `${plugin.key}: ${card.file}`);
      if (card.origin === 'bundled') {
        const entry = bundled.get(card.file)!;
        assert.equal(card.licence, entry.licence);
        assert.equal(card.sha256, entry.sha256);
        assert.ok(card.source.includes(entry.source.package), card.source);
        assert.ok(existsSync(path.join(DEFAULT_MODELS_DIR, card.file)), `${card.file} is bundled`);
      } else {
        const { pack, f } = packed.get(card.file)!;
        assert.equal(card.pack, pack);
        assert.equal(card.licence, f.licence);
        assert.equal(card.sha256, f.sha256);
        assert.match(card.source, new RegExp(`^https://raw\\.githubusercontent\\.com/${f.source.repo}/${f.source.commit}/`));
      }
    }
  }
  assert.deepEqual([...claimed].sort(), [...new Set([...bundled.keys(), ...packed.keys()])].sort(), 'model files no plugin loads');
});

test('the registry: a detector for every class, preference face yunet > ensemble, roles and needs consistent', () => {
  for (const cls of OBJECT_CLASSES) {
    const list = REGISTRY.detectors[cls];
    assert.ok(list.length > 0, cls);
    for (const p of list) assert.ok(p.role === 'detector' && p.classes.includes(cls), `${p.key} for ${cls}`);
  }
  assert.deepEqual(REGISTRY.detectors.face.map((p) => p.key), ['yunet', 'ensemble']);
  assert.deepEqual(REGISTRY.refiners.person?.map((p) => p.key), ['selfie-mask']);
  const keys = REGISTRY.plugins.map((p) => p.key);
  assert.equal(new Set(keys).size, keys.length, 'keys are unique');
  for (const p of REGISTRY.plugins) {
    for (const m of p.members ?? []) assert.equal(REGISTRY.plugins.find((q) => q.key === m)?.role, 'member', `${p.key} member ${m}`);
    // A need names a class some detector provides, and no plugin needs its own classes.
    for (const n of p.needs) assert.ok(REGISTRY.detectors[n.cls].length > 0 && !REGISTRY.detectors[n.cls].includes(p), `${p.key} needs ${n.cls}`);
  }
  const plate = REGISTRY.detectors['license-plate'][0]!;
  assert.deepEqual(plate.needs, [{ cls: 'vehicle', optional: true, minScore: PLATE_CONTEXT_VEHICLE_SCORE, early: true }]);
});

test('the engine takes yunet when the packs folder has it, the ensemble otherwise or when asked; yunet asked for without its pack is the same error as before', async () => {
  const withPack = await createDetectionEngine({ classes: ['face'], provider: 'cpu', packsDir: MODELS_EXTRA });
  try {
    assert.equal(withPack.faceDetector, 'face:yunet');
    assert.deepEqual(withPack.plugins, ['yunet']);
  } finally {
    await withPack.dispose();
  }
  const forced = await createDetectionEngine({ classes: ['face'], provider: 'cpu', packsDir: MODELS_EXTRA, faceDetector: 'ensemble' });
  try {
    assert.equal(forced.faceDetector, 'face:ensemble(full-range,ssd-mobilenet,mtcnn)');
  } finally {
    await forced.dispose();
  }
  await withEmptyDir(async (empty) => {
    const bundled = await createDetectionEngine({ classes: ['face'], provider: 'cpu', packsDir: empty });
    try {
      assert.equal(bundled.faceDetector, 'face:ensemble(full-range,ssd-mobilenet,mtcnn)');
      assert.deepEqual(bundled.plugins, ['ensemble']);
    } finally {
      await bundled.dispose();
    }
    await assert.rejects(createDetectionEngine({ classes: ['face'], provider: 'cpu', packsDir: empty, faceDetector: 'yunet' }), (err: unknown) => {
      assert.ok(err instanceof ModelsUnavailableError);
      assert.equal(err.message, 'face detector yunet asked for, but yunet_n_dynamic.onnx is not installed: run "anonymiser models fetch yunet"');
      return true;
    });
  });
  await assert.rejects(createDetectionEngine({ classes: ['license-plate'], provider: 'cpu', modelsDir: '/nonexistent' }), (err: unknown) => {
    assert.ok(err instanceof ModelsUnavailableError);
    assert.equal(err.message, 'model file not found: /nonexistent/ppocr_v4_det.onnx');
    return true;
  });
});

interface StageCall {
  key: string;
  options: DetectOptions;
  inputs: StageInputs;
  /** The detections of its early needs, once they came, and when. */
  pending: StageInputs;
  pendingAt: number;
  start: number;
  end: number;
  found: Detection[];
}

/** The plugin with its stage's calls recorded (the real stage runs). */
function observed(plugin: DetectorPlugin, calls: StageCall[]): DetectorPlugin {
  return {
    ...plugin,
    create: async (factory, options) => {
      const stage = await plugin.create(factory, options);
      return {
        name: stage.name,
        run: async (image, opts, inputs, pending) => {
          const start = performance.now();
          const given: StageInputs = {};
          let pendingAt = start;
          const waited = Promise.all(Object.entries(pending ?? {}).map(async ([cls, p]) => {
            given[cls as keyof StageInputs] = await p;
            pendingAt = performance.now();
          }));
          const found = await stage.run(image, opts, inputs, pending);
          await waited;
          calls.push({ key: plugin.key, options: opts, inputs, pending: given, pendingAt, start, end: performance.now(), found });
          return found;
        },
      };
    },
  };
}

test('needs: plates get the vehicles found (from the context score), starting beside them; faces run beside persons and vehicles', { skip: !existsSync(CAR_PHOTO) && 'no ../shared/eval' }, async () => {
  const calls: StageCall[] = [];
  let registry = REGISTRY;
  for (const key of ['nanodet', 'yunet', 'ppocr-plate']) registry = withPlugin(registry, observed(REGISTRY.plugins.find((p) => p.key === key)!, calls));
  const engine = await createDetectionEngine({ classes: ['face', 'license-plate'], provider: 'cpu', packsDir: MODELS_EXTRA, registry });
  try {
    assert.deepEqual(engine.plugins, ['nanodet', 'yunet', 'ppocr-plate'], 'plates bring the vehicle detector');
    const image = await rgb(CAR_PHOTO);
    // A vehicle threshold above the context score: plates still get every vehicle from 0.3.
    const thresholds = { ...DEFAULT_THRESHOLDS, vehicle: 0.9 };
    const { detections, timings } = await engine.detect(image, { classes: ['face', 'license-plate'], thresholds });
    const by = (key: string) => calls.find((c) => c.key === key)!;
    const objects = by('nanodet');
    const plates = by('ppocr-plate');
    const faces = by('yunet');
    assert.deepEqual(objects.options.classes, ['vehicle'], 'only vehicles are searched for plates');
    assert.equal(objects.options.thresholds.vehicle, PLATE_CONTEXT_VEHICLE_SCORE);
    const vehicles = objects.found.filter((d) => d.cls === 'vehicle');
    assert.ok(vehicles.length >= 1, 'the car is found');
    assert.equal(plates.inputs.vehicle, undefined, 'an early need comes as a promise, not with the inputs');
    assert.deepEqual(plates.pending.vehicle, vehicles, 'the plate stage gets the vehicles found');
    assert.ok(plates.start < objects.end, 'plates start (their whole-frame pass) before the vehicles are found');
    assert.ok(plates.pendingAt >= objects.end && plates.end >= objects.end, 'their vehicles come when the vehicle stage ends');
    assert.ok(faces.start < objects.end && objects.start < faces.end, 'faces and persons+vehicles overlap');
    // The plate (annotated at 529..756 × 308..381) is found, once; no vehicle is returned (not asked).
    assert.deepEqual(detections.map((d) => d.cls).filter((c) => c !== 'face'), ['license-plate']);
    assert.ok(contains(detections.find((d) => d.cls === 'license-plate')!.box, 640, 345));
    assert.deepEqual(Object.keys(timings).sort(), ['face', 'license-plate', 'person+vehicle']);
  } finally {
    await engine.dispose();
  }
});

test('person masks: the refiner runs on the persons found; without its model persons come without masks and a line says so', async () => {
  const image = await rgb(path.join(fixtures, 'astronaut.jpg'));
  const calls: StageCall[] = [];
  let registry = withPlugin(REGISTRY, observed(REGISTRY.plugins.find((p) => p.key === 'nanodet')!, calls));
  registry = withPlugin(registry, observed(REGISTRY.plugins.find((p) => p.key === 'selfie-mask')!, calls));
  const engine = await createDetectionEngine({ classes: ['person', 'vehicle'], provider: 'cpu', registry });
  try {
    assert.deepEqual(engine.plugins, ['nanodet', 'selfie-mask']);
    const { detections } = await engine.detect(image, { classes: ['person'], thresholds: DEFAULT_THRESHOLDS });
    const masks = calls.find((c) => c.key === 'selfie-mask')!;
    const objects = calls.find((c) => c.key === 'nanodet')!;
    assert.deepEqual(masks.inputs.person, objects.found.filter((d) => d.cls === 'person'));
    assert.ok(masks.start >= objects.end);
    assert.ok(detections.length >= 1 && detections.every((d) => d.cls === 'person' && d.mask), JSON.stringify(detections.map((d) => d.cls)));
    // Vehicles alone: no masks to make.
    calls.length = 0;
    await engine.detect(image, { classes: ['vehicle'], thresholds: DEFAULT_THRESHOLDS });
    assert.deepEqual(calls.map((c) => c.key), ['nanodet']);
  } finally {
    await engine.dispose();
  }
  await withEmptyDir(async (dir) => {
    for (const m of bundledModels()) if (m.file !== 'selfie_segmentation.onnx') await symlink(path.join(DEFAULT_MODELS_DIR, m.file), path.join(dir, m.file));
    const lines: string[] = [];
    const bare = await createDetectionEngine({ classes: ['person'], provider: 'cpu', modelsDir: dir, log: (level, m) => lines.push(`${level} ${m}`) });
    try {
      assert.deepEqual(bare.plugins, ['nanodet']);
      assert.deepEqual(lines, ['warn selfie_segmentation.onnx not found; persons are covered by their boxes']);
      const { detections, timings } = await bare.detect(image, { classes: ['person'], thresholds: DEFAULT_THRESHOLDS });
      assert.ok(detections.length >= 1 && detections.every((d) => !d.mask));
      assert.equal(timings['person-mask'], undefined);
    } finally {
      await bare.dispose();
    }
  });
});

test('the face ensemble takes any face detector as a member: YuNet beside MediaPipe full range finds the three faces', async () => {
  const factory = new SessionFactory({ provider: 'cpu', packsDir: MODELS_EXTRA });
  try {
    const ensemble = FaceEnsemble.of([{ detector: await YunetFaceDetector.create(factory) }, { detector: await FaceDetector.create(factory, { model: 'full-range' }) }]);
    assert.equal(ensemble.name, 'face:ensemble(yunet,full-range)');
    const detections = await ensemble.detect(await rgb(path.join(fixtures, 'faces-group.jpg')), { classes: ['face'], thresholds: { ...DEFAULT_THRESHOLDS, face: 0.3 } });
    for (const [x, y] of [[165, 165], [310, 180], [520, 110]] as const) {
      assert.equal(detections.filter((d) => contains(d.box, x, y)).length, 1, `face at ${x},${y}: ${JSON.stringify(detections)}`);
    }
    assert.throws(() => FaceEnsemble.of([]), TypeError);
  } finally {
    await factory.dispose();
  }
});

test('models list: every plugin with its classes, files, licences and whether it is installed', async () => {
  await withEmptyDir(async (empty) => {
    const text = formatPlugins(describePlugins(new SessionFactory({ provider: 'cpu', packsDir: empty })));
    for (const p of REGISTRY.plugins) assert.match(text, new RegExp(`^${p.key} \\[${p.role}\\] ${p.classes.join(', ')};`, 'm'));
    assert.match(text, /^yunet \[detector\] face; stage face: not installed$/m);
    assert.match(text, /^ {2}yunet_n_dynamic\.onnx \(pack yunet, missing\) Apache-2\.0; https:\/\/raw\.githubusercontent\.com\/ShiqiYu\//m);
    assert.match(text, /^ppocr-plate \[detector\] license-plate; stage license-plate; needs vehicle \(optional\) from score 0\.3: installed$/m);
    assert.match(text, /^ {2}face_ssd_mobilenetv1\.onnx \(bundled, present\) MIT; npm @vladmandic\/face-api@/m);
  });
  const installed = formatPlugins(describePlugins(new SessionFactory({ provider: 'cpu', packsDir: MODELS_EXTRA })));
  assert.match(installed, /^yunet \[detector\] face; stage face: installed$/m);
});
