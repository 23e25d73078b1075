import type { DialectContext } from '../dialect.ts';
// OpenAPI 3.1 description of the REST API, served at /v1/openapi.json. test/http/openapi.test.ts keeps it
// in step with the route table and the accepted query parameters.

const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' }, description: 'task id' };
const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});
const notReady = errorResponse('the task is not done yet (its status is in error.status)');
const notFound = errorResponse('no such task, or the task produced no such file');
const maskScale = { name: 'mask-scale', in: 'query', schema: { type: 'number', minimum: 1, maximum: 100 }, description: 'scale the mask down to this percentage' };
const deleteChoice = [
  { name: 'records', in: 'query', schema: { type: 'boolean', default: true }, description: 'remove the task record (false keeps it with status deleted)' },
  { name: 'files', in: 'query', schema: { type: 'boolean', default: true }, description: 'remove the input and output files' },
];

const q = (name: string, schema: Record<string, unknown>, description: string) => ({ name, in: 'query', schema, description });
const boolQ = (name: string, description: string) => q(name, { type: 'boolean' }, description);
const numQ = (name: string, def: number, description: string, min?: number, max?: number) =>
  q(name, { type: 'number', default: def, ...(min !== undefined ? { minimum: min } : {}), ...(max !== undefined ? { maximum: max } : {}) }, description);

export const FILE_QUERY_DOCS = [
  q('method', { type: 'string', enum: ['blur', 'pixelate', 'blacken', 'detect'], default: 'blur' }, 'anonymisation method; detect writes only masks and metadata'),
  boolQ('debug', 'draw boxes, outlines and labels on the output'),
  boolQ('score', 'draw detection scores (needs debug=true)'),
  boolQ('face', 'detect and anonymise faces'),
  boolQ('license-plate', 'detect and anonymise licence plates'),
  boolQ('person', 'detect and anonymise persons'),
  boolQ('vehicle', 'detect and anonymise vehicles'),
  boolQ('bbox', 'anonymise bounding boxes instead of object shapes'),
  q('ignores', { type: 'string' }, 'URL-encoded JSON list of {topLeftX, topLeftY, width, height} areas left untouched'),
  numQ('mask-scale', 100, 'percentage to which masks are scaled', 1, 100),
  q('save-mask', { type: 'string', enum: ['all', 'binary', 'instance', 'none'], default: 'all' }, 'which masks to write'),
  numQ('quality', 90, 'JPEG quality (also the video quality, mapped to CRF)', 1, 100),
  numQ('compress-level', 5, 'PNG compression level', 0, 9),
  q('webhook', { type: 'string', format: 'uri' }, 'URL-encoded URL that receives a POST when the task is done or failed'),
  q('web-auth-header-name', { type: 'string' }, 'header name sent with the webhook'),
  q('web-auth-header-value', { type: 'string' }, 'header value sent with the webhook'),
  numQ('kernel-size-face', 0.35, 'blur strength for faces: < 1 relative to the box, otherwise pixels'),
  numQ('kernel-size-license-plate', 0.5, 'blur strength for plates'),
  numQ('kernel-size-person', 95, 'blur kernel for persons'),
  numQ('kernel-size-vehicle', 61, 'blur kernel for vehicles'),
  numQ('face-anonymization-gradient-start', 0.3, 'soft edge: where the ramp starts, relative to the box, outside it'),
  numQ('face-anonymization-gradient-stop', 0.0, 'soft edge: where full effect is reached (negative: inside the box)'),
  numQ('license-plate-anonymization-gradient-start', 0.3, 'soft edge for plates: start'),
  numQ('license-plate-anonymization-gradient-stop', 0.0, 'soft edge for plates: stop'),
  numQ('face-threshold', 0.5, 'minimum face score', 0, 1),
  numQ('license-plate-threshold', 0.5, 'minimum plate score', 0, 1),
  numQ('person-threshold', 0.4, 'minimum person score', 0, 1),
  numQ('vehicle-threshold', 0.4, 'minimum vehicle score', 0, 1),
  q('fill-color', { type: 'string', default: '#000000' }, 'colour used by blacken: #RRGGBB or R,G,B'),
  q('format', { type: 'string', default: 'whole' }, 'accepted for compatibility; tiling is automatic'),
];

const taskResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Task' } } } });
const fileResponse = (description: string, type: string) => ({ description, content: { [type]: { schema: { type: 'string', format: 'binary' } } } });

