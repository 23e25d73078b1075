// Turns the query string of POST /v1/file (Celantur v1 parameters) into validated ProcessParams.
// Every wrong value is a BadParameterError naming the parameter.
import { z } from 'zod';
import { BadParameterError, ClassNotEnabledError } from '../../errors.ts';
import { DEFAULT_PARAMS, OBJECT_CLASSES, type IgnoreRegion, type ObjectClass, type ProcessParams } from '../../types.ts';
import type { WebhookTarget } from '../../tasks/store.ts';

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['true', 'false', '1', '0', 'yes', 'no'].includes(v), 'must be true or false')
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const num = (min: number, max: number, int = false) =>
  z
    .string()
    .trim()
    .refine((v) => v !== '' && Number.isFinite(Number(v)), 'must be a number')
    .transform(Number)
    .refine((v) => v >= min && v <= max, `must be from ${min} to ${max}`)
    .refine((v) => !int || Number.isInteger(v), 'must be a whole number');

const ignoreItem = z.object({
  topLeftX: z.number().finite(),
  topLeftY: z.number().finite(),
  width: z.number().finite().nonnegative(),
  height: z.number().finite().nonnegative(),
});

const ignores = z.string().transform((v, ctx): IgnoreRegion[] => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be URL-encoded JSON, e.g. [{"topLeftX":10,"topLeftY":20,"width":100,"height":50}]' });
    return z.NEVER;
  }
  const r = z.array(ignoreItem).max(1000).safeParse(parsed);
  if (!r.success) {
    ctx.addIssue({ code: 'custom', message: 'must be a list of {topLeftX, topLeftY, width, height} numbers' });
    return z.NEVER;
  }
  return r.data;
});

const color = z
  .string()
  .trim()
  .transform((v, ctx): [number, number, number] => {
    const hex = /^#?([0-9a-f]{6})$/i.exec(v);
    if (hex) {
      const n = parseInt(hex[1]!, 16);
      return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
    }
    const parts = v.split(',').map((p) => Number(p.trim()));
    if (parts.length === 3 && parts.every((p) => Number.isInteger(p) && p >= 0 && p <= 255)) return parts as [number, number, number];
    ctx.addIssue({ code: 'custom', message: 'must be #RRGGBB or R,G,B with values 0..255' });
    return z.NEVER;
  });

const webhookUrl = z
  .string()
  .trim()
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an absolute http(s) URL, URL-encoded');

const headerName = z.string().trim().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be a valid HTTP header name');
const headerValue = z.string().regex(/^[^\r\n\0]*$/, 'must not contain line breaks');

/** Each accepted query parameter and its schema. Unknown parameters are refused, so a typo never passes silently. */
export const FILE_QUERY_PARAMETERS = {
  method: z.enum(['blur', 'pixelate', 'blacken', 'detect']),
  debug: bool,
  score: bool,
  face: bool,
  'license-plate': bool,
  person: bool,
  vehicle: bool,
  bbox: bool,
  ignores,
  'mask-scale': num(1, 100),
  'save-mask': z.enum(['all', 'binary', 'instance', 'none']),
  quality: num(1, 100, true),
  'compress-level': num(0, 9, true),
  webhook: webhookUrl,
  'web-auth-header-name': headerName,
  'web-auth-header-value': headerValue,
  'kernel-size-face': num(0.01, 1001),
  'kernel-size-license-plate': num(0.01, 1001),
  'kernel-size-person': num(0.01, 1001),
  'kernel-size-vehicle': num(0.01, 1001),
  'face-anonymization-gradient-start': num(0, 10),
  'face-anonymization-gradient-stop': num(-1, 10),
  'license-plate-anonymization-gradient-start': num(0, 10),
  'license-plate-anonymization-gradient-stop': num(-1, 10),
  'face-threshold': num(0, 1),
  'license-plate-threshold': num(0, 1),
  'person-threshold': num(0, 1),
  'vehicle-threshold': num(0, 1),
  'fill-color': color,
  format: z.string().max(200),
} as const;

type Schemas = typeof FILE_QUERY_PARAMETERS;
type Parsed = { [K in keyof Schemas]?: z.output<Schemas[K]> };

/** Celantur clients send `license_plate` in some examples; accept both spellings of every name. */
function canonicalName(key: string): string {
  return key.replace(/_/g, '-').toLowerCase();
}

export interface ParsedFileRequest {
  params: ProcessParams;
  webhook: WebhookTarget | null;
}

