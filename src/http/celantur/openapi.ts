// OpenAPI 3.1 document of the Celantur dialect, served at /v1/openapi.json. Generated: the query parameters
// of POST /v1/file come from the parameter table (params.ts) with the defaults this server applies, the
// response bodies from the zod schemas (schemas.ts). test/http/openapi.test.ts keeps the operations in step
// with the route table, lints the document with redocly and compiles a typed client generated from it.
import { z } from 'zod';
import type { DialectContext } from '../dialect.ts';
import { MULTIPART_FIELDS } from '../upload.ts';
import { FALSE_WORDS, FILE_PARAMETERS, FRAMES_PER_REQUEST, PAGING, TRUE_WORDS, defaultParams, parameterSchema } from './params.ts';
import { COMPONENTS, TASK_STATUSES } from './schemas.ts';

const ref = (name: keyof typeof COMPONENTS) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: keyof typeof COMPONENTS, description: string) => ({ description, content: { 'application/json': { schema: ref(name) } } });
const err = (description: string) => json('Error', description);
const binary = { type: 'string', contentMediaType: 'application/octet-stream' };
const files = (description: string, ...types: string[]) => ({ description, content: Object.fromEntries(types.map((t) => [t, { schema: binary }])) });

const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'task id (file_id)' };
const q = (name: string, schema: Record<string, unknown>, description: string) => ({ name, in: 'query', required: false, schema, description });
const maskScale = q('mask-scale', { type: 'number', minimum: 0, maximum: 100 }, 'scale the mask down to this percentage of the image (0 or absent: as stored)');
const deleteChoice = [
  q('records', { type: 'boolean', default: true }, 'remove the task record (false keeps it with status deleted)'),
  q('files', { type: 'boolean', default: true }, 'remove the input and output files'),
];

/** A pattern that matches each word in any case: JSON Schema patterns have no case-insensitive flag. */
const anyCase = (words: readonly string[]) => `^(${words.map((w) => [...w].map((c) => (/[a-z]/i.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c)).join('')).join('|')})$`;

const common = { '401': err('missing or wrong API key (servers started with --api-key)') };
const taskErrors = { '404': err('no such task, or the task produced no such file'), '409': err('the task is not done (its status is in error.status)') };

function components() {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(COMPONENTS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { uri: (id) => `#/components/schemas/${id}` }) as { schemas: Record<string, Record<string, unknown>> };
  for (const s of Object.values(schemas)) {
    delete s.$schema;
    delete s.$id;
  }
  return schemas;
}

