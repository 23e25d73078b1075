// The Maskit masking API dialect (../shared/DIALECTS.md §2): routes under /api/v1/masking, Maskit's field
// names and statuses, its RFC 7807 error body (est.), x-api-key, the signed multipart webhook and the
// sweeper that deletes results nobody downloaded.
import { NotFoundError } from '../../errors.ts';
import type { Dialect, Handler } from '../dialect.ts';
import { mountRoutes } from '../dialect.ts';
import { maskitErrorBody } from './errors.ts';
import { maskitNotifier } from './notifier.ts';
import { buildMaskitOpenApi } from './openapi.ts';
import { BASE_PATH, DIALECT_NAME, maskitRoutes, type MaskitOutcome } from './routes.ts';

export interface MaskitOptions {
  /** --maskit-result-ttl */
  resultTtlMs: number;
  webhookUrl?: string;
  webhookSecret?: string;
}

export function maskitDialect(opts: MaskitOptions): Dialect {
  if (opts.webhookUrl && !opts.webhookSecret) throw new Error('--maskit-webhook-url needs --maskit-webhook-secret (the X-Signature HMAC key)');
  const openapi: Handler = (_ctx, _req, res) => {
    res.json(buildMaskitOpenApi());
  };
  const expired: MaskitOutcome = 'expired';
  return {
    name: DIALECT_NAME,
    mount: (router, ctx) => {
      mountRoutes(router, ctx, maskitRoutes({ webhookUrl: opts.webhookUrl }, openapi));
      // Anything else under the Maskit path is a 404 in Maskit's shape (the app's 404 is Celantur's).
      router.use(BASE_PATH, (req, _res, next) => next(new NotFoundError(`no route ${req.method} ${req.originalUrl.split('?')[0]}`)));
      // Checks at start (results left by an earlier run) and then at a tenth of the TTL, at most each minute.
      const intervalMs = Math.min(60_000, Math.max(200, Math.floor(opts.resultTtlMs / 10)));
      ctx.service.startResultSweeper({ dialect: DIALECT_NAME, ttlMs: opts.resultTtlMs, intervalMs, dialectState: { outcome: expired } });
    },
    notifier: maskitNotifier(opts.webhookSecret),
    openapi: () => buildMaskitOpenApi(),
    errorBody: maskitErrorBody,
    auth: {
      claims: (req) => req.path.toLowerCase().startsWith(`${BASE_PATH}/`),
      keyOf: (req) => req.get('x-api-key'),
      hint: 'send the header "x-api-key: <key>"',
    },
  };
}
