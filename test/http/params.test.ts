import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFileQuery, parsePaging, parseFrameRange } from '../../src/http/celantur/params.ts';
import { BadParameterError, ClassNotEnabledError } from '../../src/errors.ts';
import { DEFAULT_THRESHOLDS, OBJECT_CLASSES } from '../../src/types.ts';

const all = [...OBJECT_CLASSES];
const parse = (q: Record<string, unknown>, enabled = all) => parseFileQuery(q, enabled, { thresholds: DEFAULT_THRESHOLDS });

test('no parameters gives Celantur defaults and every enabled class', () => {
  const { params, webhook } = parse({});
  assert.equal(params.method, 'blur');
  assert.equal(params.quality, 90);
  assert.equal(params.compressLevel, 5);
  assert.equal(params.maskScale, 100);
  assert.equal(params.saveMask, 'all');
  assert.deepEqual(params.kernelSize, { face: 0.35, 'license-plate': 0.5, person: 95, vehicle: 61 });
  assert.deepEqual(params.gradient.face, { start: 0.3, stop: 0 });
  assert.deepEqual(params.classes, all);
  assert.equal(webhook, null);
});

test('classes: true picks exactly those, false removes from the enabled set', () => {
  assert.deepEqual(parse({ face: 'true' }).params.classes, ['face']);
  assert.deepEqual(parse({ face: 'True', 'license-plate': '1' }).params.classes, ['face', 'license-plate']);
  assert.deepEqual(parse({ person: 'false', vehicle: 'false' }).params.classes, ['face', 'license-plate']);
  assert.deepEqual(parse({ license_plate: 'true' }).params.classes, ['license-plate']);
});

test('asking for a class the container does not run is a 400 that says so', () => {
  assert.throws(() => parse({ person: 'true' }, ['face']), (e: unknown) => e instanceof ClassNotEnabledError && e.status === 400 && /-a person/.test(e.message));
});

test('wrong values name the parameter', () => {
  const cases: Record<string, string> = {
    method: 'smudge',
    quality: '101',
    'compress-level': '3.5',
    'mask-scale': 'abc',
    debug: 'maybe',
    ignores: '[{"topLeftX":1}]',
    webhook: 'ftp://example.org/x',
    'face-threshold': '2',
    'fill-color': 'purple',
    'kernal-size-face': '3',
  };
  for (const [key, value] of Object.entries(cases)) {
    assert.throws(
      () => parse({ [key]: value }),
      (e: unknown) => e instanceof BadParameterError && e.status === 400 && e.parameter === key,
      `${key}=${value}`,
    );
  }
});

test('ignores, webhook with auth header, colours and thresholds are parsed', () => {
  const { params, webhook } = parse({
    ignores: JSON.stringify([{ topLeftX: 182, topLeftY: 154, width: 2000, height: 2000 }]),
    webhook: 'https://example.org/hook?a=1&b=2',
    'web-auth-header-name': 'X-Token',
    'web-auth-header-value': 'secret',
    'fill-color': '#ff8000',
    'face-threshold': '0.7',
    method: 'blacken',
    debug: 'true',
    score: 'true',
  });
  assert.deepEqual(params.ignores, [{ topLeftX: 182, topLeftY: 154, width: 2000, height: 2000 }]);
  assert.deepEqual(webhook, { url: 'https://example.org/hook?a=1&b=2', headerName: 'X-Token', headerValue: 'secret' });
  assert.deepEqual(params.fillColor, [255, 128, 0]);
  assert.equal(params.thresholds.face, 0.7);
  assert.equal(params.thresholds.person, DEFAULT_THRESHOLDS.person);
});

test('score needs debug, header name needs value, repeated values are refused', () => {
  assert.throws(() => parse({ score: 'true' }), (e: unknown) => e instanceof BadParameterError && e.parameter === 'score');
  assert.throws(() => parse({ webhook: 'http://x.test/', 'web-auth-header-name': 'A' }), (e: unknown) => e instanceof BadParameterError && e.parameter === 'web-auth-header-value');
  assert.throws(() => parse({ quality: ['80', '90'] }), (e: unknown) => e instanceof BadParameterError && e.parameter === 'quality');
});

test('paging and frame ranges', () => {
  assert.deepEqual(parsePaging({}), { page: 1, limit: 50 });
  assert.deepEqual(parsePaging({ page: '3', limit: '2' }), { page: 3, limit: 2 });
  assert.throws(() => parsePaging({ page: '0' }), BadParameterError);
  assert.deepEqual(parseFrameRange({ start: '10' }), { start: 10, end: 509 });
  assert.throws(() => parseFrameRange({ start: '10', end: '5' }), BadParameterError);
});
