// The one place where errors become HTTP responses: the error class's status, and by default the body
// {"error": {"code", "message", ...details}}; a dialect may give its own body shape.
import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { AppError, QueueFullError } from '../errors.ts';

export type ErrorBody = (err: AppError) => unknown;

export const defaultErrorBody: ErrorBody = (err) => ({ error: { code: err.code, message: err.message, ...(err.details ?? {}) } });

export function sendError(res: Response, err: AppError, body: ErrorBody = defaultErrorBody): void {
  if (err instanceof QueueFullError) res.set('Retry-After', String(err.retryAfterSeconds));
  else {
    // Quota and rate-limit refusals (issue 13) say when to come back too.
    const retry = (err as { retryAfterSeconds?: unknown }).retryAfterSeconds;
    if (typeof retry === 'number') res.set('Retry-After', String(retry));
  }
  // A download may have set its own type before it failed: errors are always JSON.
  res.status(err.status).type('application/json').json(body(err));
}

/** Fixed public code and text for errors that are not ours (hardening, issue 11). */
const PUBLIC_CLIENT_ERRORS: Record<number, [string, string]> = {
  404: ['not_found', 'not found'],
  408: ['request_timeout', 'the request did not arrive in time'],
  413: ['payload_too_large', 'the request is too large'],
  500: ['internal_error', 'internal error'],
};

/**
 * Maps whatever a handler threw to a response: typed errors as they are, anything else by its status.
 * Messages of errors that are not ours can carry paths or library text, so the answer gets a fixed text
 * per status and the log gets the rest.
 */
export function toAppError(err: unknown, log: Logger): AppError {
  if (err instanceof AppError) {
    if (err.internal) log.info({ code: err.code, detail: err.internal }, 'request refused');
    return err;
  }
  // express.json / body parsers and malformed URLs report with a status of their own.
  const e = err as { status?: unknown; message?: unknown } | null;
  const status = typeof e?.status === 'number' && e.status >= 400 && e.status < 500 ? e.status : 500;
  if (status === 500) log.error({ err }, 'unhandled error');
  else log.info({ err: String(e?.message ?? err) }, 'request refused');
  const [code, message] = PUBLIC_CLIENT_ERRORS[status] ?? ['bad_request', 'the request could not be read (malformed URL, header or body)'];
  return new AppError(status, code, message);
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
