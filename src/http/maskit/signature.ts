// Maskit's webhook request: multipart/form-data with a text part `metadata` and a file part `maskedImage`,
// signed with `X-Signature` = lowercase hex HMAC-SHA256 of the entire raw body (boundaries included).
import { createHmac, randomBytes } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Signature';

export interface MaskitWebhookPayload {
  metadata: string;
  image: Buffer;
  filename: string;
  contentType: string;
}

export function signBody(body: Buffer, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/** Quoted-string value for Content-Disposition: no quotes, backslashes or line breaks survive. */
function quoted(value: string): string {
  return `"${value.replace(/["\\\r\n]/g, '_')}"`;
}

export function buildWebhookBody(payload: MaskitWebhookPayload, boundary = `----maskit${randomBytes(12).toString('hex')}`): { body: Buffer; contentType: string } {
  const head = (disposition: string, type: string) => Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\nContent-Type: ${type}\r\n\r\n`, 'utf8');
  const body = Buffer.concat([
    head('form-data; name="metadata"', 'text/plain; charset=utf-8'),
    Buffer.from(payload.metadata, 'utf8'),
    Buffer.from('\r\n'),
    head(`form-data; name="maskedImage"; filename=${quoted(payload.filename)}`, payload.contentType),
    payload.image,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

export function signedWebhookRequest(payload: MaskitWebhookPayload, secret: string): { body: Buffer; headers: Record<string, string> } {
  const { body, contentType } = buildWebhookBody(payload);
  return { body, headers: { 'content-type': contentType, [SIGNATURE_HEADER]: signBody(body, secret) } };
}
