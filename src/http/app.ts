// Builds the express application: shared middleware (request log, API key), then each dialect's routes,
// each with the error shape of its dialect, then the 404 for everything else.
import express from 'express';
import type { Logger } from 'pino';
import { NotFoundError } from '../errors.ts';
import { requireApiKey } from './auth.ts';
import { errorHandler, sendError } from './errors.ts';
import type { Dialect, DialectContext } from './dialect.ts';

export function createApp(
  ctx: DialectContext,
  dialects: readonly Dialect[],
  opts: { apiKey?: string; log: Logger; metrics?: () => Promise<{ contentType: string; body: string }> },
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
  if (opts.apiKey) app.use(requireApiKey(opts.apiKey));
  // Prometheus metrics of this replica (src/metrics.ts), behind the same API key as the rest.
  const metrics = opts.metrics;
  if (metrics) {
    app.get('/metrics', (_req, res, next) => {
      metrics().then(({ contentType, body }) => void res.type(contentType).send(body), next);
    });
  }
  for (const dialect of dialects) {
    const router = express.Router();
    dialect.mount(router, ctx);
    router.use(errorHandler(opts.log, dialect.errorBody?.bind(dialect)));
    app.use(router);
  }
  app.use((req, res) => sendError(res, new NotFoundError(`no route ${req.method} ${req.path}`)));
  app.use(errorHandler(opts.log));
  return app;
}
