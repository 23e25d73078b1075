// The Celantur v1 query parameters of POST /v1/file as one declarative table. From it come the validation
// (zod), the task's `parameters` presentation, the OpenAPI parameters with the defaults the server really
// applies, and the flags of `anonymiser process`. No default is written here: each entry's `read` takes it
// from DEFAULT_PARAMS (src/types.ts) and the server's start-up thresholds.
//
// Leniency, as a Celantur server behaves (the official clients rely on it):
// - names are matched with `_` and `-` alike and in any case (`license_plate`, `save_mask`);
// - an empty value means the default (`save_mask=`);
// - Celantur parameters we do not implement (`watermark`) are accepted and reported as task warnings;
// - `quality` and `mask-scale` take Celantur's 0..100, where 0 means the default (see ZERO_MEANS_DEFAULT);
// - a truly unknown name is a 400 (a typo must not pass silently), or a warning with --lenient-params;
// - every wrong parameter of a request is reported at once (BadParametersError, `error.details`).
import { z } from 'zod';
import { BadParameterError, BadParametersError, ClassNotEnabledError, type ParameterProblem } from '../../errors.ts';
import { DEFAULT_PARAMS, OBJECT_CLASSES, type IgnoreRegion, type ObjectClass, type ProcessParams } from '../../types.ts';
import type { WebhookTarget } from '../../tasks/store.ts';

/** The words that mean true and false wherever this API takes a boolean: query values and the x-is-async header. */
export const TRUE_WORDS = ['true', '1', 'yes'] as const;
export const FALSE_WORDS = ['false', '0', 'no'] as const;
const BOOLEAN_HINT = `must be true or false (also ${TRUE_WORDS.slice(1).join('/')} and ${FALSE_WORDS.slice(1).join('/')}, any case)`;

/** true, false, or undefined when the text is neither. */
export function parseBoolean(v: string): boolean | undefined {
  const w = v.trim().toLowerCase();
  if ((TRUE_WORDS as readonly string[]).includes(w)) return true;
  if ((FALSE_WORDS as readonly string[]).includes(w)) return false;
  return undefined;
}

/** A query parameter's two faces: how its text is parsed, and the JSON Schema of its value for OpenAPI. */
interface Kind<T> {
  parse: z.ZodType<T>;
  json: z.ZodType;
}

const bool: Kind<boolean> = {
  parse: z.string().transform((v, ctx) => {
    const b = parseBoolean(v);
    if (b === undefined) {
      ctx.addIssue({ code: 'custom', message: BOOLEAN_HINT });
      return z.NEVER;
    }
    return b;
  }),
  json: z.boolean(),
};

function num(min: number, max: number, int = false): Kind<number> {
  return {
    parse: z
      .string()
      .trim()
      .refine((v) => Number.isFinite(Number(v)), 'must be a number')
      .transform(Number)
      .refine((v) => v >= min && v <= max, `must be from ${min} to ${max}`)
      .refine((v) => !int || Number.isInteger(v), 'must be a whole number'),
    json: (int ? z.int() : z.number()).min(min).max(max),
  };
}

function choice<const V extends readonly [string, ...string[]]>(values: V): Kind<V[number]> {
  return {
    parse: z
      .string()
      .trim()
      .toLowerCase()
      .refine((v) => (values as readonly string[]).includes(v), `must be one of ${values.join(', ')}`)
      .transform((v) => v as V[number]),
    json: z.enum(values),
  };
}

const ignoreItem = z.object({
  topLeftX: z.number().finite(),
  topLeftY: z.number().finite(),
  width: z.number().finite().nonnegative(),
  height: z.number().finite().nonnegative(),
});

const ignores: Kind<IgnoreRegion[]> = {
  parse: z.string().transform((v, ctx): IgnoreRegion[] => {
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
  }),
  json: z.string(),
};

const color: Kind<[number, number, number]> = {
  parse: z
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
    }),
  json: z.string(),
};

const webhookUrl: Kind<string> = {
  parse: z
    .string()
    .trim()
    .refine((v) => {
      try {
        const u = new URL(v);
        return u.protocol === 'http:' || u.protocol === 'https:';
      } catch {
        return false;
      }
    }, 'must be an absolute http(s) URL, URL-encoded'),
  json: z.url(),
};

