// How PEKAT ships the context next to an image: headers `ContextBase64utf` (base64 of the UTF-8 JSON)
// and `context` (one-line ASCII JSON) while each fits in 4 KB, or, with `context_in_body`, the PNG bytes
// followed by the JSON in one body with `ImageLen` = PNG length.

/** PEKAT's SDK: a header context "must be < 4KB". */
export const HEADER_CONTEXT_LIMIT = 4096;
/** Sent instead of the context headers when they would exceed the limit. */
export const CONTEXT_OMITTED_HEADER = 'X-Context-Omitted';

/** JSON with every non-ASCII character escaped, so it is a valid header value. */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function contextHeaders(context: unknown): Record<string, string> {
  const ascii = asciiJson(context);
  const b64 = Buffer.from(JSON.stringify(context), 'utf8').toString('base64');
  if (ascii.length >= HEADER_CONTEXT_LIMIT || b64.length >= HEADER_CONTEXT_LIMIT) {
    return {
      [CONTEXT_OMITTED_HEADER]: `the context is ${b64.length} bytes in base64, over the ${HEADER_CONTEXT_LIMIT}-byte header limit; ask with context_in_body`,
    };
  }
  return { ContextBase64utf: b64, context: ascii };
}

export function contextInBody(png: Buffer, context: unknown): { body: Buffer; headers: Record<string, string> } {
  return { body: Buffer.concat([png, Buffer.from(JSON.stringify(context), 'utf8')]), headers: { ImageLen: String(png.length) } };
}
