// Sends a webhook request built by a dialect's notifier, retrying with exponential backoff.
import got, { HTTPError, RequestError } from 'got';
import type { WebhookRequest } from './notifier.ts';

export interface WebhookOptions {
  retries: number;
  timeoutMs: number;
  /** First retry delay; doubles each time. */
  backoffMs: number;
}

/** Resolves ok when the receiver answered 2xx, not ok when every attempt failed. Never throws. */
export async function sendWebhook(req: WebhookRequest, opts: WebhookOptions): Promise<{ ok: boolean; error?: string }> {
  try {
    await got.post(req.url, {
      body: req.body,
      headers: { 'user-agent': 'anonymiser-webhook/1', ...req.headers, 'content-type': req.contentType },
      timeout: { request: opts.timeoutMs },
      retry: {
        limit: opts.retries,
        methods: ['POST'],
        statusCodes: [408, 413, 429, 500, 502, 503, 504, 521, 522, 524],
        calculateDelay: ({ attemptCount, computedValue }) => (computedValue === 0 ? 0 : opts.backoffMs * 2 ** (attemptCount - 1)),
      },
    });
    return { ok: true };
  } catch (err) {
    const message = err instanceof HTTPError ? `HTTP ${err.response.statusCode}` : err instanceof RequestError ? err.code ?? err.message : String(err);
    return { ok: false, error: message };
  }
}
