// Builds the express application from the route table.
import express, { type Request, type Response, type NextFunction } from 'express';
import type { Logger } from 'pino';
import { NotFoundError } from '../errors.ts';
import { requireApiKey } from './auth.ts';
import { errorHandler, sendError } from './errors.ts';
import { ROUTES, type ApiContext } from './routes.ts';

export function createApp(ctx: ApiContext, opts: { apiKey?: string; log: Logger }): express.Express {
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
  for (const route of ROUTES) {
    app[route.method](route.path, async (req: Request, res: Response, next: NextFunction) => {
      try {
        await route.handler(ctx, req, res);
      } catch (err) {
        next(err);
      }
    });
  }
  app.use((req, res) => sendError(res, new NotFoundError(`no route ${req.method} ${req.path}`)));
  app.use(errorHandler(opts.log));
  return app;
}
