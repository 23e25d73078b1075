import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { buildWebhookBody, signedWebhookRequest, SIGNATURE_HEADER } from '../../../src/http/maskit/signature.ts';

/** Reads the body with the platform's own multipart parser (undici's FormData). */
async function parseMultipart(body: Buffer, contentType: string) {
  const form = await new Response(new Uint8Array(body), { headers: { 'content-type': contentType } }).formData();
  const file = form.get('maskedImage') as File;
  return {
    fields: { metadata: form.get('metadata') as string },
    files: { maskedImage: { data: Buffer.from(await file.arrayBuffer()), filename: file.name, mimeType: file.type } },
  };
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