export function buildOpenApi(_ctx: DialectContext, _serverUrl: string) {
  return OPENAPI_DOCUMENT;
}

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'Anonymiser REST API',
    version: '1',
    description:
      'Self-hosted image and video anonymisation (faces, licence plates, persons, vehicles), following the Celantur Container REST API v1. Send "Authorization: Bearer <key>" or "x-api-key" when the server runs with --api-key.',
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' } },
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } },
      },
      Task: {
        type: 'object',
        required: ['id', 'status', 'file_status', 'name', 'parameters', 'links'],
        properties: {
          id: { type: 'string' },
          file_id: { type: 'string' },
          name: { type: 'string' },
          media_type: { type: 'string', enum: ['image', 'video'] },
          content_type: { type: 'string' },
          status: { type: 'string', enum: ['queued', 'processing', 'done', 'failed', 'deleted'] },
          file_status: { type: 'string' },
          error: { type: ['string', 'null'] },
          upload_time: { type: 'string', format: 'date-time' },
          start_time: { type: ['string', 'null'] },
          end_time: { type: ['string', 'null'] },
          delete_time: { type: ['string', 'null'] },
          progress: { type: 'object', properties: { done: { type: 'integer' }, total: { type: 'integer' } } },
          detections: { type: ['integer', 'null'] },
          webhook: { type: ['string', 'null'] },
          webhook_status: { type: 'string', enum: ['empty', 'set', 'sent', 'failed'] },
          parameters: { type: 'object' },
          links: { type: 'object', additionalProperties: { type: 'string' } },
        },
      },
    },
  },
  security: [{}, { bearer: [] }, { apiKey: [] }],
  paths: {
    '/v1/file': {
      post: {
        summary: 'Upload an image or video and anonymise it (sync by default; async with x-is-async: true)',
        parameters: [
          ...FILE_QUERY_DOCS,
          { name: 'x-is-async', in: 'header', schema: { type: 'string', enum: ['true', 'false'] }, description: 'return at once with status queued' },
        ],
        requestBody: {
          required: true,
          content: {
            'image/jpeg': { schema: { type: 'string', format: 'binary' } },
            'image/png': { schema: { type: 'string', format: 'binary' } },
            'video/*': { schema: { type: 'string', format: 'binary' } },
            'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
            'multipart/form-data': { schema: { type: 'object', properties: { fileobject: { type: 'string', format: 'binary' } } } },
          },
        },
        responses: {
          '200': taskResponse('processed (sync)'),
          '202': taskResponse('accepted (async)'),
          '400': errorResponse('a parameter has a wrong value, or asks for a class the container does not run'),
          '401': errorResponse('missing or wrong API key'),
          '413': errorResponse('upload too large'),
          '415': errorResponse('not an image or video we take'),
          '422': errorResponse('the file cannot be decoded'),
          '500': errorResponse('models not loaded'),
          '503': errorResponse('queue full (see Retry-After)'),
        },
      },
    },
    '/v1/file/{id}/anonymised': { get: { summary: 'Download the anonymised image (or video)', parameters: [idParam], responses: { '200': fileResponse('the anonymised file, in the input format', 'image/*'), '404': notFound, '409': notReady } } },
    '/v1/file/{id}/anonymized': { get: { summary: 'Same as /anonymised', parameters: [idParam], responses: { '200': fileResponse('the anonymised file', 'image/*'), '404': notFound, '409': notReady } } },
    '/v1/file/{id}/binary-mask': { get: { summary: 'Download the binary mask (255 where anonymised)', parameters: [idParam, maskScale], responses: { '200': fileResponse('PNG', 'image/png'), '404': notFound, '409': notReady } } },
    '/v1/file/{id}/instance-mask': { get: { summary: 'Download the instance mask (R 0, G instance id, B type bits: person 128, plate 64, face 32, vehicle 16)', parameters: [idParam, maskScale], responses: { '200': fileResponse('PNG', 'image/png'), '404': notFound, '409': notReady } } },
    '/v1/file/{id}/metadata': { get: { summary: 'Download the image metadata (detections)', parameters: [idParam], responses: { '200': { description: 'metadata JSON', content: { 'application/json': { schema: { type: 'object' } } } }, '404': notFound, '409': notReady } } },
    '/v1/file/{id}/original': { get: { summary: 'Download the uploaded original', parameters: [idParam], responses: { '200': fileResponse('the original file', 'application/octet-stream'), '404': notFound } } },
    '/v1/file/{id}/video/anonymised': { get: { summary: 'Download the anonymised video (H.264 MP4)', parameters: [idParam], responses: { '200': fileResponse('MP4', 'video/mp4'), '404': notFound, '409': notReady } } },
    '/v1/file/{id}/video/anonymized': { get: { summary: 'Same as /video/anonymised', parameters: [idParam], responses: { '200': fileResponse('MP4', 'video/mp4'), '404': notFound, '409': notReady } } },
    '/v1/file/{id}/video/metadata': {
      get: {
        summary: 'Per-frame detections of a video for a range of frames (at most 500 per response)',
        parameters: [idParam, q('start', { type: 'integer', minimum: 0, default: 0 }, 'first frame'), q('end', { type: 'integer', minimum: 0 }, 'last frame (inclusive)')],
        responses: { '200': { description: 'frames', content: { 'application/json': { schema: { type: 'object' } } } }, '404': notFound, '409': notReady },
      },
    },
    '/v1/status': {
      get: {
        summary: 'Health: version, provider, classes, queue',
        responses: { '200': { description: 'running', content: { 'application/json': { schema: { type: 'object' } } } }, '500': { description: 'models could not be loaded' } },
      },
    },
    '/v1/task/list': {
      get: {
        summary: 'List tasks, newest first',
        parameters: [q('page', { type: 'integer', minimum: 1, default: 1 }, 'page, from 1'), q('limit', { type: 'integer', minimum: 1, maximum: 1000, default: 50 }, 'items per page'), q('status', { type: 'string', enum: ['queued', 'processing', 'done', 'failed', 'deleted'] }, 'only tasks with this status')],
        responses: { '200': { description: '{total_item_count, total_page_count, items}', content: { 'application/json': { schema: { type: 'object' } } } }, '400': errorResponse('bad paging') },
      },
      delete: { summary: 'Delete all tasks (records and/or files)', parameters: deleteChoice, responses: { '200': { description: '{deleted: n}' } } },
    },
    '/v1/task/{id}': {
      get: { summary: 'Get one task', parameters: [idParam], responses: { '200': taskResponse('the task'), '404': notFound } },
      delete: { summary: 'Delete one task (records and/or files); a running task is stopped', parameters: [idParam, ...deleteChoice], responses: { '200': { description: 'deleted' }, '404': notFound } },
    },
    '/v1/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } } },
  },
} as const;