const headerName: Kind<string> = {
  parse: z.string().trim().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be a valid HTTP header name'),
  json: z.string(),
};
const headerValue: Kind<string> = { parse: z.string().regex(/^[^\r\n\0]*$/, 'must not contain line breaks'), json: z.string() };

const format: Kind<string> = {
  parse: z
    .string()
    .max(200)
    .refine((v) => v === 'whole' || /^\{.*\}$/.test(v) || v.startsWith('pano:'), 'must be "whole", a pano:* preset or a tiling JSON object'),
  json: z.string(),
};

export interface ParamSpec {
  /** The canonical spelling, with hyphens. `_` for `-` and any case are accepted too. */
  name: string;
  description: string;
  kind: Kind<any>;
  /** The applied value in ProcessParams: shown in the task's `parameters` and, read from the defaults, the default. */
  read?: (p: ProcessParams) => unknown;
  write?: (p: ProcessParams, v: any) => void;
  /** The type of the value shown in the task's `parameters`, where it differs from the query's (JSON, colours). */
  shown?: z.ZodType;
  /** How the default is written in OpenAPI when the value type differs from the query text (JSON, colours). */
  docDefault?: (v: any) => unknown;
  /** A class switch: chooses the classes together with the other switches (see chooseClasses). */
  cls?: ObjectClass;
  /** Celantur's 0 on a scale we take from 1: 0 means the default. */
  zeroMeansDefault?: boolean;
  /** A Celantur parameter we accept but do not implement: values for which this returns true are warned about. */
  unsupported?: (v: any) => boolean;
  /** Not a flag of `anonymiser process` (webhooks; thresholds, which are engine options there). */
  noCli?: boolean;
}

const hex = (c: readonly number[]) => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;

const classSwitch = (cls: ObjectClass, description: string): ParamSpec => ({
  name: cls,
  description: `${description}. No class named: every class the container runs; some set true: exactly those; some set false: the others`,
  kind: bool,
  read: (p) => p.classes.includes(cls),
  cls,
});

const kernel = (cls: ObjectClass, description: string): ParamSpec => ({
  name: `kernel-size-${cls}`,
  description,
  kind: num(0.01, 1001),
  read: (p) => p.kernelSize[cls],
  write: (p, v) => (p.kernelSize[cls] = v),
});

const gradient = (cls: 'face' | 'license-plate', end: 'start' | 'stop', min: number, description: string): ParamSpec => ({
  name: `${cls}-anonymization-gradient-${end}`,
  description,
  kind: num(min, 10),
  read: (p) => p.gradient[cls][end],
  write: (p, v) => (p.gradient[cls][end] = v),
});

const threshold = (cls: ObjectClass): ParamSpec => ({
  name: `${cls}-threshold`,
  description: `minimum ${cls} detection score (the default is the server's --${cls}-threshold)`,
  kind: num(0, 1),
  read: (p) => p.thresholds[cls],
  write: (p, v) => (p.thresholds[cls] = v),
  noCli: true,
});

