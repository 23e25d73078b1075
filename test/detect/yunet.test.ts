// YuNet (the `yunet` model pack), installed from ../shared/models-extra through the mirror option into a temp folder.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { createDetectionEngine, type DetectionEngine } from '../../src/detect/engine.ts';
import { fetchPacks } from '../../src/detect/pack-fetch.ts';
import { SessionFactory } from '../../src/detect/session.ts';
import { YUNET_PLANS, YunetFaceDetector, yunetPasses } from '../../src/detect/yunet/yunet.ts';
import { calibrateScore, decodeYunetLevel, voteBoxes, type VoteOptions } from '../../src/detect/yunet/yunet-decode.ts';
import { ModelsUnavailableError } from '../../src/errors.ts';
import { DEFAULT_THRESHOLDS, type Box, type RgbImage } from '../../src/types.ts';
import { MODELS_EXTRA } from '../helpers/fixtures.ts';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
const contains = (b: Box, x: number, y: number) => b.x0 <= x && x < b.x1 && b.y0 <= y && y < b.y1;

async function rgb(input: string | Buffer): Promise<RgbImage> {
  const { data, info } = await sharp(input).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

let packsDir = '';
let engine: DetectionEngine;
before(async () => {
  packsDir = await mkdtemp(path.join(tmpdir(), 'anonymiser-yunet-'));
  await fetchPacks({ names: ['yunet'], packsDir, mirror: MODELS_EXTRA });
  engine = await createDetectionEngine({ classes: ['face'], provider: 'cpu', packsDir });
});
after(async () => {
  await engine?.dispose();
  await rm(packsDir, { recursive: true, force: true });
});

/** Asserts one detection per face (each given by a point inside it) and nothing else. */
function assertFaces(detections: { box: Box; score: number }[], faces: readonly (readonly [number, number, number])[]) {
  assert.equal(detections.length, faces.length, JSON.stringify(detections));
  for (const [x, y, height] of faces) {
    const hits = detections.filter((d) => contains(d.box, x, y));
    assert.equal(hits.length, 1, `face at ${x},${y}: ${JSON.stringify(detections)}`);
    const h = hits[0]!.box.y1 - hits[0]!.box.y0;
    assert.ok(h > height * 0.7 && h < height * 1.6, `face at ${x},${y}: box height ${h}, head about ${height}`);
  }
  assert.ok(detections.every((d) => d.score >= DEFAULT_THRESHOLDS.face));
}

test('with the pack installed, faces come from YuNet and the engine says so', () => {
  assert.equal(engine.faceDetector, 'face:yunet');
});

test('YuNet finds the three faces of the group photo, each once, and nothing on the background', async () => {
  const { detections, timings } = await engine.detect(await rgb(path.join(fixtures, 'faces-group.jpg')), { classes: ['face'], thresholds: DEFAULT_THRESHOLDS });
  // Nose tips and head heights, read off the photo (640×427).
  assertFaces(detections, [[165, 165, 105], [310, 180, 105], [520, 110, 100]]);
  assert.ok(timings.face! > 0);
});

test('YuNet finds the three pasted faces (160, 76 and 48 px high) of faces.jpg and not the cup or the table', async () => {
  const { detections } = await engine.detect(await rgb(path.join(fixtures, 'faces.jpg')), { classes: ['face'], thresholds: DEFAULT_THRESHOLDS });
  assertFaces(detections, [[266, 218, 160], [753, 124, 76], [1050, 480, 48]]);
});

test('on a 1920-px frame (the group photo 3×) each face is found once', async () => {
  const image = await rgb(await sharp(path.join(fixtures, 'faces-group.jpg')).resize(1920).toBuffer());
  const { detections } = await engine.detect(image, { classes: ['face'], thresholds: DEFAULT_THRESHOLDS });
  assertFaces(detections, [[165 * 3, 165 * 3, 315], [310 * 3, 180 * 3, 315], [520 * 3, 110 * 3, 300]]);
});

test('a stricter face threshold drops YuNet faces, a looser one keeps them: one threshold scale for both detectors', async () => {
  const image = await rgb(path.join(fixtures, 'faces-group.jpg'));
  const strict = await engine.detect(image, { classes: ['face'], thresholds: { ...DEFAULT_THRESHOLDS, face: 0.99 } });
  assert.equal(strict.detections.length, 0);
  const loose = await engine.detect(image, { classes: ['face'], thresholds: { ...DEFAULT_THRESHOLDS, face: 0.1 } });
  assert.ok(loose.detections.length >= 3);
});

test('without the pack the bundled ensemble runs; asking for yunet without it is a clear error', async () => {
  const empty = await mkdtemp(path.join(tmpdir(), 'anonymiser-nopacks-'));
  try {
    const bundled = await createDetectionEngine({ classes: ['face'], provider: 'cpu', packsDir: empty });
    try {
      assert.match(bundled.faceDetector!, /^face:ensemble\(/);
    } finally {
      await bundled.dispose();
    }
    await assert.rejects(createDetectionEngine({ classes: ['face'], provider: 'cpu', packsDir: empty, faceDetector: 'yunet' }), (err: unknown) => {
      assert.ok(err instanceof ModelsUnavailableError);
      assert.match(err.message, /anonymiser models fetch yunet/);
      return true;
    });
    const forced = await createDetectionEngine({ classes: ['face'], provider: 'cpu', packsDir, faceDetector: 'ensemble' });
    try {
      assert.match(forced.faceDetector!, /^face:ensemble\(/, '--face-detector ensemble ignores an installed pack');
    } finally {
      await forced.dispose();
    }
  } finally {
    await rm(empty, { recursive: true, force: true });
  }
});

test('decode: one cell per stride, score sqrt(cls·obj), box from the cell offset and exp sizes', () => {
  // 64×32 input at stride 32: 2 cells in one row; the second cell holds a face.
  const cls = new Float32Array([0.1, 0.81]);
  const obj = new Float32Array([0.1, 1.2]); // clamped to 1
  const bbox = new Float32Array([0, 0, 0, 0, 0.5, 0.25, Math.log(2), Math.log(1.5)]);
  const [face, ...rest] = decodeYunetLevel(cls, obj, bbox, 64, 32, 32, 0.5);
  assert.equal(rest.length, 0);
  assert.ok(Math.abs(face!.score - 0.9) < 1e-6);
  // centre ((1 + 0.5)·32, (0 + 0.25)·32) = (48, 8); size (64, 48)
  assert.deepEqual([face!.x0, face!.y0, face!.x1, face!.y1].map((v) => Math.round(v * 1000) / 1000), [16, -16, 80, 32]);
});

test('the operating score maps to the default face threshold, monotonically', () => {
  assert.ok(Math.abs(calibrateScore(0.6, 0.6, 0.34) - 0.34) < 1e-9);
  assert.equal(calibrateScore(1, 0.6, 0.34), 1);
  assert.equal(calibrateScore(0, 0.6, 0.34), 0);
  for (let s = 0; s < 1; s += 0.05) assert.ok(calibrateScore(s + 0.05, 0.6, 0.34) > calibrateScore(s, 0.6, 0.34));
});

test('search plan: 2× on small photos, 2× in one piece at 1080p, native tiles of bounded size at 12 MP', () => {
  const small = yunetPasses(400, 300, YUNET_PLANS.balanced);
  // Large faces at 0.5×; the 2× pass and its mirror image, voted together.
  assert.deepEqual(small.map((p) => [p.zoom, !!p.flip, p.vote]), [[0.5, false, undefined], [2, false, 0], [2, true, 0]]);
  assert.deepEqual(small.map((p) => Math.round(p.minFace ?? 0)), [128, 0, 0]);
  const hd = yunetPasses(1920, 1080, YUNET_PLANS.balanced);
  assert.deepEqual(hd.map((p) => p.zoom), [0.5, 2], '1080p at 2× is 8.3 MP of input: no mirrored pass');
  assert.ok(hd.every((p) => p.vote === undefined && !p.flip));
  assert.deepEqual(yunetPasses(1920, 1080, YUNET_PLANS.fast).map((p) => Math.round(p.zoom * 100) / 100), [1.1]);
  const large = yunetPasses(4000, 3000, YUNET_PLANS.balanced);
  assert.equal(large[0]!.zoom, 1024 / 4000, 'overview pass for faces larger than the overlap');
  const tiles = large.slice(1);
  assert.ok(tiles.length >= 4 && tiles.every((t) => t.zoom === 1 && t.region.x1 - t.region.x0 <= 2048 && t.region.y1 - t.region.y0 <= 2048));
  // The tiles cover the frame.
  for (const [x, y] of [[0, 0], [3999, 2999], [2000, 1500], [3999, 0]] as const) assert.ok(tiles.some((t) => contains(t.region, x, y)), `${x},${y}`);
});

const VOTE: VoteOptions = { iou: 0.4, combine: 'mean', agreeBonus: 0, lone: 0.8 };

test('voting: a face both views saw keeps the mean score and the score-weighted box; a lone box drops by the lone factor', () => {
  const a = [{ x0: 10, y0: 10, x1: 30, y1: 30, score: 0.8 }, { x0: 100, y0: 100, x1: 110, y1: 110, score: 0.7 }];
  const b = [{ x0: 12, y0: 10, x1: 32, y1: 30, score: 0.6 }, { x0: 200, y0: 10, x1: 220, y1: 30, score: 0.9 }];
  const fused = voteBoxes([a, b], VOTE);
  assert.equal(fused.length, 3);
  const both = fused.find((f) => f.x0 < 50)!;
  assert.ok(Math.abs(both.score - 0.7) < 1e-9);
  // x0 = (10·0.8 + 12·0.6) / 1.4
  assert.ok(Math.abs(both.x0 - (10 * 0.8 + 12 * 0.6) / 1.4) < 1e-9 && both.y0 === 10);
  assert.ok(Math.abs(fused.find((f) => f.x0 === 100)!.score - 0.7 * 0.8) < 1e-9, 'seen by the first view only');
  assert.ok(Math.abs(fused.find((f) => f.x0 === 200)!.score - 0.9 * 0.8) < 1e-9, 'seen by the second view only');
  // Sorted best first; a strong lone box can still beat a weak shared one.
  assert.deepEqual(fused.map((f) => f.x0), [200, both.x0, 100]);
});

test('voting: boxes below the IoU do not pair, each view gives a box at most once, one view passes through', () => {
  const a = [{ x0: 0, y0: 0, x1: 10, y1: 10, score: 0.9 }];
  const b = [{ x0: 6, y0: 0, x1: 16, y1: 10, score: 0.9 }, { x0: 1, y0: 0, x1: 11, y1: 10, score: 0.5 }];
  const fused = voteBoxes([a, b], VOTE);
  // IoU(a, b0) = 4/16 < 0.4: a pairs with b1 (IoU 9/11); b0 stays alone.
  assert.equal(fused.length, 2);
  assert.ok(fused.some((f) => Math.abs(f.score - 0.7) < 1e-9));
  assert.ok(fused.some((f) => f.x0 === 6 && Math.abs(f.score - 0.72) < 1e-9));
  assert.deepEqual(voteBoxes([a], VOTE), a);
  const three = voteBoxes([a, [], []], { ...VOTE, combine: 'max', agreeBonus: 0.05 });
  assert.ok(Math.abs(three[0]!.score - 0.9 * 0.8 * 0.8) < 1e-9, 'two views missed it');
});

test('a mirrored pass finds the faces of the mirrored photo at the same places, mapped back', async () => {
  const factory = new SessionFactory({ provider: 'cpu', modelsDir: packsDir });
  try {
    const yunet = await YunetFaceDetector.create(factory);
    const photo = path.join(fixtures, 'faces-group.jpg');
    const image = await rgb(photo);
    const mirrored = await rgb(await sharp(photo).flop().toBuffer());
    const region = { x0: 0, y0: 0, x1: image.width, y1: image.height };
    const strong = <T extends { score: number }>(boxes: T[]): T[] => boxes.filter((b) => b.score >= 0.6);
    const viaFlip = strong(await yunet.passBoxes(image, { region, zoom: 2, flip: true }, true));
    const ofMirror = strong(await yunet.passBoxes(mirrored, { region, zoom: 2 }, true)).map((b) => ({ ...b, x0: image.width - b.x1, x1: image.width - b.x0 }));
    assert.equal(viaFlip.length, 3, JSON.stringify(viaFlip));
    assert.equal(ofMirror.length, viaFlip.length);
    // sharp's linear resize of a mirrored image is the mirror of the resize to within rounding: boxes within 2 px.
    for (const b of viaFlip) assert.ok(ofMirror.some((m) => Math.abs(m.x0 - b.x0) < 2 && Math.abs(m.x1 - b.x1) < 2 && Math.abs(m.y0 - b.y0) < 2), JSON.stringify({ b, ofMirror }));
    // And the unmirrored pass sees the same three faces.
    const plain = strong(await yunet.passBoxes(image, { region, zoom: 2 }, true));
    for (const b of viaFlip) assert.ok(plain.some((p) => Math.abs(p.x0 - b.x0) < 6 && Math.abs(p.y1 - b.y1) < 6), JSON.stringify({ b, plain }));
  } finally {
    await factory.dispose();
  }
});