/** The document as this server serves it: its own URL, its classes and its thresholds as defaults. */
export function buildOpenApi(ctx: Pick<DialectContext, 'classes' | 'thresholds'>, serverUrl: string) {
  const defaults = defaultParams(ctx.classes, ctx.thresholds);
  const fileParameters = FILE_PARAMETERS.map((s) => q(s.name, parameterSchema(s, defaults), s.description));
  return {
    openapi: '3.1.0',
    info: {
      title: 'Anonymiser REST API (Celantur Container REST API v1 dialect)',
      version: '1',
      description:
        'Self-hosted image and video anonymisation (faces, licence plates, persons, vehicles), following the Celantur Container REST API v1. ' +
        'Send "Authorization: Bearer <key>" or "x-api-key: <key>" when the server runs with --api-key. ' +
        `This server runs the classes ${ctx.classes.join(', ')}; the documented defaults are the ones it applies.`,
      license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
    },
    servers: [{ url: serverUrl, description: 'this server' }],
    tags: [
      { name: 'files', description: 'upload and download' },
      { name: 'tasks', description: 'task records' },
      { name: 'server', description: 'health and this document' },
    ],
    security: [{}, { bearer: [] }, { apiKey: [] }],
    paths: {
      '/v1/file': {
        post: {
          operationId: 'uploadFile',
          tags: ['files'],
          summary: 'Upload an image or video and anonymise it',
          description:
            'Synchronous by default: answers 200 when the task is done. With x-is-async (true, 1 or yes, any case) answers 202 at once with the queued task; ' +
            'an async upload that cannot be decoded is accepted and ends as a failed task (failure_reason.code undecodable_file). ' +
            'Empty values mean the default; parameter names take _ for - (license_plate); Celantur parameters this server does not implement are accepted and listed in the task\'s warnings; unknown names are a 400 (warnings with --lenient-params). ' +
            'Every wrong parameter is listed in error.details.',
          parameters: [
            ...fileParameters,
            { name: 'x-is-async', in: 'header', required: false, schema: { type: 'string', pattern: anyCase([...TRUE_WORDS, ...FALSE_WORDS]) }, description: `${TRUE_WORDS.join(', ')} (any case): return at once with the queued task (202)` },
            { name: 'x-file-name', in: 'header', required: false, schema: { type: 'string' }, description: 'file name of a raw-body upload (names the outputs); multipart uploads carry their own' },
          ],
          requestBody: {
            required: true,
            description: `the file, as the body or as multipart field ${MULTIPART_FIELDS.map((f) => `"${f}"`).join(' / ')}`,
            content: {
              'image/jpeg': { schema: binary },
              'image/png': { schema: binary },
              'video/*': { schema: binary },
              'application/octet-stream': { schema: binary },
              'multipart/form-data': {
                schema: { type: 'object', properties: { fileobject: { type: 'string', contentMediaType: 'application/octet-stream' } }, required: ['fileobject'] },
              },
            },
          },
          responses: {
            '200': json('Task', 'processed (synchronous)'),
            '202': json('Task', 'accepted (x-is-async); poll /v1/task/{id} or wait for the webhook'),
            '400': err('wrong parameters (all listed in error.details), or a class the container does not run (class_not_enabled)'),
            ...common,
            '409': err('the task was deleted while a synchronous request waited for it'),
            '413': err('upload larger than --max-upload-mb'),
            '415': err('not an image or video this server takes'),
            '422': err('synchronous upload that cannot be decoded, or processing failed (error.task_id names the task)'),
            '500': err('the models are not loaded'),
            '503': err('queue full (see Retry-After) or shutting down'),
          },
        },
      },
      '/v1/file/{id}/anonymised': {
        get: { operationId: 'getAnonymised', tags: ['files'], summary: 'Download the anonymised image or video', parameters: [idParam], responses: { '200': files('the anonymised file, in the format of the upload (H.264 MP4 for videos)', 'image/jpeg', 'image/png', 'video/mp4'), ...common, ...taskErrors } },
      },
      '/v1/file/{id}/anonymized': {
        get: { operationId: 'getAnonymized', tags: ['files'], summary: 'Same as /anonymised', parameters: [idParam], responses: { '200': files('the anonymised file', 'image/jpeg', 'image/png', 'video/mp4'), ...common, ...taskErrors } },
      },
      '/v1/file/{id}/binary-mask': {
        get: { operationId: 'getBinaryMask', tags: ['files'], summary: 'Download the binary mask (255 where anonymised)', parameters: [idParam, maskScale], responses: { '200': files('PNG', 'image/png'), '400': err('wrong mask-scale'), ...common, ...taskErrors } },
      },
      '/v1/file/{id}/instance-mask': {
        get: {
          operationId: 'getInstanceMask',
          tags: ['files'],
          summary: 'Download the instance mask (R 0, G instance id, B type bits: person 128, plate 64, face 32, vehicle 16)',
          parameters: [idParam, maskScale],
          responses: { '200': files('PNG', 'image/png'), '400': err('wrong mask-scale'), ...common, ...taskErrors },
        },
      },
      '/v1/file/{id}/metadata': {
        get: { operationId: 'getMetadata', tags: ['files'], summary: 'Download the metadata of an image (detections)', parameters: [idParam], responses: { '200': json('ImageMetadata', 'metadata JSON'), ...common, ...taskErrors } },
      },
      '/v1/file/{id}/original': {
        get: { operationId: 'getOriginal', tags: ['files'], summary: 'Download the uploaded original', parameters: [idParam], responses: { '200': files('the original file, with its own type', 'image/jpeg', 'image/png', 'video/*'), ...common, '404': taskErrors['404'] } },
      },
      '/v1/file/{id}/video/anonymised': {
        get: { operationId: 'getVideoAnonymised', tags: ['files'], summary: 'Download the anonymised video (H.264 MP4)', parameters: [idParam], responses: { '200': files('MP4', 'video/mp4'), ...common, ...taskErrors } },
      },
      '/v1/file/{id}/video/anonymized': {
        get: { operationId: 'getVideoAnonymized', tags: ['files'], summary: 'Same as /video/anonymised', parameters: [idParam], responses: { '200': files('MP4', 'video/mp4'), ...common, ...taskErrors } },
      },
      '/v1/file/{id}/video/metadata': {
        get: {
          operationId: 'getVideoMetadata',
          tags: ['files'],
          summary: `Per-frame detections of a video for a range of frames (at most ${FRAMES_PER_REQUEST} per response)`,
          parameters: [
            idParam,
            q('start', { type: 'integer', minimum: 0, default: 0 }, 'first frame'),
            q('end', { type: 'integer', minimum: 0 }, `last frame, inclusive (default: start + ${FRAMES_PER_REQUEST - 1})`),
          ],
          responses: { '200': json('VideoMetadata', 'frames'), '400': err('wrong start or end'), ...common, ...taskErrors },
        },
      },
      '/v1/status': {
        get: { operationId: 'getStatus', tags: ['server'], summary: 'Health: version, provider, classes, queue', responses: { '200': json('Status', 'running'), ...common, '500': json('Status', 'the models could not be loaded (status down, error says why)') } },
      },
      '/v1/task/list': {
        get: {
          operationId: 'listTasks',
          tags: ['tasks'],
          summary: 'List tasks, newest first',
          parameters: [
            q('page', { type: 'integer', minimum: 1, maximum: PAGING.page.max, default: PAGING.page.default }, 'page, from 1'),
            q('limit', { type: 'integer', minimum: 1, maximum: PAGING.limit.max, default: PAGING.limit.default }, 'items per page'),
            q('status', { type: 'string', enum: [...TASK_STATUSES] }, 'only tasks with this status'),
          ],
          responses: { '200': json('TaskList', 'one page of tasks'), '400': err('wrong paging or status'), ...common },
        },
        delete: { operationId: 'deleteAllTasks', tags: ['tasks'], summary: 'Delete all tasks (records and/or files)', parameters: deleteChoice, responses: { '200': json('DeletedAll', 'deleted'), '400': err('records and files both false'), ...common } },
      },
      '/v1/task/{id}': {
        get: { operationId: 'getTask', tags: ['tasks'], summary: 'Get one task', parameters: [idParam], responses: { '200': json('Task', 'the task'), ...common, '404': taskErrors['404'] } },
        delete: {
          operationId: 'deleteTask',
          tags: ['tasks'],
          summary: 'Delete one task (records and/or files); a running task is stopped, and its webhook reports status deleted',
          parameters: [idParam, ...deleteChoice],
          responses: { '200': json('DeletedTask', 'deleted'), '400': err('records and files both false'), ...common, '404': taskErrors['404'] },
        },
      },
      '/v1/openapi.json': {
        get: { operationId: 'getOpenApi', tags: ['server'], summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } }, ...common } },
      },
    },
    webhooks: {
      taskEnded: {
        post: {
          operationId: 'taskEnded',
          summary: 'Sent to the webhook URL of an upload when its task is done or failed, or deleted before it finished',
          description: 'Carries the header named by web-auth-header-name with web-auth-header-value. Answers other than 2xx (and timeouts) are retried with exponential backoff (--webhook-retries); the task\'s webhook_status then becomes sent or failed.',
          requestBody: { required: true, content: { 'application/json': { schema: ref('WebhookBody') } } },
          responses: { '200': { description: 'any 2xx acknowledges the call' } },
        },
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' } },
      schemas: components(),
    },
  };
}
