// Builds the express application: shared middleware (request log, API key), then each dialect's routes,
// each with the error shape of its dialect, then the 404 for everything else.
import express from 'express';
import type { Logger } from 'pino';
import { ForbiddenError, NotFoundError } from '../errors.ts';
import { currentPrincipal } from '../accounts/context.ts';
import { guard, guardedRouter } from './auth.ts';
import type { AccountStore } from '../accounts/store.ts';
import { errorHandler, sendError } from './errors.ts';
import type { Dialect, DialectContext } from './dialect.ts';

export function createApp(
  ctx: DialectContext,
  dialects: readonly Dialect[],
  opts: { apiKey?: string; accounts?: AccountStore; log: Logger; metrics?: () => Promise<{ contentType: string; body: string }> },
): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.set('query parser', 'simple');
  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      opts.log.debug({ method: req.method, url: req.originalUrl, status: res.statusCode, ms: Math.round(ms) }, 'request');
    });
    next();
  });
  const auth = { apiKey: opts.apiKey, accounts: opts.accounts };
  // Prometheus metrics of this replica (src/metrics.ts), for the operator: the --api-key, not account tokens.
  const metrics = opts.metrics;
  if (metrics) {
    const checkKey = guard(auth, null);
    app.get(
      '/metrics',
      (req, res, next) => void checkKey(req, res, next).catch(next),
      (_req, res, next) => {
        if (currentPrincipal()?.kind === 'token') return next(new ForbiddenError('metrics'));
        metrics().then(({ contentType, body }) => void res.type(contentType).send(body), next);
      },
    );
  }
  for (const dialect of dialects) {
    const router = express.Router();
    // Authentication, rate limit and the dialect's scope (its name unless it says otherwise) before every route.
    const scope = dialect.scope === undefined ? dialect.name : dialect.scope;
    dialect.mount(opts.apiKey || opts.accounts ? guardedRouter(router, guard(auth, scope, dialect.auth)) : router, ctx);
    router.use(errorHandler(opts.log, dialect.errorBody?.bind(dialect)));
    app.use(router);
  }
  app.use((req, res) => sendError(res, new NotFoundError(`no route ${req.method} ${req.path}`)));
  app.use(errorHandler(opts.log));
  return app;
}
