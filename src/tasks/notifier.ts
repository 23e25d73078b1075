// The port through which the task service tells a client that its task ended. Each API dialect supplies one
// notifier (src/http/<dialect>/): it decides whether a webhook is due and what URL, headers and body it has.
// The service only sends what it is given (src/tasks/webhook.ts) and records the outcome.
import type { DialectState, Task } from './store.ts';

/** Why the notifier is asked: the task finished (done or failed), or was deleted before it finished. */
export type TaskEvent = 'finished' | 'deleted';

/** One HTTP POST to make, fully built. */
export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string | Buffer;
  contentType: string;
  /** Once the receiver has taken it (2xx): merge this into the task's dialect state and/or delete its files. */
  afterDelivery?: { dialectState?: DialectState; removeFiles?: boolean };
}

export interface CompletionNotifier {
  /** The webhook call for this task and event, or null when none is due. */
  request(task: Task, event: TaskEvent): WebhookRequest | null | Promise<WebhookRequest | null>;
}
