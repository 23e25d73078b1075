// The PEKAT VISION Image Analyze API dialect (../shared/DIALECTS.md §3): /analyze_image, /analyze_raw_image,
// /ping, /version, /last_image; PEKAT's context JSON; api_key in the query; errors as a context with error=true.
import type { Request } from 'express';
import type { Dialect, Handler } from '../dialect.ts';
import { mountRoutes } from '../dialect.ts';
import type { AppError } from '../../errors.ts';
import { errorContext } from './context.ts';
import { buildPekatOpenApi } from './openapi.ts';
import { DIALECT_NAME, PEKAT_PATHS, pekatRoutes } from './routes.ts';

export interface PekatOptions {
  /** --keep-pekat-results */
  keepResults: boolean;
}

const PATHS = new Set<string>(Object.values(PEKAT_PATHS));
const PUBLIC = new Set<string>([PEKAT_PATHS.ping, PEKAT_PATHS.version]);
/** Express routes match in any case, with or without a trailing slash; so does the key check. */
const pathOf = (req: Request) => (req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path).toLowerCase();

/** PEKAT clients read `error`/`processing` of a bare context; we add our stable code and message (est.). */
export function pekatErrorBody(err: AppError) {
  return { ...errorContext(err.message, ''), code: err.code, message: err.message };
}

export function pekatDialect(opts: PekatOptions): Dialect {
  const openapi: Handler = (_ctx, _req, res) => {
    res.json(buildPekatOpenApi());
  };
  return {
    name: DIALECT_NAME,
    mount: (router, ctx) => mountRoutes(router, ctx, pekatRoutes({ keepResults: opts.keepResults }, openapi)),
    // PEKAT answers synchronously and has no webhooks.
    notifier: { request: () => null },
    openapi: () => buildPekatOpenApi(),
    errorBody: pekatErrorBody,
    auth: {
      claims: (req: Request) => PATHS.has(pathOf(req)),
      keyOf: (req: Request) => {
        const q = (req.query as Record<string, unknown>).api_key;
        return typeof q === 'string' ? q : req.get('x-api-key');
      },
      isPublic: (req: Request) => PUBLIC.has(pathOf(req)),
      hint: 'add ?api_key=<key> to the URL',
    },
  };
}
