import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROUTES } from '../../src/http/celantur/routes.ts';
import { OPENAPI_DOCUMENT } from '../../src/http/celantur/openapi.ts';
import { FILE_QUERY_PARAMETERS } from '../../src/http/celantur/params.ts';

const toOpenApiPath = (p: string) => p.replace(/:(\w+)/g, '{$1}');

test('every route is documented and every documented operation is served', () => {
  const served = new Set(ROUTES.map((r) => `${r.method} ${toOpenApiPath(r.path)}`));
  const documented = new Set<string>();
  for (const [path, ops] of Object.entries(OPENAPI_DOCUMENT.paths)) {
    for (const method of Object.keys(ops)) documented.add(`${method} ${path}`);
  }
  assert.deepEqual([...served].sort(), [...documented].sort());
});

test('POST /v1/file documents exactly the query parameters the server accepts', () => {
  const op = OPENAPI_DOCUMENT.paths['/v1/file'].post;
  const documented = op.parameters.filter((p) => p.in === 'query').map((p) => p.name).sort();
  assert.deepEqual(documented, Object.keys(FILE_QUERY_PARAMETERS).sort());
});
