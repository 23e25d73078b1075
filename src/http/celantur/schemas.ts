// The response bodies of the Celantur dialect as zod schemas: the OpenAPI document's components are generated
// from them (z.toJSONSchema), and the tests check real responses against them, so the document cannot drift
// from what the server sends. Objects we build completely are strict (a field we add must be documented);
// the metadata files are loose, since their detections may gain fields.
import { z } from 'zod';
import { OBJECT_CLASSES } from '../../types.ts';
import { FILE_PARAMETERS } from './params.ts';

export const TASK_STATUSES = ['queued', 'processing', 'done', 'failed', 'deleted'] as const;
const status = z.enum(TASK_STATUSES);
const nullableString = z.string().nullable();

export const FailureReason = z
  .strictObject({ code: z.string().describe('stable cause, e.g. undecodable_file, unsupported_codec, processing_failed'), message: z.string() })
  .describe('why a task failed: a code and a short message without server paths or tool output');

export const Links = z
  .strictObject({
    task: z.url(),
    original: z.url().optional(),
    anonymised: z.url().optional(),
    binary_mask: z.url().optional(),
    instance_mask: z.url().optional(),
    metadata: z.url().optional(),
  })
  .describe('download links that answer now: a deleted task links only to its record, an unfinished one also to its original');

/** The task's `parameters`, one property per parameter of the table that has an applied value. */
export const Parameters = z.strictObject(
  Object.fromEntries(FILE_PARAMETERS.filter((s) => s.read).map((s) => [s.name.replace(/-/g, '_'), (s.shown ?? s.kind.json).describe(s.description)])),
);

export const Task = z.strictObject({
  id: z.string(),
  file_id: z.string().describe('the same as id (Celantur v1 name)'),
  name: z.string(),
  media_type: z.enum(['image', 'video']),
  content_type: z.string(),
  status,
  file_status: status.describe('the same as status (Celantur v1 name)'),
  error: nullableString.describe('failure message (failure_reason.message); null unless failed'),
  failure_reason: FailureReason.nullable(),
  upload_time: z.string(),
  start_time: nullableString,
  end_time: nullableString,
  delete_time: nullableString,
  progress: z.strictObject({ done: z.int(), total: z.int() }),
  detections: z.int().nullable().describe('objects found in an image; null for videos and unfinished tasks'),
  webhook: nullableString,
  webhook_status: z.enum(['empty', 'set', 'sent', 'failed']),
  parameters: Parameters,
  warnings: z.array(z.string()).describe('parameters accepted but not acted on (Celantur parameters we do not implement, 0 meaning the default, unknown names with --lenient-params)'),
  links: Links,
});

export const ParameterProblem = z.strictObject({ parameter: z.string(), message: z.string() });

export const Error = z.strictObject({
  error: z.strictObject({
    code: z.string().describe('stable error code: bad_parameter, class_not_enabled, unauthorized, not_found, not_ready, payload_too_large, unsupported_media_type, undecodable_file, queue_full, …'),
    message: z.string(),
    parameter: z.string().optional().describe('the (first) wrong parameter'),
    details: z.array(ParameterProblem).optional().describe('every wrong parameter of the request, one entry each'),
    status: z.string().optional().describe('the task status, when the task is not done (409)'),
    enabled: z.array(z.enum(OBJECT_CLASSES)).optional().describe('the classes the container runs (class_not_enabled)'),
    task_id: z.string().optional().describe('the task of a synchronous upload that failed in processing'),
  }),
});

export const Status = z.strictObject({
  status: z.enum(['ok', 'down']),
  version: z.string(),
  provider: z.string().nullable(),
  faceDetector: z.string().nullable().describe('the face detector in use: face:yunet with the YuNet pack installed, else the bundled ensemble; null without faces'),
  classes: z.array(z.enum(OBJECT_CLASSES)),
  queue: z.strictObject({ waiting: z.int(), running: z.int(), limit: z.int(), concurrency: z.int() }),
  tasks: z.strictObject(Object.fromEntries(TASK_STATUSES.map((s) => [s, z.int()]))),
  error: z.string().optional().describe('why the models could not be loaded (status down)'),
  replica: z
    .strictObject({ id: z.string(), host: z.string(), running: z.int(), concurrency: z.int() })
    .describe('the replica that answered'),
  cluster: z
    .strictObject({
      backend: z.enum(['sqlite', 'postgres']),
      queue_depth: z.int().describe('tasks waiting across every replica'),
      replicas: z.array(
        z.strictObject({ id: z.string(), host: z.string(), startedAt: z.string(), lastSeen: z.string(), concurrency: z.int(), running: z.int() }),
      ).describe('replicas seen by heartbeat within two lease periods'),
    })
    .describe('every replica that shares this task store'),
});

export const TaskList = z.strictObject({
  total_item_count: z.int(),
  total_page_count: z.int(),
  page: z.int(),
  limit: z.int(),
  items: z.array(Task),
});

export const DeletedTask = z.strictObject({ id: z.string(), status: z.literal('deleted'), records_deleted: z.boolean(), files_deleted: z.boolean() });
export const DeletedAll = z.strictObject({ deleted: z.int().describe('number of tasks deleted') });

export const Detection = z.looseObject({
  id: z.int(),
  type_label: z.enum(OBJECT_CLASSES),
  type: z.int(),
  score: z.number(),
  bbox: z.array(z.number()).describe('[x0, y0, x1, y1] in pixels'),
  offset: z.array(z.number()).optional(),
  is_anonymised: z.boolean().optional(),
  parent_image: z.string().optional(),
  color: z.string().nullable().optional(),
  track_id: z.int().optional().describe('videos: the same object across frames'),
});

export const ImageMetadata = z.looseObject({
  id: z.string().optional(),
  filename: z.string().optional(),
  size: z.array(z.int()).describe('[width, height]'),
  duration: z.number().describe('seconds'),
  detections: z.array(Detection),
});

/** Celantur's video metadata: a list of frames. */
export const VideoMetadata = z.array(
  z.looseObject({ id: z.int().describe('frame number, from 0'), size: z.array(z.int()).optional(), duration: z.number().optional(), detections: z.array(Detection) }),
);

export const WebhookBody = z.strictObject({
  id: z.string(),
  task_id: z.string().describe('Celantur Cloud v2 name'),
  file_id: z.string().describe('Celantur v1 name'),
  status,
  task_status: status.describe('Celantur Cloud v2 name'),
  file_status: status.describe('Celantur v1 name'),
  name: z.string(),
  error: nullableString,
  failure_reason: FailureReason.nullable(),
  links: Links,
  anonymized_url: z.url().nullable().describe('Celantur Cloud v2 name'),
  original_link: z.url().nullable().describe('Celantur v1 name'),
  anonymized_link: z.url().nullable(),
  binary_mask_link: z.url().nullable(),
  instance_mask_link: z.url().nullable(),
  metadata_link: z.url().nullable(),
});

/** Component name → schema: what #/components/schemas/<name> holds in the OpenAPI document. */
export const COMPONENTS = {
  Task,
  TaskList,
  Parameters,
  Links,
  FailureReason,
  Error,
  ParameterProblem,
  Status,
  DeletedTask,
  DeletedAll,
  Detection,
  ImageMetadata,
  VideoMetadata,
  WebhookBody,
} as const;
