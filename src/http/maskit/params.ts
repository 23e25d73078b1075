// Maskit's process-image form fields (../shared/DIALECTS.md §2.2) and how they map onto ProcessParams.
// Field names and enum values are matched without regard to case; every wrong value is a BadParameterError.
import { z } from 'zod';
import { BadParameterError, ClassNotEnabledError } from '../../errors.ts';
import { DEFAULT_PARAMS, type Gradient, type ObjectClass, type ProcessParams } from '../../types.ts';

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['true', 'false', '1', '0'].includes(v), 'must be true or false')
  .transform((v) => v === 'true' || v === '1');

/** An enum whose values are compared case-insensitively and come out in their canonical spelling. */
const caseless = <const T extends readonly [string, ...string[]]>(values: T) =>
  z
    .string()
    .trim()
    .transform((v, ctx) => {
      const hit = values.find((c) => c.toLowerCase() === v.toLowerCase());
      if (hit) return hit as T[number];
      ctx.addIssue({ code: 'custom', message: `must be one of ${values.join(', ')}` });
      return z.NEVER;
    });

const number = (min: number, max: number, int: boolean) =>
  z
    .string()
    .trim()
    .refine((v) => v !== '' && Number.isFinite(Number(v)), 'must be a number')
    .transform(Number)
    .refine((v) => !int || Number.isInteger(v), 'must be a whole number')
    .refine((v) => v >= min && v <= max, `must be from ${min} to ${max}`);

export const MASKIT_SHAPES = ['Mask', 'Rectangle'] as const;
export const MASKIT_METHODS = ['Blur', 'BlackFill'] as const;
/** Maskit documents no range; ours (est.). */
export const BLUR_STRENGTH_RANGE = { min: 0, max: 100 } as const;
export const METADATA_MAX_CHARS = 10_000;

export interface MaskitField {
  schema: z.ZodType;
  type: 'boolean' | 'string' | 'integer' | 'number';
  default?: boolean | string | number;
  enum?: readonly string[];
  minimum?: number;
  maximum?: number;
  description: string;
}

/** The text fields of process-image, by their documented spelling. The file goes in field `image`. */
export const MASKIT_FIELDS = {
  faces: { schema: bool, type: 'boolean', default: true, description: 'detect and mask faces' },
  humans: { schema: bool, type: 'boolean', default: true, description: 'detect and mask full human bodies' },
  licensePlates: { schema: bool, type: 'boolean', default: true, description: 'detect and mask licence plates' },
  shape: { schema: caseless(MASKIT_SHAPES), type: 'string', enum: MASKIT_SHAPES, default: 'Mask', description: 'Mask: object shape with a soft edge; Rectangle: the bounding box' },
  method: { schema: caseless(MASKIT_METHODS), type: 'string', enum: MASKIT_METHODS, default: 'Blur', description: 'Blur or BlackFill' },
  blurStrength: {
    schema: number(BLUR_STRENGTH_RANGE.min, BLUR_STRENGTH_RANGE.max, true),
    type: 'integer',
    default: 30,
    minimum: BLUR_STRENGTH_RANGE.min,
    maximum: BLUR_STRENGTH_RANGE.max,
    description: 'blur strength for method Blur; 30 is the default blur, larger is stronger',
  },
  edgeBlurSize: { schema: number(0, 1, false), type: 'number', default: 0.2, minimum: 0, maximum: 1, description: 'softness of the masked regions\' edges (0: hard edge)' },
  metadata: { schema: z.string().max(METADATA_MAX_CHARS, `must be at most ${METADATA_MAX_CHARS} characters`), type: 'string', description: 'any string, sent back in the webhook' },
  useWebhook: { schema: bool, type: 'boolean', default: false, description: 'deliver the result to the configured webhook instead of waiting for a download' },
} as const satisfies Record<string, MaskitField>;

export type MaskitFieldName = keyof typeof MASKIT_FIELDS;
/** The multipart field that carries the image. */
export const MASKIT_IMAGE_FIELD = 'image';

