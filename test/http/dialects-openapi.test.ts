// The Maskit and PEKAT OpenAPI documents: valid OpenAPI 3.1, and in step with the routes and parameters served.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { buildMaskitOpenApi } from '../../src/http/maskit/openapi.ts';
import { maskitRoutes } from '../../src/http/maskit/routes.ts';
import { MASKIT_FIELDS, MASKIT_IMAGE_FIELD } from '../../src/http/maskit/params.ts';
import { buildPekatOpenApi } from '../../src/http/pekat/openapi.ts';
import { pekatRoutes } from '../../src/http/pekat/routes.ts';
import { PEKAT_QUERY } from '../../src/http/pekat/params.ts';
import type { Route } from '../../src/http/dialect.ts';

const noop = () => undefined;
const documents = {
  maskit: { doc: buildMaskitOpenApi() as Record<string, any>, routes: maskitRoutes({}, noop) },
  pekat: { doc: buildPekatOpenApi() as Record<string, any>, routes: pekatRoutes({ keepResults: false }, noop) },
};

/** openapi-spec-validator (Python) checks a document against the OpenAPI 3.1 schema and its rules. */
function validateWithPython(doc: unknown): { available: boolean; ok: boolean; output: string } {
  const script = 'import sys, json\nfrom openapi_spec_validator import validate\nvalidate(json.load(sys.stdin))\nprint("valid")';
  const r = spawnSync('python3', ['-c', script], { input: JSON.stringify(doc), encoding: 'utf8' });
  if (r.error || /No module named/.test(r.stderr ?? '')) return { available: false, ok: false, output: String(r.error ?? r.stderr) };
  return { available: true, ok: r.status === 0 && r.stdout.trim() === 'valid', output: `${r.stdout}${r.stderr}`.slice(-2000) };
}

function operations(doc: Record<string, any>): { key: string; operationId: string }[] {
  return Object.entries(doc.paths as Record<string, Record<string, { operationId: string }>>).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ key: `${method} ${path}`, operationId: op.operationId })),
  );
}

const served = (routes: Route[]) => routes.map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`).sort();

for (const [name, { doc, routes }] of Object.entries(documents)) {
  test(`${name}: a valid OpenAPI 3.1 document`, (t) => {
    assert.equal(doc.openapi, '3.1.0');
    const r = validateWithPython(doc);
    if (!r.available) return t.skip(`python3 with openapi-spec-validator is not installed: ${r.output.slice(0, 200)}`);
    assert.ok(r.ok, r.output);
  });

  test(`${name}: every route documented, every documented operation served, unique operationIds`, () => {
    const ops = operations(doc);
    assert.deepEqual(ops.map((o) => o.key).sort(), served(routes));
    assert.equal(new Set(ops.map((o) => o.operationId)).size, ops.length);
    assert.ok(ops.every((o) => o.operationId));
  });
}

test('maskit: process-image documents exactly the form fields the server reads', () => {
  const schema = documents.maskit.doc.paths['/api/v1/masking/process-image'].post.requestBody.content['multipart/form-data'].schema;
  assert.deepEqual(Object.keys(schema.properties).sort(), [MASKIT_IMAGE_FIELD, ...Object.keys(MASKIT_FIELDS)].sort());
  assert.equal(schema.properties.blurStrength.default, 30);
  assert.deepEqual(schema.properties.shape.enum, ['Mask', 'Rectangle']);
});

test('pekat: the analyze operations document exactly the query parameters the server reads', () => {
  const names = (path: string) => documents.pekat.doc.paths[path].post.parameters.map((p: { name: string }) => p.name).sort();
  assert.deepEqual(names('/analyze_raw_image'), Object.keys(PEKAT_QUERY).sort());
  assert.deepEqual(names('/analyze_image'), ['api_key', 'context_in_body', 'data', 'response_type']);
  const width = documents.pekat.doc.paths['/analyze_raw_image'].post.parameters.find((p: { name: string }) => p.name === 'width');
  assert.equal(width.required, true);
});
