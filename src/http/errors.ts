// The one place where errors become HTTP responses: the error class's status, and by default the body
// {"error": {"code", "message", ...details}}; a dialect may give its own body shape.
import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { AppError, QueueFullError } from '../errors.ts';

export type ErrorBody = (err: AppError) => unknown;

export const defaultErrorBody: ErrorBody = (err) => ({ error: { code: err.code, message: err.message, ...(err.details ?? {}) } });

export function sendError(res: Response, err: AppError, body: ErrorBody = defaultErrorBody): void {
  if (err instanceof QueueFullError) res.set('Retry-After', String(err.retryAfterSeconds));
  res.status(err.status).json(body(err));
}

/** Maps whatever a handler threw to a response: typed errors as they are, anything else a 500 (logged). */
export function toAppError(err: unknown, log: Logger): AppError {
  if (err instanceof AppError) return err;
  // express.json / body parsers and malformed URLs report with a status of their own.
  const e = err as { status?: unknown; message?: unknown } | null;
  const status = typeof e?.status === 'number' && e.status >= 400 && e.status < 500 ? e.status : 500;
  if (status === 500) log.error({ err }, 'unhandled error');
  return new AppError(status, status === 500 ? 'internal_error' : 'bad_request', status === 500 ? 'internal error' : String(e?.message ?? 'bad request'));
}

export function errorHandler(log: Logger, body?: ErrorBody): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendError(res, toAppError(err, log), body);
  };
}
