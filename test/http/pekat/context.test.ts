import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildContext, errorContext } from '../../../src/http/pekat/context.ts';
import { asciiJson, contextHeaders, contextInBody, CONTEXT_OMITTED_HEADER, HEADER_CONTEXT_LIMIT } from '../../../src/http/pekat/framing.ts';

const input = {
  width: 640,
  height: 480,
  detections: [
    { id: 1, type_label: 'face' as const, score: 0.91234567, bbox: [10, 20, 50, 80] as [number, number, number, number] },
    { id: 2, type_label: 'license-plate' as const, score: 0.7, bbox: [100, 200, 160, 220] as [number, number, number, number] },
  ],
  processingSeconds: 0.123456,
  completeSeconds: 0.2,
  data: 'Kamera 1 – Straße',
};

test('context: PEKAT field names, one rectangle per detection with x/y/width/height and class names', () => {
  const c = buildContext(input);
  assert.equal(c.processing, true);
  assert.equal(c.error, false);
  assert.equal(c.production_mode, true);
  assert.equal(c.result, true);
  assert.deepEqual(c.imageShape, { height: 480, width: 640 });
  assert.equal(c.processingTime, 0.1235);
  assert.equal(c.completeTime, 0.2);
  assert.equal(c.data, 'Kamera 1 – Straße');
  assert.deepEqual(c.detectedRectangles[0], {
    id: 1, x: 10, y: 20, width: 40, height: 60, rotate: 0, confidence: 0.9123,
    classNames: [{ id: 1, label: 'face', confidence: 0.9123 }],
    source: { moduleId: 'anonymiser', modelId: 'face', type: 'DETECTOR' },
  });
  assert.deepEqual(c.detectedRectangles[1]!.classNames, [{ id: 2, label: 'license-plate', confidence: 0.7 }]);
  const e = errorContext('bad', 'x');
  assert.equal(e.error, true);
  assert.equal(e.processing, false);
  assert.deepEqual(e.errors, ['bad']);
});

test('context headers: base64 of the UTF-8 JSON and one-line ASCII JSON that both decode to the context', () => {
  const c = buildContext(input);
  const h = contextHeaders(c);
  assert.deepEqual(JSON.parse(Buffer.from(h.ContextBase64utf!, 'base64').toString('utf8')), c);
  assert.match(h.context!, /^[\x20-\x7e]+$/);
  assert.deepEqual(JSON.parse(h.context!), c);
  assert.equal(asciiJson({ s: 'ß€' }), '{"s":"\\u00df\\u20ac"}');
});

test('a context over 4 KB is not put in headers; the response says so and context_in_body carries it', () => {
  const many = { ...input, detections: Array.from({ length: 60 }, (_, i) => ({ ...input.detections[0]!, id: i + 1 })) };
  const c = buildContext(many);
  const h = contextHeaders(c);
  assert.equal(h.ContextBase64utf, undefined);
  assert.equal(h.context, undefined);
  assert.match(h[CONTEXT_OMITTED_HEADER]!, new RegExp(`over the ${HEADER_CONTEXT_LIMIT}-byte header limit; ask with context_in_body`));
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
  const framed = contextInBody(png, c);
  const len = Number(framed.headers.ImageLen);
  assert.equal(len, png.length);
  assert.ok(framed.body.subarray(0, len).equals(png));
  assert.deepEqual(JSON.parse(framed.body.subarray(len).toString('utf8')), c);
});
