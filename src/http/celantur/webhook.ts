// The webhook a Celantur client receives when its task ends: a JSON POST with our own names, Celantur Cloud
// v2's (task_id, task_status, anonymized_url) and Celantur v1's (file_id, file_status, *_link), plus the
// header the client asked for with web-auth-header-name/-value.
import type { Task } from '../../tasks/store.ts';
import type { CompletionNotifier, WebhookRequest } from '../../tasks/notifier.ts';
import { taskLinks, type TaskLinks } from './links.ts';

export function webhookBody(task: Task, links: TaskLinks) {
  return {
    id: task.id,
    task_id: task.id,
    file_id: task.id,
    status: task.status,
    task_status: task.status,
    file_status: task.status,
    name: task.name,
    error: task.error,
    failure_reason: task.status === 'failed' ? { code: task.errorCode ?? 'processing_failed', message: task.error ?? '' } : null,
    links,
    anonymized_url: links.anonymised ?? null,
    original_link: links.original ?? null,
    anonymized_link: links.anonymised ?? null,
    binary_mask_link: links.binary_mask ?? null,
    instance_mask_link: links.instance_mask ?? null,
    metadata_link: links.metadata ?? null,
  };
}

export type CelanturWebhookBody = ReturnType<typeof webhookBody>;

export function celanturNotifier(baseUrl: () => string): CompletionNotifier {
  return {
    request(task): WebhookRequest | null {
      if (!task.webhook) return null;
      const headers: Record<string, string> = {};
      if (task.webhook.headerName && task.webhook.headerValue !== undefined) headers[task.webhook.headerName] = task.webhook.headerValue;
      return {
        url: task.webhook.url,
        headers,
        contentType: 'application/json',
        body: JSON.stringify(webhookBody(task, taskLinks(task, baseUrl()))),
      };
    },
  };
}
