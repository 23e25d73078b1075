// The query parameters of PEKAT's analyze endpoints (../shared/DIALECTS.md §3.2) and the ProcessParams a
// PEKAT request runs with. Flags (`bayer`, `context_in_body`) are given without a value.
import { z } from 'zod';
import { BadParameterError } from '../../errors.ts';
import { DEFAULT_PARAMS, type ObjectClass, type ProcessParams } from '../../types.ts';
import type { RawFrameSpec } from '../../pipeline/image/raw.ts';

export const RESPONSE_TYPES = ['context', 'image', 'annotated_image', 'heatmap'] as const;
export type ResponseType = (typeof RESPONSE_TYPES)[number];

const flag = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['', 'true', '1', 'yes', 'false', '0', 'no'].includes(v), 'is a flag: give it without a value (or true/false)')
  .transform((v) => v === '' || v === 'true' || v === '1' || v === 'yes');
const dimension = z
  .string()
  .trim()
  .refine((v) => /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 100_000, 'must be a whole number of pixels from 1 to 100000')
  .transform(Number);

export interface PekatQueryParam {
  schema: z.ZodType;
  type: 'string' | 'integer' | 'boolean';
  enum?: readonly string[];
  /** Only on /analyze_raw_image (accepted and unused on /analyze_image, as PEKAT's own example sends them). */
  rawOnly?: boolean;
  required?: 'raw';
  description: string;
}

export const PEKAT_QUERY = {
  response_type: { schema: z.enum(RESPONSE_TYPES), type: 'string', enum: RESPONSE_TYPES, description: 'context (JSON, default), image (anonymised PNG), annotated_image (anonymised, with boxes and labels), heatmap (soft anonymisation mask PNG)' },
  data: { schema: z.string().max(10_000), type: 'string', description: 'any string, returned as context.data' },
  api_key: { schema: z.string(), type: 'string', description: 'the container\'s --api-key, when it runs with one' },
  context_in_body: { schema: flag, type: 'boolean', description: 'flag: for image responses, the body is the PNG followed by the context JSON, with header ImageLen = PNG length' },
  width: { schema: dimension, type: 'integer', rawOnly: true, required: 'raw', description: 'frame width in pixels' },
  height: { schema: dimension, type: 'integer', rawOnly: true, required: 'raw', description: 'frame height in pixels' },
  bayer: { schema: flag, type: 'boolean', rawOnly: true, description: 'flag: the frame is single-channel BayerRG8 (row 0 R G R G…, row 1 G B G B…)' },
} as const satisfies Record<string, PekatQueryParam>;

export interface PekatRequest {
  responseType: ResponseType;
  data: string;
  contextInBody: boolean;
  /** Set for /analyze_raw_image. */
  frame?: RawFrameSpec;
}

export function parsePekatQuery(query: Record<string, unknown>, raw: boolean): PekatRequest {
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(query)) {
    if (!Object.hasOwn(PEKAT_QUERY, key)) throw new BadParameterError(key, `unknown parameter (accepted: ${Object.keys(PEKAT_QUERY).join(', ')})`);
    if (typeof value !== 'string') throw new BadParameterError(key, 'must be given once');
    const r = (PEKAT_QUERY[key as keyof typeof PEKAT_QUERY].schema as z.ZodType).safeParse(value);
    if (!r.success) throw new BadParameterError(key, r.error.issues[0]?.message ?? 'invalid value');
    values[key] = r.data;
  }
  const out: PekatRequest = {
    responseType: (values.response_type as ResponseType | undefined) ?? 'context',
    data: (values.data as string | undefined) ?? '',
    contextInBody: (values.context_in_body as boolean | undefined) ?? false,
  };
  if (raw) {
    for (const name of ['width', 'height'] as const) {
      if (values[name] === undefined) throw new BadParameterError(name, 'is required: /analyze_raw_image?width=<pixels>&height=<pixels>');
    }
    out.frame = { width: values.width as number, height: values.height as number, bayer: (values.bayer as boolean | undefined) ?? false };
  }
  return out;
}

/** Every class the container runs, its thresholds; PNG out; the heatmap or the annotations when asked for. */
export function pekatParams(request: PekatRequest, classes: readonly ObjectClass[], thresholds: Record<ObjectClass, number>): ProcessParams {
  const annotated = request.responseType === 'annotated_image';
  return {
    ...structuredClone(DEFAULT_PARAMS),
    classes: [...classes],
    thresholds: { ...thresholds },
    saveMask: 'none',
    outputFormat: 'png',
    heatmap: request.responseType === 'heatmap',
    debug: annotated,
    score: annotated,
  };
}
