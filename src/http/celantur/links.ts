// Download links of a task in the Celantur v1 URL scheme, for responses and webhook bodies.
import type { Task } from '../../tasks/store.ts';

export type TaskLinks = Record<string, string>;

/** Only links that answer: a deleted task has no files left, so it links only to its record. */
export function taskLinks(task: Task, baseUrl: string): TaskLinks {
  const file = `${baseUrl}/v1/file/${task.id}`;
  const links: TaskLinks = { task: `${baseUrl}/v1/task/${task.id}` };
  if (task.status === 'deleted') return links;
  links.original = `${file}/original`;
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