/** Every accepted query parameter of POST /v1/file, in the order OpenAPI and --help list them. */
export const FILE_PARAMETERS: readonly ParamSpec[] = [
  { name: 'method', description: 'anonymisation method; detect writes only masks and metadata', kind: choice(['blur', 'pixelate', 'blacken', 'detect']), read: (p) => p.method, write: (p, v) => (p.method = v) },
  { name: 'debug', description: 'draw boxes, outlines and labels on the output', kind: bool, read: (p) => p.debug, write: (p, v) => (p.debug = v) },
  { name: 'score', description: 'draw detection scores (needs debug=true)', kind: bool, read: (p) => p.score, write: (p, v) => (p.score = v) },
  classSwitch('face', 'detect and anonymise faces'),
  classSwitch('license-plate', 'detect and anonymise licence plates (also spelt license_plate)'),
  classSwitch('person', 'detect and anonymise persons'),
  classSwitch('vehicle', 'detect and anonymise vehicles'),
  { name: 'bbox', description: 'anonymise bounding boxes instead of object shapes', kind: bool, read: (p) => p.bbox, write: (p, v) => (p.bbox = v) },
  {
    name: 'ignores',
    description: 'URL-encoded JSON list of {topLeftX, topLeftY, width, height} areas left untouched',
    kind: ignores,
    read: (p) => p.ignores,
    write: (p, v) => (p.ignores = v),
    shown: z.array(ignoreItem),
    docDefault: (v) => JSON.stringify(v),
  },
  { name: 'mask-scale', description: 'percentage to which the stored masks are scaled (0: the default)', kind: num(0, 100), read: (p) => p.maskScale, write: (p, v) => (p.maskScale = v), zeroMeansDefault: true },
  { name: 'save-mask', description: 'which masks to write', kind: choice(['all', 'binary', 'instance', 'none']), read: (p) => p.saveMask, write: (p, v) => (p.saveMask = v) },
  { name: 'quality', description: 'JPEG quality, also the video quality (mapped to CRF); 0: the default', kind: num(0, 100, true), read: (p) => p.quality, write: (p, v) => (p.quality = v), zeroMeansDefault: true },
  { name: 'compress-level', description: 'PNG compression level', kind: num(0, 9, true), read: (p) => p.compressLevel, write: (p, v) => (p.compressLevel = v) },
  { name: 'webhook', description: 'URL-encoded URL that receives a POST when the task is done, failed or deleted before it finished', kind: webhookUrl, noCli: true },
  { name: 'web-auth-header-name', description: 'header name sent with the webhook (with web-auth-header-value)', kind: headerName, noCli: true },
  { name: 'web-auth-header-value', description: 'header value sent with the webhook', kind: headerValue, noCli: true },
  kernel('face', 'blur strength for faces: below 1 relative to the box, otherwise pixels'),
  kernel('license-plate', 'blur strength for plates: below 1 relative to the box, otherwise pixels'),
  kernel('person', 'blur kernel for persons, in pixels'),
  kernel('vehicle', 'blur kernel for vehicles, in pixels'),
  gradient('face', 'start', 0, 'soft edge: where the ramp starts, relative to the box, outside it'),
  gradient('face', 'stop', -1, 'soft edge: where the full effect is reached (negative: inside the box)'),
  gradient('license-plate', 'start', 0, 'soft edge for plates: start'),
  gradient('license-plate', 'stop', -1, 'soft edge for plates: stop'),
  ...OBJECT_CLASSES.map(threshold),
  { name: 'fill-color', description: 'colour used by blacken: #RRGGBB or R,G,B', kind: color, read: (p) => p.fillColor, write: (p, v) => (p.fillColor = v), docDefault: hex, shown: z.tuple([z.int().min(0).max(255), z.int().min(0).max(255), z.int().min(0).max(255)]) },
  { name: 'format', description: 'Celantur tiling preset; accepted, but tiling is automatic here (a value other than whole is a warning)', kind: format, unsupported: (v) => v !== 'whole', noCli: true },
  { name: 'watermark', description: 'Celantur watermark switch; accepted, but this server draws no watermark (true is a warning)', kind: bool, unsupported: (v) => v === true, noCli: true },
];

/** Looked up by canonical name in a Map, so that names like `constructor` or `__proto__` are simply unknown. */
const BY_NAME: ReadonlyMap<string, ParamSpec> = new Map(FILE_PARAMETERS.map((s) => [s.name, s]));

/** `license_plate`, `Save_Mask` and `save-mask` are one name. */
export function canonicalName(key: string): string {
  return key.replace(/_/g, '-').toLowerCase();
}

/** The values a request without parameters gets on this server. */
export function defaultParams(enabled: readonly ObjectClass[], thresholds: Record<ObjectClass, number>): ProcessParams {
  return { ...structuredClone(DEFAULT_PARAMS), classes: [...enabled], thresholds: { ...thresholds } };
}

/** The task's `parameters` object: every applied value under its Celantur v1 response name (snake_case). */
export function presentParameters(p: ProcessParams): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of FILE_PARAMETERS) if (s.read) out[s.name.replace(/-/g, '_')] = s.read(p);
  return out;
}

