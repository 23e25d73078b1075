// The one place where errors become HTTP responses: {"error": {"code", "message"}} with the class's status.
import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { AppError, QueueFullError } from '../errors.ts';

export function sendError(res: Response, err: AppError): void {
  if (err instanceof QueueFullError) res.set('Retry-After', String(err.retryAfterSeconds));
  // A download may have set its own type before it failed: errors are always JSON.
  res.status(err.status).type('application/json').json({ error: { code: err.code, message: err.message, ...(err.details ?? {}) } });
}

/** Fixed public code and text for errors that are not ours (hardening, issue 11). */
const PUBLIC_CLIENT_ERRORS: Record<number, [string, string]> = {
  404: ['not_found', 'not found'],
  408: ['request_timeout', 'the request did not arrive in time'],
  413: ['payload_too_large', 'the request is too large'],
  500: ['internal_error', 'internal error'],
};

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof AppError) {
      if (err.internal) log.info({ code: err.code, detail: err.internal }, 'request refused');
      return sendError(res, err);
    }
    // express.json / body parsers and malformed URLs report with a status of their own. Their messages can
    // carry paths or library text, so the answer gets a fixed text per status and the log gets the rest.
    const status = typeof err?.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) log.error({ err }, 'unhandled error');
    else log.info({ err: String(err?.message ?? err) }, 'request refused');
    const [code, message] = PUBLIC_CLIENT_ERRORS[status] ?? ['bad_request', 'the request could not be read (malformed URL, header or body)'];
    sendError(res, new AppError(status, code, message));
  };
}
