import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROUTES } from '../../src/http/celantur/routes.ts';
import { buildOpenApi } from '../../src/http/celantur/openapi.ts';
import { FILE_PARAMETERS } from '../../src/http/celantur/params.ts';
import { DEFAULT_THRESHOLDS, OBJECT_CLASSES } from '../../src/types.ts';

const toOpenApiPath = (p: string) => p.replace(/:(\w+)/g, '{$1}');
const doc = buildOpenApi({ classes: [...OBJECT_CLASSES], thresholds: DEFAULT_THRESHOLDS }, 'http://localhost:8080');

test('every route is documented and every documented operation is served, each with an operationId', () => {
  const served = new Set(ROUTES.map((r) => `${r.method} ${toOpenApiPath(r.path)}`));
  const documented = new Set<string>();
  const ids = new Set<string>();
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops as Record<string, { operationId: string }>)) {
      documented.add(`${method} ${path}`);
      assert.ok(op.operationId, `${method} ${path} has an operationId`);
      ids.add(op.operationId);
    }
  }
  assert.deepEqual([...served].sort(), [...documented].sort());
  assert.equal(ids.size, documented.size, 'operationIds are unique');
});

test('POST /v1/file documents exactly the query parameters the server accepts, with the defaults it applies', () => {
  const op = doc.paths['/v1/file'].post;
  const query = op.parameters.filter((p) => p.in === 'query');
  assert.deepEqual(query.map((p) => p.name).sort(), FILE_PARAMETERS.map((s) => s.name).sort());
  const def = (name: string) => (query.find((p) => p.name === name)!.schema as { default?: unknown }).default;
  for (const cls of OBJECT_CLASSES) assert.equal(def(`${cls}-threshold`), DEFAULT_THRESHOLDS[cls]);
  assert.equal(def('quality'), 90);
  const tuned = buildOpenApi({ classes: ['face'], thresholds: { ...DEFAULT_THRESHOLDS, face: 0.6 } }, 'http://x');
  const tunedQuery = tuned.paths['/v1/file'].post.parameters.filter((p) => p.in === 'query');
  assert.equal((tunedQuery.find((p) => p.name === 'face-threshold')!.schema as { default?: unknown }).default, 0.6);
  assert.deepEqual(tuned.servers, [{ url: 'http://x', description: 'this server' }]);
});

test('the x-is-async pattern takes the truthy words in any case', () => {
  const header = doc.paths['/v1/file'].post.parameters.find((p) => p.name === 'x-is-async')!;
  const re = new RegExp((header.schema as { pattern: string }).pattern);
  for (const v of ['true', 'True', '1', 'yes', 'YES', 'false', '0', 'no']) assert.ok(re.test(v), v);
  assert.ok(!re.test('maybe'));
});
