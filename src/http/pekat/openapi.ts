// OpenAPI 3.1 description of the PEKAT dialect, served at /openapi-pekat.json. Query parameters come from
// PEKAT_QUERY; test/http/pekat/openapi.test.ts keeps the paths in step with the route table.
import { PEKAT_QUERY, type PekatQueryParam } from './params.ts';
import { PEKAT_PATHS } from './routes.ts';

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorContext' } } } });
const png = { schema: { type: 'string', format: 'binary' } };

function queryParams(raw: boolean) {
  return Object.entries(PEKAT_QUERY as Record<string, PekatQueryParam>)
    .filter(([, p]) => raw || !p.rawOnly)
    .map(([name, p]) => ({
      name,
      in: 'query',
      ...(raw && p.required === 'raw' ? { required: true } : {}),
      ...(p.type === 'boolean' ? { allowEmptyValue: true } : {}),
      schema: { type: p.type, ...(p.enum ? { enum: [...p.enum] } : {}), ...(name === 'response_type' ? { default: 'context' } : {}) },
      description: p.description,
    }));
}

function analyzeOperation(raw: boolean) {
  return {
    operationId: raw ? 'analyzeRawImage' : 'analyzeImage',
    summary: raw
      ? 'Anonymise a raw frame: H×W×3 BGR bytes, H×W grey bytes, or with bayer a BayerRG8 frame'
      : 'Anonymise a JPEG or PNG image',
    parameters: queryParams(raw),
    requestBody: { required: true, content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
    responses: {
      '200': {
        description:
          'response_type=context: the context JSON. Image types: a PNG with the context in headers ContextBase64utf (base64 of UTF-8 JSON) and context (ASCII JSON) while each is under 4 KB (else header X-Context-Omitted); with context_in_body: PNG bytes then the context JSON, header ImageLen = PNG length.',
        headers: {
          ContextBase64utf: { schema: { type: 'string' }, description: 'base64 of the UTF-8 context JSON (image types)' },
          context: { schema: { type: 'string' }, description: 'the context as one-line ASCII JSON (image types)' },
          ImageLen: { schema: { type: 'integer' }, description: 'PNG length in the body (context_in_body)' },
          'X-Context-Omitted': { schema: { type: 'string' }, description: 'why the context headers were left out' },
        },
        content: {
          'application/json': { schema: { $ref: '#/components/schemas/Context' } },
          'image/png': png,
          'application/octet-stream': png,
        },
      },
      '400': errorResponse('a query parameter is wrong, or the body length does not match width×height×channels'),
      '401': errorResponse('missing or wrong api_key'),
      '413': errorResponse('upload too large'),
      '415': errorResponse('not an image we take'),
      '422': errorResponse('the image cannot be decoded'),
      '500': errorResponse('processing failed'),
      '503': errorResponse('queue full (see Retry-After)'),
    },
  };
}

const text = (operationId: string, summary: string) => ({ get: { operationId, summary, security: [{}], responses: { '200': { description: summary, content: { 'text/plain': { schema: { type: 'string' } } } } } } });

export function buildPekatOpenApi() {
  const rectangle = {
    type: 'object',
    required: ['id', 'x', 'y', 'width', 'height', 'rotate', 'confidence', 'classNames'],
    properties: {
      id: { type: 'integer' },
      x: { type: 'number' },
      y: { type: 'number' },
      width: { type: 'number' },
      height: { type: 'number' },
      rotate: { type: 'number' },
      confidence: { type: 'number' },
      classNames: {
        type: 'array',
        items: { type: 'object', properties: { id: { type: 'integer' }, label: { type: 'string', enum: ['face', 'license-plate', 'person', 'vehicle'] }, confidence: { type: 'number' } } },
      },
      source: { type: 'object', properties: { moduleId: { type: 'string' }, modelId: { type: 'string' }, type: { type: 'string' } } },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Anonymiser – PEKAT VISION Image Analyze API',
      version: '1',
      description:
        'PEKAT VISION-compatible synchronous analysis: send an image, get the anonymised result with a PEKAT context (detectedRectangles). Send ?api_key= when the server runs with --api-key.',
    },
    components: {
      securitySchemes: { apiKey: { type: 'apiKey', in: 'query', name: 'api_key' } },
      schemas: {
        Context: {
          type: 'object',
          required: ['processing', 'error', 'production_mode', 'result', 'detectedRectangles'],
          properties: {
            processing: { type: 'boolean' },
            error: { type: 'boolean' },
            errors: { type: 'array', items: { type: 'string' } },
            imageShape: { type: 'object', properties: { height: { type: 'integer' }, width: { type: 'integer' } } },
            processingTime: { type: 'number', description: 'seconds in the pipeline' },
            completeTime: { type: 'number', description: 'seconds from request to answer' },
            data: { type: 'string' },
            production_mode: { type: 'boolean' },
            save: { type: 'boolean' },
            result: { type: 'boolean' },
            detectedRectangles: { type: 'array', items: rectangle },
          },
        },
        ErrorContext: {
          type: 'object',
          required: ['processing', 'error', 'errors', 'code', 'message'],
          properties: { processing: { type: 'boolean' }, error: { type: 'boolean' }, errors: { type: 'array', items: { type: 'string' } }, code: { type: 'string' }, message: { type: 'string' } },
        },
      },
    },
    security: [{}, { apiKey: [] }],
    paths: {
      [PEKAT_PATHS.analyzeImage]: { post: analyzeOperation(false) },
      [PEKAT_PATHS.analyzeRaw]: { post: analyzeOperation(true) },
      [PEKAT_PATHS.ping]: text('ping', 'Availability probe (no key needed)'),
      [PEKAT_PATHS.version]: text('version', 'Server version (no key needed)'),
      [PEKAT_PATHS.lastImage]: {
        get: {
          operationId: 'lastImage',
          summary: 'The last anonymised image this server answered (never an original)',
          responses: { '200': { description: 'PNG', content: { 'image/png': png } }, '401': errorResponse('missing or wrong api_key'), '404': errorResponse('nothing analysed yet') },
        },
      },
      [PEKAT_PATHS.openapi]: {
        get: { operationId: 'getPekatOpenApi', summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } },
      },
    },
  };
}
