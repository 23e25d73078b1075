// The task as InstaVid360's status query shows it (and its callback sends it).
import { join } from 'node:path';
import sharp from 'sharp';
import type { Task } from '../../tasks/store.ts';
import { newKey, type ImageStore, type KeyedTask, type StoredImage } from '../../tasks/image-store.ts';

/** Task types as the seed writes "Background Replace"; "LPA" is our reading (est.). */
export const TASK_TYPES = { lpa: 'LPA', bg: 'Background Replace' } as const;

/** The seed's statuses, in lower case as its example writes "new". */
export const STATUSES = ['new', 'validated', 'in process', 'lpa process', 'completed', 'error'] as const;

export function statusOf(task: Task, taskType: string): (typeof STATUSES)[number] {
  switch (task.status) {
    case 'queued':
      // Queued again after a restart: it was checked and is waiting for its next run.
      return task.attempts > 0 ? 'validated' : 'new';
    case 'processing':
      return taskType === TASK_TYPES.lpa ? 'lpa process' : 'in process';
    case 'done':
      return 'completed';
    default:
      return 'error';
  }
}

/** The result image of a completed task, registered under its own imagekey the first time it is asked for. */
export async function resultImage(images: ImageStore, task: Task): Promise<StoredImage | undefined> {
  if (task.status !== 'done' || !task.outputs.anonymised) return undefined;
  const known = await images.resultOf(task.id);
  if (known) return known;
  const path = join(task.outputDir, task.outputs.anonymised);
  const meta = await sharp(path).metadata();
  return images.addImage({
    key: newKey(),
    owner: task.createdBy,
    kind: 'result',
    path,
    mime: meta.format === 'png' ? 'image/png' : 'image/jpeg',
    width: meta.width ?? 0,
    height: meta.height ?? 0,
    taskId: task.id,
  });
}

export async function presentStatus(images: ImageStore, task: Task, keyed: KeyedTask, base: string) {
  const s = keyed.state as { reference?: string; task_type?: string; options?: unknown; meta?: unknown; callback_url?: string | null };
  const taskType = s.task_type ?? TASK_TYPES.lpa;
  const result = await resultImage(images, task);
  const status = statusOf(task, taskType);
  return {
    reference: s.reference ?? null,
    status,
    task: keyed.key,
    task_type: taskType,
    options: s.options ?? {},
    meta: s.meta ?? null,
    callback_url: s.callback_url ?? null,
    result: result ? { imagekey: result.key, url: `${base}/api/image/${result.key}`, width: result.width, height: result.height } : null,
    // Why it failed (est.: the seed says "check messages for details").
    ...(status === 'error' ? { messages: [task.error ?? 'the task was deleted'] } : {}),
  };
}