export function parseFileQuery(
  query: Record<string, unknown>,
  enabled: readonly ObjectClass[],
  defaults: Pick<ProcessParams, 'thresholds'>,
): ParsedFileRequest {
  const values: Parsed = {};
  for (const [rawKey, rawValue] of Object.entries(query)) {
    const key = canonicalName(rawKey);
    if (!(key in FILE_QUERY_PARAMETERS)) {
      throw new BadParameterError(rawKey, `unknown parameter (accepted: ${Object.keys(FILE_QUERY_PARAMETERS).join(', ')})`);
    }
    if (typeof rawValue !== 'string') throw new BadParameterError(rawKey, 'must be given once, as a single value');
    const schema = FILE_QUERY_PARAMETERS[key as keyof Schemas] as z.ZodType;
    const r = schema.safeParse(rawValue);
    if (!r.success) throw new BadParameterError(rawKey, r.error.issues[0]?.message ?? 'invalid value');
    (values as Record<string, unknown>)[key] = r.data;
  }
  if (values.format !== undefined && values.format !== 'whole') {
    // Tiling is automatic here (every detector runs at native resolution), so presets have nothing to change.
    const r = /^\{.*\}$/.test(values.format) || values.format.startsWith('pano:');
    if (!r) throw new BadParameterError('format', 'must be "whole", a pano:* preset or a tiling JSON object');
  }

  const classes = chooseClasses(values, enabled);
  const p = DEFAULT_PARAMS;
  const params: ProcessParams = {
    method: values.method ?? p.method,
    debug: values.debug ?? p.debug,
    score: values.score ?? p.score,
    classes,
    bbox: values.bbox ?? p.bbox,
    ignores: values.ignores ?? [],
    maskScale: values['mask-scale'] ?? p.maskScale,
    saveMask: values['save-mask'] ?? p.saveMask,
    quality: values.quality ?? p.quality,
    compressLevel: values['compress-level'] ?? p.compressLevel,
    kernelSize: {
      face: values['kernel-size-face'] ?? p.kernelSize.face,
      'license-plate': values['kernel-size-license-plate'] ?? p.kernelSize['license-plate'],
      person: values['kernel-size-person'] ?? p.kernelSize.person,
      vehicle: values['kernel-size-vehicle'] ?? p.kernelSize.vehicle,
    },
    gradient: {
      face: {
        start: values['face-anonymization-gradient-start'] ?? p.gradient.face.start,
        stop: values['face-anonymization-gradient-stop'] ?? p.gradient.face.stop,
      },
      'license-plate': {
        start: values['license-plate-anonymization-gradient-start'] ?? p.gradient['license-plate'].start,
        stop: values['license-plate-anonymization-gradient-stop'] ?? p.gradient['license-plate'].stop,
      },
    },
    thresholds: {
      face: values['face-threshold'] ?? defaults.thresholds.face,
      'license-plate': values['license-plate-threshold'] ?? defaults.thresholds['license-plate'],
      person: values['person-threshold'] ?? defaults.thresholds.person,
      vehicle: values['vehicle-threshold'] ?? defaults.thresholds.vehicle,
    },
    fillColor: values['fill-color'] ?? p.fillColor,
  };
  if (params.score && !params.debug) throw new BadParameterError('score', 'only works together with debug=true');

  let webhook: WebhookTarget | null = null;
  const name = values['web-auth-header-name'];
  const value = values['web-auth-header-value'];
  if ((name === undefined) !== (value === undefined)) {
    throw new BadParameterError(name === undefined ? 'web-auth-header-name' : 'web-auth-header-value', 'web-auth-header-name and web-auth-header-value go together');
  }
  if (values.webhook) webhook = { url: values.webhook, headerName: name, headerValue: value };
  else if (name !== undefined) throw new BadParameterError('web-auth-header-name', 'needs a webhook');
  return { params, webhook };
}

/**
 * No class named: every class the container runs. Some set to true: exactly those. Only some set to false:
 * the container's classes without those. A class the container was not started with is an error.
 */
function chooseClasses(values: Parsed, enabled: readonly ObjectClass[]): ObjectClass[] {
  const asked = OBJECT_CLASSES.filter((c) => values[c] === true);
  for (const c of asked) if (!enabled.includes(c)) throw new ClassNotEnabledError(c, enabled);
  if (asked.length > 0) return asked;
  const chosen = enabled.filter((c) => values[c] !== false);
  if (chosen.length === 0) throw new BadParameterError('face', 'every class is switched off: ask for at least one of face, license-plate, person, vehicle');
  return chosen;
}

const positiveInt = (name: string, def: number, max: number) => (v: unknown): number => {
  if (v === undefined) return def;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isInteger(n) || n < 1 || n > max) throw new BadParameterError(name, `must be a whole number from 1 to ${max}`);
  return n;
};

export function parsePaging(query: Record<string, unknown>): { page: number; limit: number } {
  return { page: positiveInt('page', 1, 1_000_000)(query.page), limit: positiveInt('limit', 50, 1000)(query.limit) };
}

export function parseBoolParam(query: Record<string, unknown>, name: string, def: boolean): boolean {
  const v = query[name];
  if (v === undefined) return def;
  const r = bool.safeParse(v);
  if (!r.success) throw new BadParameterError(name, 'must be true or false');
  return r.data;
}

export function parseMaskScale(query: Record<string, unknown>): number | undefined {
  const v = query['mask-scale'] ?? query.mask_scale;
  if (v === undefined) return undefined;
  const r = num(1, 100).safeParse(v);
  if (!r.success) throw new BadParameterError('mask-scale', r.error.issues[0]?.message ?? 'invalid');
  return r.data;
}

export function parseFrameRange(query: Record<string, unknown>): { start: number; end: number } {
  const read = (name: string, def: number) => {
    const v = query[name];
    if (v === undefined) return def;
    const n = Number(v);
    if (typeof v !== 'string' || !Number.isInteger(n) || n < 0) throw new BadParameterError(name, 'must be a frame number (0 or more)');
    return n;
  };
  const start = read('start', 0);
  const end = read('end', start + 499);
  if (end < start) throw new BadParameterError('end', 'must not be before start');
  return { start, end };
}
