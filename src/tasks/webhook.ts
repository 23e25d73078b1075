// Tells the client's webhook that a task finished, retrying with exponential backoff.
import got, { HTTPError, RequestError } from 'got';
import type { Task } from './store.ts';
import type { TaskLinks } from './links.ts';
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

export function webhookBody(task: Task, links: TaskLinks) {
  return {
    id: task.id,
    task_id: task.id,
    status: task.status,
    task_status: task.status,
    name: task.name,
    error: task.error,
    links,
    anonymized_url: links.anonymised ?? null,
  };
}

/** Resolves true when the webhook answered 2xx, false when every attempt failed. Never throws. */
export async function deliverWebhook(task: Task, links: TaskLinks, opts: WebhookOptions): Promise<{ ok: boolean; error?: string }> {
  if (!task.webhook) return { ok: true };
  const guard = opts.guard ?? DEFAULT_GUARD;
  const headers: Record<string, string> = { 'user-agent': 'anonymiser-webhook/1' };
  if (task.webhook.headerName && task.webhook.headerValue !== undefined) {
    // Records from before the header rule existed are checked again here.
    const problem = webhookHeaderNameProblem(task.webhook.headerName);
    if (problem) return { ok: false, error: `web-auth-header-name: ${problem}` };
    headers[task.webhook.headerName] = task.webhook.headerValue;
  }
  try {
    // Literal addresses never reach the agents' lookup hook: check them (and the scheme, and metadata names) here.
    guard.checkUrl(task.webhook.url);
  } catch (err) {
    return { ok: false, error: err instanceof AppError ? err.message : String(err) };
  }
  try {
    const response = await got.post(task.webhook.url, {
      json: webhookBody(task, links),
      headers,
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
