import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFileQuery, parsePaging, parseFrameRange, parseAsyncHeader, presentParameters, FILE_PARAMETERS, cliParameters, defaultParams, parameterSchema } from '../../src/http/celantur/params.ts';
import { BadParameterError, BadParametersError, ClassNotEnabledError } from '../../src/errors.ts';
import { DEFAULT_THRESHOLDS, OBJECT_CLASSES } from '../../src/types.ts';

const all = [...OBJECT_CLASSES];
const parse = (q: Record<string, unknown>, enabled = all, lenient = false) => parseFileQuery(q, enabled, { thresholds: DEFAULT_THRESHOLDS }, { lenient });

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
      (e: unknown) => e instanceof BadParametersError && e.status === 400 && e.parameter === key && e.problems.length === 1,
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
  assert.throws(() => parse({ score: 'true' }), (e: unknown) => e instanceof BadParametersError && e.parameter === 'score');
  assert.throws(() => parse({ webhook: 'http://x.test/', 'web-auth-header-name': 'A' }), (e: unknown) => e instanceof BadParametersError && e.parameter === 'web-auth-header-value');
  assert.throws(() => parse({ quality: ['80', '90'] }), (e: unknown) => e instanceof BadParametersError && e.parameter === 'quality');
});

test('paging and frame ranges', () => {
  assert.deepEqual(parsePaging({}), { page: 1, limit: 50 });
  assert.deepEqual(parsePaging({ page: '3', limit: '2' }), { page: 3, limit: 2 });
  assert.throws(() => parsePaging({ page: '0' }), BadParameterError);
  assert.deepEqual(parseFrameRange({ start: '10' }), { start: 10, end: 509 });
  assert.throws(() => parseFrameRange({ start: '10', end: '5' }), BadParameterError);
});

// The exact query of Celantur's sync example client (server/celantur-api-client.py): its full default set.
const CELANTUR_SYNC_CLIENT_QUERY = 'debug=False&score=False&save_mask=&watermark=False&method=blur&face=True&license_plate=False&person=False&vehicle=False&format=whole&bbox=False&quality=0&ignores=[]';

test("Celantur's sync client default set is accepted: empty = default, watermark=False is a no-op, quality=0 the default", () => {
  const query = Object.fromEntries(new URLSearchParams(CELANTUR_SYNC_CLIENT_QUERY));
  const { params, warnings } = parse(query);
  assert.deepEqual(params.classes, ['face']);
  assert.equal(params.saveMask, 'all');
  assert.equal(params.quality, 90);
  assert.equal(params.method, 'blur');
  assert.deepEqual(warnings, ['quality: 0 means the default, 90']);
});

test('mask-scale=0 means the default; watermark=true and a format other than whole are accepted with a warning', () => {
  const { params, warnings } = parse({ 'mask-scale': '0', watermark: 'true', format: 'pano:equirect' });
  assert.equal(params.maskScale, 100);
  assert.equal(warnings.length, 3);
  assert.match(warnings.join('\n'), /watermark/);
  assert.match(warnings.join('\n'), /format/);
});

test('every wrong parameter of one request is reported at once, one entry each', () => {
  assert.throws(
    () => parse({ quality: '101', method: 'smudge', colour: 'red', face: 'maybe' }),
    (e: unknown) => {
      assert.ok(e instanceof BadParametersError);
      assert.equal(e.status, 400);
      assert.equal(e.code, 'bad_parameter');
      assert.deepEqual(e.problems.map((p) => p.parameter), ['quality', 'method', 'colour', 'face']);
      assert.deepEqual((e.details as { details: unknown[] }).details, e.problems);
      return true;
    },
  );
});

test('names that exist on every JavaScript object are unknown parameters, not a crash', () => {
  for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
    assert.throws(() => parse({ [name]: '1' }), (e: unknown) => e instanceof BadParametersError && e.parameter === name, name);
  }
});

test('--lenient-params turns unknown names into warnings; both spellings of one name are refused', () => {
  const { params, warnings } = parse({ colour: 'red', quality: '80' }, all, true);
  assert.equal(params.quality, 80);
  assert.deepEqual(warnings, ['colour: unknown parameter, ignored']);
  assert.throws(() => parse({ license_plate: 'true', 'license-plate': 'false' }), (e: unknown) => e instanceof BadParametersError && /twice/.test(e.message));
});

test('x-is-async takes the query booleans: true, 1, yes in any case', () => {
  for (const v of ['true', 'True', 'TRUE', '1', 'yes', 'Yes']) assert.equal(parseAsyncHeader(v), true, v);
  for (const v of [undefined, '', 'false', '0', 'no', 'False']) assert.equal(parseAsyncHeader(v), false, String(v));
  assert.throws(() => parseAsyncHeader('maybe'), (e: unknown) => e instanceof BadParameterError && e.parameter === 'x-is-async');
});

test('the task parameters keep their Celantur v1 names and show the applied values', () => {
  const shown = presentParameters(parse({ quality: '80', license_plate: 'true' }).params);
  assert.deepEqual(Object.keys(shown), [
    'method', 'debug', 'score', 'face', 'license_plate', 'person', 'vehicle', 'bbox', 'ignores', 'mask_scale', 'save_mask', 'quality',
    'compress_level', 'kernel_size_face', 'kernel_size_license_plate', 'kernel_size_person', 'kernel_size_vehicle',
    'face_anonymization_gradient_start', 'face_anonymization_gradient_stop', 'license_plate_anonymization_gradient_start',
    'license_plate_anonymization_gradient_stop', 'face_threshold', 'license_plate_threshold', 'person_threshold', 'vehicle_threshold', 'fill_color',
  ]);
  assert.equal(shown.quality, 80);
  assert.equal(shown.license_plate, true);
  assert.equal(shown.face, false);
  assert.equal(shown.face_threshold, DEFAULT_THRESHOLDS.face);
});

test('documented defaults are the applied ones, the server thresholds included; the process flags come from the same table', () => {
  const thresholds = { ...DEFAULT_THRESHOLDS, face: 0.61 };
  const defaults = defaultParams(all, thresholds);
  const applied = presentParameters(parseFileQuery({}, all, { thresholds }).params);
  for (const spec of FILE_PARAMETERS) {
    if (!spec.read || spec.cls) continue;
    const documented = parameterSchema(spec, defaults).default;
    const key = spec.name.replace(/-/g, '_');
    const expected = spec.docDefault ? spec.docDefault(applied[key]) : applied[key];
    assert.deepEqual(documented, expected, spec.name);
  }
  assert.equal(parameterSchema(FILE_PARAMETERS.find((s) => s.name === 'face-threshold')!, defaults).default, 0.61);
  const flags = cliParameters(defaults).map((f) => f.name);
  assert.ok(flags.includes('quality') && flags.includes('save-mask') && !flags.includes('webhook'));
  assert.match(cliParameters(defaults).find((f) => f.name === 'quality')!.description, /default: 90/);
});