/** JSON Schema of one parameter's value, with the default this server applies. */
export function parameterSchema(s: ParamSpec, defaults: ProcessParams): Record<string, unknown> {
  const { $schema: _drop, ...schema } = z.toJSONSchema(s.kind.json) as Record<string, unknown>;
  if (s.read && !s.cls) {
    const v = s.read(defaults);
    schema.default = s.docDefault ? s.docDefault(v) : v;
  }
  return schema;
}

/** The flags `anonymiser process` takes, one per parameter that makes sense without a server. */
export function cliParameters(defaults: ProcessParams): { name: string; description: string }[] {
  return FILE_PARAMETERS.filter((s) => !s.noCli).map((s) => {
    const d = s.read && !s.cls ? parameterSchema(s, defaults).default : undefined;
    return { name: s.name, description: d === undefined ? s.description : `${s.description} (default: ${typeof d === 'string' ? d : JSON.stringify(d)})` };
  });
}

export interface ParsedFileRequest {
  params: ProcessParams;
  webhook: WebhookTarget | null;
  /** Parameters accepted but not acted on, in words; shown in the task's `warnings`. */
  warnings: string[];
}

export interface ParseOptions {
  /** Unknown names become warnings instead of errors (--lenient-params). */
  lenient?: boolean;
}

export function parseFileQuery(
  query: Record<string, unknown>,
  enabled: readonly ObjectClass[],
  defaults: Pick<ProcessParams, 'thresholds'>,
  opts: ParseOptions = {},
): ParsedFileRequest {
  const problems: ParameterProblem[] = [];
  const warnings: string[] = [];
  const values = new Map<string, unknown>();
  const spelledAs = new Map<string, string>();
  const params = defaultParams(enabled, defaults.thresholds);

  for (const [rawKey, rawValue] of Object.entries(query)) {
    const spec = BY_NAME.get(canonicalName(rawKey));
    if (!spec) {
      if (opts.lenient) warnings.push(`${rawKey}: unknown parameter, ignored`);
      else problems.push({ parameter: rawKey, message: `unknown parameter (accepted: ${FILE_PARAMETERS.map((s) => s.name).join(', ')})` });
      continue;
    }
    const earlier = spelledAs.get(spec.name);
    spelledAs.set(spec.name, rawKey);
    if (earlier !== undefined) {
      problems.push({ parameter: rawKey, message: `given twice (also as ${earlier})` });
      continue;
    }
    if (typeof rawValue !== 'string') {
      problems.push({ parameter: rawKey, message: 'must be given once, as a single value' });
      continue;
    }
    if (rawValue.trim() === '') continue; // Celantur: an empty value is the default
    const r = spec.kind.parse.safeParse(rawValue);
    if (!r.success) {
      problems.push({ parameter: rawKey, message: r.error.issues[0]?.message ?? 'invalid value' });
      continue;
    }
    if (spec.unsupported) {
      if (spec.unsupported(r.data)) warnings.push(`${rawKey}: accepted for compatibility with Celantur; not supported here, so ${rawValue} has no effect`);
      continue;
    }
    if (spec.zeroMeansDefault && r.data === 0) {
      warnings.push(`${rawKey}: 0 means the default, ${String(spec.read!(params))}`);
      continue;
    }
    values.set(spec.name, r.data);
  }

  for (const s of FILE_PARAMETERS) if (s.write && values.has(s.name)) s.write(params, values.get(s.name));
  if (params.score && !params.debug) problems.push({ parameter: spelledAs.get('score') ?? 'score', message: 'only works together with debug=true' });

  let webhook: WebhookTarget | null = null;
  const url = values.get('webhook') as string | undefined;
  const name = values.get('web-auth-header-name') as string | undefined;
  const value = values.get('web-auth-header-value') as string | undefined;
  if ((name === undefined) !== (value === undefined)) {
    const missing = name === undefined ? 'web-auth-header-name' : 'web-auth-header-value';
    problems.push({ parameter: missing, message: 'web-auth-header-name and web-auth-header-value go together' });
  } else if (url) webhook = { url, headerName: name, headerValue: value };
  else if (name !== undefined) problems.push({ parameter: spelledAs.get('web-auth-header-name')!, message: 'needs a webhook' });

  const classes = chooseClasses(values, enabled, spelledAs, problems);
  if (classes) params.classes = classes;
  if (problems.length > 0) throw new BadParametersError(problems);
  return { params, webhook, warnings };
}

