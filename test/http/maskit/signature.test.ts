import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import busboy from 'busboy';
import { buildWebhookBody, signedWebhookRequest, SIGNATURE_HEADER } from '../../../src/http/maskit/signature.ts';

function parseMultipart(body: Buffer, contentType: string): Promise<{ fields: Record<string, string>; files: Record<string, { data: Buffer; filename: string; mimeType: string }> }> {
  return new Promise((resolve, reject) => {
    const fields: Record<string, string> = {};
    const files: Record<string, { data: Buffer; filename: string; mimeType: string }> = {};
    const bb = busboy({ headers: { 'content-type': contentType } });
    bb.on('field', (name, value) => (fields[name] = value));
    bb.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => (files[name] = { data: Buffer.concat(chunks), filename: info.filename, mimeType: info.mimeType }));
    });
    bb.on('close', () => resolve({ fields, files }));
    bb.on('error', reject);
    bb.end(body);
  });
}

test('webhook body: a multipart parser reads metadata and maskedImage back unchanged', async () => {
  const image = Buffer.from([0xff, 0xd8, 0xff, 0, 13, 10, 45, 45, 0xff, 0xd9]);
  const { body, contentType } = buildWebhookBody({ metadata: 'order 42 – ü', image, filename: 'masked_a"b.jpg', contentType: 'image/jpeg' });
  const parsed = await parseMultipart(body, contentType);
  assert.equal(parsed.fields.metadata, 'order 42 – ü');
  assert.ok(parsed.files.maskedImage!.data.equals(image));
  assert.equal(parsed.files.maskedImage!.filename, 'masked_a_b.jpg');
  assert.equal(parsed.files.maskedImage!.mimeType, 'image/jpeg');
});

test('X-Signature is the lowercase hex HMAC-SHA256 of the entire raw body with the secret', () => {
  const { body, headers } = signedWebhookRequest({ metadata: 'm', image: Buffer.from('png'), filename: 'masked_x.png', contentType: 'image/png' }, 's3cret');
  const expected = createHmac('sha256', 's3cret').update(body).digest('hex');
  assert.equal(headers[SIGNATURE_HEADER], expected);
  assert.match(headers[SIGNATURE_HEADER]!, /^[0-9a-f]{64}$/);
  assert.ok(body.subarray(0, 2).toString() === '--', 'the signed bytes start with the first boundary');
  const other = createHmac('sha256', 'wrong').update(body).digest('hex');
  assert.notEqual(headers[SIGNATURE_HEADER], other);
});
