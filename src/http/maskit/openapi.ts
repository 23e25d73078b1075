// OpenAPI 3.1 description of the Maskit dialect, served at /api/v1/masking/openapi.json. Its form fields come
// from MASKIT_FIELDS; test/http/maskit/openapi.test.ts keeps the paths in step with the route table.
import { MASKIT_FIELDS, MASKIT_IMAGE_FIELD, type MaskitField } from './params.ts';
import { BASE_PATH, MASKIT_STATUSES } from './routes.ts';

const problem = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Problem' } } } });
const jobid = { name: 'jobid', in: 'query', required: true, schema: { type: 'string', format: 'uuid' }, description: 'the job id from process-image (the name is matched in any case)' };

function fieldSchema(f: MaskitField): Record<string, unknown> {
  return {
    type: f.type,
    ...(f.enum ? { enum: [...f.enum] } : {}),
    ...(f.default !== undefined ? { default: f.default } : {}),
    ...(f.minimum !== undefined ? { minimum: f.minimum } : {}),
    ...(f.maximum !== undefined ? { maximum: f.maximum } : {}),
    description: f.description,
  };
}

export function buildMaskitOpenApi() {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Anonymiser – Maskit masking API',
      version: '1',
      description:
        'Maskit-compatible asynchronous masking: process-image answers a job id, image-status reports its progress, image-download returns the masked image once (then it is deleted), or a signed multipart webhook delivers it. Field names and enum values are matched in any case. Send "x-api-key" when the server runs with --api-key.',
    },
    components: {
      securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' } },
      schemas: {
        Problem: {
          type: 'object',
          required: ['title', 'status', 'detail', 'code'],
          properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' }, code: { type: 'string' }, field: { type: 'string' } },
        },
        Job: { type: 'object', required: ['jobid'], properties: { jobid: { type: 'string', format: 'uuid' } } },
        JobStatus: {
          type: 'object',
          required: ['jobid', 'status'],
          properties: { jobid: { type: 'string', format: 'uuid' }, status: { type: 'string', enum: [...MASKIT_STATUSES] } },
        },
      },
    },
    security: [{}, { apiKey: [] }],
    paths: {
      [`${BASE_PATH}/process-image`]: {
        post: {
          operationId: 'processImage', summary: 'Queue an image for masking; answers its job id',
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': {
                schema: {
                  type: 'object',
                  required: [MASKIT_IMAGE_FIELD],
                  properties: {
                    [MASKIT_IMAGE_FIELD]: { type: 'string', format: 'binary', description: 'JPEG or PNG' },
                    ...Object.fromEntries(Object.entries(MASKIT_FIELDS).map(([name, f]) => [name, fieldSchema(f)])),
                  },
                },
              },
            },
          },
          responses: {
            '200': { description: 'queued', content: { 'application/json': { schema: { $ref: '#/components/schemas/Job' } } } },
            '400': problem('a field is missing or wrong, the file is not a JPEG or PNG, or useWebhook=true without a configured webhook'),
            '401': problem('missing or wrong x-api-key'),
            '413': problem('upload too large'),
            '500': problem('server error'),
            '503': problem('queue full (see Retry-After)'),
          },
        },
      },
      [`${BASE_PATH}/image-status`]: {
        get: {
          operationId: 'imageStatus', summary: 'Status of a job',
          parameters: [jobid],
          responses: {
            '200': { description: 'the status', content: { 'application/json': { schema: { $ref: '#/components/schemas/JobStatus' } } } },
            '400': problem('missing or invalid job id'),
            '401': problem('missing or wrong x-api-key'),
            '404': problem('no such job'),
          },
        },
      },
      [`${BASE_PATH}/image-download`]: {
        get: {
          operationId: 'imageDownload', summary: 'Download the masked image, once (only in ReadyToDownload; afterwards the files are deleted and the job is Succeeded)',
          parameters: [jobid],
          responses: {
            '200': {
              description: 'the masked image in the upload\'s format, as attachment masked_<name>.<ext>',
              content: { 'image/jpeg': { schema: { type: 'string', format: 'binary' } }, 'image/png': { schema: { type: 'string', format: 'binary' } } },
            },
            '400': problem('missing job id or image is not ready'),
            '401': problem('missing or wrong x-api-key'),
            '404': problem('no such job'),
          },
        },
      },
      [`${BASE_PATH}/openapi.json`]: {
        get: { operationId: 'getMaskitOpenApi', summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } },
      },
    },
  };
}
