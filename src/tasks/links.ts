// Download links for a task, used in API responses and webhook bodies.
import type { Task } from './store.ts';

export type TaskLinks = Record<string, string>;

export function taskLinks(task: Task, baseUrl: string): TaskLinks {
  const file = `${baseUrl}/v1/file/${task.id}`;
  const links: TaskLinks = { task: `${baseUrl}/v1/task/${task.id}`, original: `${file}/original` };
  if (task.status !== 'done') return links;
  const o = task.outputs;
  if (task.kind === 'video') {
    if (o.anonymised) links.anonymised = `${file}/video/anonymised`;
    if (o.videoMetadataDir) links.metadata = `${file}/video/metadata`;
    return links;
  }
  if (o.anonymised) links.anonymised = `${file}/anonymised`;
  if (o.binaryMask) links.binary_mask = `${file}/binary-mask`;
  if (o.instanceMask) links.instance_mask = `${file}/instance-mask`;
  if (o.metadata) links.metadata = `${file}/metadata`;
  return links;
}
