import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../../src/errors.ts';
import { gradientForEdge, kernelSizesForStrength, parseMaskitFields } from '../../../src/http/maskit/params.ts';
import { DEFAULT_PARAMS, DEFAULT_THRESHOLDS, OBJECT_CLASSES } from '../../../src/types.ts';
import { kernelPixels } from '../../../src/render/index.ts';

const ALL = [...OBJECT_CLASSES];
const parse = (body: Record<string, unknown>, enabled = ALL) => parseMaskitFields(body, enabled, DEFAULT_THRESHOLDS);
const badField = (fn: () => unknown, field: string, pattern?: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof AppError && e.status === 400 && e.message.startsWith(`${field}:`) && (!pattern || pattern.test(e.message)));

test('defaults: faces, humans and plates; soft object shapes; our default blur and soft edge; no masks written', () => {
  const r = parse({});
  assert.deepEqual(r.params.classes, ['face', 'person', 'license-plate']);
  assert.equal(r.params.method, 'blur');
  assert.equal(r.params.bbox, false);
  assert.deepEqual(r.params.kernelSize, DEFAULT_PARAMS.kernelSize);
  assert.deepEqual(r.params.gradient, DEFAULT_PARAMS.gradient);
  assert.equal(r.params.saveMask, 'none');
  assert.equal(r.useWebhook, false);
  assert.equal(r.metadata, null);
});

test('field names and enum values in any case', () => {
  const r = parse({ SHAPE: 'rectangle', Method: 'BLACKFILL', licenseplates: 'False', UseWebhook: 'TRUE', metaData: 'user-7', blurstrength: '45', EDGEBLURSIZE: '0' });
  assert.equal(r.params.bbox, true);
  assert.equal(r.params.method, 'blacken');
  assert.deepEqual(r.params.classes, ['face', 'person']);
  assert.equal(r.useWebhook, true);
  assert.equal(r.metadata, 'user-7');
  assert.deepEqual(r.params.gradient.face, { start: 0, stop: 0 });
});

test('blurStrength: 30 is today\'s default, larger is stronger for every class, and box-relative sizes stay relative', () => {
  assert.deepEqual(kernelSizesForStrength(30), DEFAULT_PARAMS.kernelSize);
  const box = { x0: 0, y0: 0, x1: 100, y1: 100 };
  for (const cls of OBJECT_CLASSES) {
    let last = -1;
    for (const s of [0, 10, 30, 60, 100]) {
      const k = kernelPixels({ cls, score: 1, box }, kernelSizesForStrength(s));
      assert.ok(k > last || (s === 0 && k >= 1), `${cls} strength ${s}: ${k} px after ${last}`);
      last = k;
    }
    if (DEFAULT_PARAMS.kernelSize[cls] < 1) assert.ok(kernelSizesForStrength(100)[cls] < 1, `${cls} stays relative`);
  }
});

test('edgeBlurSize: 0.2 is today\'s soft edge, 0 a hard edge, 1 the widest', () => {
  assert.deepEqual(gradientForEdge(0.2), DEFAULT_PARAMS.gradient.face);
  assert.equal(gradientForEdge(0).start, 0);
  assert.ok(gradientForEdge(1).start > gradientForEdge(0.5).start);
});

test('wrong values are 400s naming the field', () => {
  badField(() => parse({ shape: 'circle' }), 'shape', /Mask, Rectangle/);
  badField(() => parse({ method: 'pixelate' }), 'method', /Blur, BlackFill/);
  badField(() => parse({ blurStrength: '30.5' }), 'blurStrength', /whole number/);
  badField(() => parse({ blurStrength: '101' }), 'blurStrength', /0 to 100/);
  badField(() => parse({ edgeBlurSize: '1.5' }), 'edgeBlurSize', /0 to 1/);
  badField(() => parse({ faces: 'maybe' }), 'faces', /true or false/);
  badField(() => parse({ colour: 'red' }), 'colour', /unknown field/);
  badField(() => parse({ faces: 'false', humans: 'false', licensePlates: 'false' }), 'faces', /nothing to mask/);
});

test('classes the container does not run: dropped when left at their default, an error when asked for', () => {
  assert.deepEqual(parse({}, ['face']).params.classes, ['face']);
  assert.throws(() => parse({ humans: 'true' }, ['face']), (e: unknown) => e instanceof AppError && e.code === 'class_not_enabled');
});