const BY_LOWER = new Map(Object.keys(MASKIT_FIELDS).map((k) => [k.toLowerCase(), k as MaskitFieldName]));

export interface MaskitRequest {
  params: ProcessParams;
  metadata: string | null;
  useWebhook: boolean;
}

const DEFAULT_STRENGTH = MASKIT_FIELDS.blurStrength.default;
const DEFAULT_EDGE = MASKIT_FIELDS.edgeBlurSize.default;

/**
 * blurStrength → our per-class kernel sizes. At 30 they are our defaults. Box-relative sizes (< 1: faces,
 * plates) approach the whole box as 1 − (1 − k)^(s/30), so they grow with s but never turn into absolute
 * pixel sizes; pixel sizes (persons, vehicles) scale linearly.
 */
export function kernelSizesForStrength(strength: number): Record<ObjectClass, number> {
  const f = strength / DEFAULT_STRENGTH;
  const out = { ...DEFAULT_PARAMS.kernelSize };
  for (const cls of Object.keys(out) as ObjectClass[]) {
    const k = DEFAULT_PARAMS.kernelSize[cls];
    out[cls] = k < 1 ? 1 - (1 - k) ** f : Math.max(1, k * f);
  }
  return out;
}

/** edgeBlurSize → our soft-edge ramp: the outer start scales with it (0.2 is our default ramp, 0 a hard edge). */
export function gradientForEdge(edge: number): Gradient {
  const g = DEFAULT_PARAMS.gradient.face;
  return { start: (g.start / DEFAULT_EDGE) * edge, stop: g.stop };
}

export function parseMaskitFields(
  body: Record<string, unknown>,
  enabled: readonly ObjectClass[],
  thresholds: Record<ObjectClass, number>,
): MaskitRequest {
  const values: Partial<Record<MaskitFieldName, unknown>> = {};
  for (const [rawKey, rawValue] of Object.entries(body)) {
    const key = BY_LOWER.get(rawKey.toLowerCase());
    if (!key) throw new BadParameterError(rawKey, `unknown field (accepted: ${MASKIT_IMAGE_FIELD}, ${Object.keys(MASKIT_FIELDS).join(', ')})`);
    if (key in values || typeof rawValue !== 'string') throw new BadParameterError(rawKey, 'must be given once, as a single value');
    const r = (MASKIT_FIELDS[key].schema as z.ZodType).safeParse(rawValue);
    if (!r.success) throw new BadParameterError(key, r.error.issues[0]?.message ?? 'invalid value');
    values[key] = r.data;
  }
  const get = <K extends MaskitFieldName>(k: K) => (values[k] ?? (MASKIT_FIELDS[k] as MaskitField).default) as never;

  const wanted: [MaskitFieldName, ObjectClass[]][] = [
    ['faces', ['face']],
    ['humans', ['person']],
    ['licensePlates', ['license-plate']],
  ];
  const classes: ObjectClass[] = [];
  for (const [field, list] of wanted) {
    if (!get(field)) continue;
    for (const cls of list) {
      // Maskit's classes default to true: only one asked for explicitly must be one the container runs.
      if (enabled.includes(cls)) classes.push(cls);
      else if (values[field] === true) throw new ClassNotEnabledError(cls, enabled);
    }
  }
  if (classes.length === 0) throw new BadParameterError('faces', 'nothing to mask: switch on at least one of faces, humans, licensePlates that the container runs');
  const gradient = gradientForEdge(get('edgeBlurSize'));
  const method = get('method') as (typeof MASKIT_METHODS)[number];
  const params: ProcessParams = {
    ...structuredClone(DEFAULT_PARAMS),
    method: method === 'BlackFill' ? 'blacken' : 'blur',
    bbox: get('shape') === 'Rectangle',
    classes,
    saveMask: 'none',
    kernelSize: kernelSizesForStrength(get('blurStrength')),
    gradient: { face: gradient, 'license-plate': { ...gradient } },
    thresholds: { ...thresholds },
  };
  return { params, metadata: (values.metadata as string | undefined) ?? null, useWebhook: get('useWebhook') };
}
