// Sends a webhook request built by a dialect's notifier, retrying with exponential backoff. Every target goes
// through the webhook guard (src/net/webhook-guard.ts), and redirects are never followed.
import got, { HTTPError, RequestError } from 'got';
import type { WebhookRequest } from './notifier.ts';
import { WebhookGuard, webhookHeaderNameProblem } from '../net/webhook-guard.ts';
import { AppError } from '../errors.ts';

const DEFAULT_GUARD = new WebhookGuard();

export interface WebhookOptions {
  retries: number;
  timeoutMs: number;
  /** First retry delay; doubles each time. */
  backoffMs: number;
  /** Which targets may be reached (--webhook-allow/--webhook-deny); the default rules when absent. */
  guard?: WebhookGuard;
}

/** Resolves ok when the receiver answered 2xx, not ok when every attempt failed. Never throws. */
export async function sendWebhook(req: WebhookRequest, opts: WebhookOptions): Promise<{ ok: boolean; error?: string }> {
  const guard = opts.guard ?? DEFAULT_GUARD;
  for (const name of Object.keys(req.headers)) {
    // Records from before the header rule existed are checked again here.
    const problem = webhookHeaderNameProblem(name);
    if (problem) return { ok: false, error: `header ${name}: ${problem}` };
  }
  try {
    // Literal addresses never reach the agents' lookup hook: check them (and the scheme, and metadata names) here.
    guard.checkUrl(req.url);
  } catch (err) {
    return { ok: false, error: err instanceof AppError ? err.message : String(err) };
  }
  try {
    const response = await got.post(req.url, {
      body: req.body,
      headers: { 'user-agent': 'anonymiser-webhook/1', ...req.headers, 'content-type': req.contentType },
      timeout: { request: opts.timeoutMs },
      // A redirect could lead anywhere, past the guard's rules: it counts as a failed delivery.
      followRedirect: false,
      agent: guard.agents(),
      retry: {
        limit: opts.retries,
        methods: ['POST'],
        statusCodes: [408, 413, 429, 500, 502, 503, 504, 521, 522, 524],
        calculateDelay: ({ attemptCount, computedValue }) => (computedValue === 0 ? 0 : opts.backoffMs * 2 ** (attemptCount - 1)),
      },
    });
    if (response.statusCode >= 300) return { ok: false, error: `HTTP ${response.statusCode} (redirects are not followed)` };
    return { ok: true };
  } catch (err) {
    const message = err instanceof HTTPError ? `HTTP ${err.response.statusCode}` : err instanceof RequestError ? err.code ?? err.message : String(err);
    return { ok: false, error: message };
  }
}
