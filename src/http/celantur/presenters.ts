// The JSON shape of a task as Celantur's API shows it (field names from its v1 API), plus our additions.
import type { Task } from '../../tasks/store.ts';
import { taskLinks } from './links.ts';
import { presentParameters } from './params.ts';

export function presentTask(task: Task, baseUrl: string) {
  const p = task.params;
  return {
    id: task.id,
    file_id: task.id,
    name: task.name,
    media_type: task.kind,
    content_type: task.mime,
    status: task.status,
    file_status: task.status,
    error: task.error,
    failure_reason: task.status === 'failed' ? { code: task.errorCode ?? 'processing_failed', message: task.error ?? '' } : null,
    upload_time: task.uploadTime,
    start_time: task.startTime,
    end_time: task.endTime,
    delete_time: task.deleteTime,
    progress: { done: task.progressDone, total: task.progressTotal },
    detections: task.detectionCount,
    webhook: task.webhook?.url ?? null,
    webhook_status: task.webhookStatus,
    parameters: presentParameters(p),
    warnings: task.warnings,
    links: taskLinks(task, baseUrl),
  };
}