/**
 * No class named: every class the container runs. Some set to true: exactly those. Only some set to false:
 * the container's classes without those. A class the container was not started with is an error of its own
 * (class_not_enabled) when it is the only problem of the request.
 */
function chooseClasses(values: Map<string, unknown>, enabled: readonly ObjectClass[], spelledAs: Map<string, string>, problems: ParameterProblem[]): ObjectClass[] | null {
  const asked = OBJECT_CLASSES.filter((c) => values.get(c) === true);
  const missing = asked.filter((c) => !enabled.includes(c));
  if (missing.length > 0) {
    if (problems.length === 0 && missing.length === 1) throw new ClassNotEnabledError(missing[0]!, enabled);
    for (const c of missing) {
      problems.push({ parameter: spelledAs.get(c) ?? c, message: `the container was not started with this class (started with: ${enabled.join(', ') || 'none'}); restart it with -a ${c}` });
    }
    return null;
  }
  if (asked.length > 0) return asked;
  const chosen = enabled.filter((c) => values.get(c) !== false);
  if (chosen.length === 0) {
    problems.push({ parameter: 'face', message: 'every class is switched off: ask for at least one of face, license-plate, person, vehicle' });
    return null;
  }
  return chosen;
}

/** The x-is-async header: the same words as query booleans; absent or empty is synchronous. */
export function parseAsyncHeader(v: string | undefined): boolean {
  if (v === undefined || v.trim() === '') return false;
  const b = parseBoolean(v);
  if (b === undefined) throw new BadParameterError('x-is-async', BOOLEAN_HINT);
  return b;
}

const positiveInt = (name: string, def: number, max: number) => (v: unknown): number => {
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isInteger(n) || n < 1 || n > max) throw new BadParameterError(name, `must be a whole number from 1 to ${max}`);
  return n;
};

export const PAGING = { page: { default: 1, max: 1_000_000 }, limit: { default: 50, max: 1000 } } as const;

export function parsePaging(query: Record<string, unknown>): { page: number; limit: number } {
  return {
    page: positiveInt('page', PAGING.page.default, PAGING.page.max)(query.page),
    limit: positiveInt('limit', PAGING.limit.default, PAGING.limit.max)(query.limit),
  };
}

export function parseBoolParam(query: Record<string, unknown>, name: string, def: boolean): boolean {
  const v = query[name];
  if (v === undefined || v === '') return def;
  const b = typeof v === 'string' ? parseBoolean(v) : undefined;
  if (b === undefined) throw new BadParameterError(name, BOOLEAN_HINT);
  return b;
}

/** ?mask-scale= of the mask downloads, 0..100 as on upload; 0 or absent: as stored. */
export function parseMaskScale(query: Record<string, unknown>): number | undefined {
  const v = query['mask-scale'] ?? query.mask_scale;
  if (v === undefined || v === '') return undefined;
  const r = num(0, 100).parse.safeParse(v);
  if (!r.success) throw new BadParameterError('mask-scale', r.error.issues[0]?.message ?? 'invalid');
  return r.data === 0 ? undefined : r.data;
}

export const FRAMES_PER_REQUEST = 500;

export function parseFrameRange(query: Record<string, unknown>): { start: number; end: number } {
  const read = (name: string, def: number) => {
    const v = query[name];
    if (v === undefined || v === '') return def;
    const n = Number(v);
    if (typeof v !== 'string' || !Number.isInteger(n) || n < 0) throw new BadParameterError(name, 'must be a frame number (0 or more)');
    return n;
  };
  const start = read('start', 0);
  const end = read('end', start + FRAMES_PER_REQUEST - 1);
  if (end < start) throw new BadParameterError('end', 'must not be before start');
  return { start, end };
}
