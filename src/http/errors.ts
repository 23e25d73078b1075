// The one place where errors become HTTP responses: {"error": {"code", "message"}} with the class's status.
import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { AppError, QueueFullError } from '../errors.ts';

export function sendError(res: Response, err: AppError): void {
  if (err instanceof QueueFullError) res.set('Retry-After', String(err.retryAfterSeconds));
  res.status(err.status).json({ error: { code: err.code, message: err.message, ...(err.details ?? {}) } });
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof AppError) return sendError(res, err);
    // express.json / body parsers and malformed URLs report with a status of their own.
    const status = typeof err?.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) log.error({ err }, 'unhandled error');
    sendError(res, new AppError(status, status === 500 ? 'internal_error' : 'bad_request', status === 500 ? 'internal error' : String(err?.message ?? 'bad request')));
  };
}
