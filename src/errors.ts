// Every error the product reports to a user, as a typed class with its HTTP status and a stable code.
// Lower layers throw these; src/http/errors.ts maps them to `{"error": {"code", "message"}}` responses.

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** 400: a query parameter or body field has a wrong value. */
export class BadParameterError extends AppError {
  constructor(readonly parameter: string, message: string) {
    super(400, 'bad_parameter', `${parameter}: ${message}`, { parameter });
  }
}

/** 400: the request asks for a class the container was not started with. */
export class ClassNotEnabledError extends AppError {
  constructor(cls: string, enabled: readonly string[]) {
    super(
      400,
      'class_not_enabled',
      `${cls}: the container was not started with this class (started with: ${enabled.join(', ') || 'none'}); restart it with -a ${cls}`,
      { parameter: cls, enabled },
    );
  }
}

/** 401: missing or wrong API key. */
export class UnauthorizedError extends AppError {
  constructor(message = 'missing or wrong API key: send "Authorization: Bearer <key>" or "x-api-key: <key>"') {
    super(401, 'unauthorized', message);
  }
}

/** 404: no such task, file or route. */
export class NotFoundError extends AppError {
  constructor(message: string) {
    super(404, 'not_found', message);
  }
}

/** 409: the task exists but its result is not ready (or not produced for this task). */
export class NotReadyError extends AppError {
  constructor(message: string, readonly taskStatus: string) {
    super(409, 'not_ready', message, { status: taskStatus });
  }
}

/** 413: upload larger than --max-upload-mb. */
export class PayloadTooLargeError extends AppError {
  constructor(limitMb: number) {
    super(413, 'payload_too_large', `the upload is larger than the limit of ${limitMb} MB`);
  }
}

/** 415: the bytes are not an image or video type we take. */
export class UnsupportedMediaTypeError extends AppError {
  constructor(message: string) {
    super(415, 'unsupported_media_type', message);
  }
}

/** 422: the bytes claim to be a supported type but cannot be decoded. */
export class UndecodableFileError extends AppError {
  constructor(message: string) {
    super(422, 'undecodable_file', message);
  }
}

/** 503: the queue is full; the client should retry after `retryAfterSeconds`. */
export class QueueFullError extends AppError {
  constructor(readonly retryAfterSeconds: number, limit: number) {
    super(503, 'queue_full', `the processing queue is full (${limit} tasks waiting); retry after ${retryAfterSeconds} s`);
  }
}

/** 500/503: the detection models could not be loaded. */
export class ModelsUnavailableError extends AppError {
  constructor(message: string) {
    super(500, 'models_unavailable', message);
  }
}

/** One wrong query parameter, as listed in a 400's `error.details`. */
export interface ParameterProblem {
  parameter: string;
  message: string;
}

/** 400: one or more query parameters are wrong; every one of them is listed in `details`, the first in `parameter`. */
export class BadParametersError extends AppError {
  readonly parameter: string;
  constructor(readonly problems: ParameterProblem[]) {
    const first = problems[0] ?? { parameter: 'query', message: 'invalid' };
    const message = problems.length === 1 ? `${first.parameter}: ${first.message}` : `${problems.length} parameters are wrong: ${problems.map((p) => `${p.parameter}: ${p.message}`).join('; ')}`;
    super(400, 'bad_parameter', message, { parameter: first.parameter, details: problems });
    this.parameter = first.parameter;
  }
}

// ---- hardening (issue 11): public code + message for users, internal detail for the log only ----

/**
 * What a user may see of any error: a typed AppError's own code and message, and for anything else a
 * generic text. Internal detail (tool output, server paths) never goes into answers, task records or webhooks.
 */
export function publicErrorOf(err: unknown): { code: string; message: string } {
  if (err instanceof AppError) return { code: err.code, message: err.message };
  return { code: 'processing_failed', message: 'processing failed (the server log has the details)' };
}

/** Detail to log next to the public message: `internal` of a typed error, or the error itself. */
export function internalDetailOf(err: unknown): string | undefined {
  if (err instanceof AppError) return err.internal;
  return err instanceof Error ? err.message : err === undefined ? undefined : String(err);
}

export interface AppError {
  /** For the log only: raw tool output, paths, library messages. */
  internal?: string;
}

/** Attaches log-only detail to a typed error and returns it. */
export function withInternal<E extends AppError>(err: E, internal: unknown): E {
  err.internal = internal instanceof Error ? internal.message : String(internal);
  return err;
}

/** 422: the image or video frame has more pixels than --max-pixels. */
export class TooManyPixelsError extends AppError {
  constructor(width: number, height: number, maxPixels: number) {
    super(422, 'too_many_pixels', `the file is ${width}×${height} pixels, over the limit of ${maxPixels} pixels (--max-pixels)`, {
      width,
      height,
      max_pixels: maxPixels,
    });
  }
}

/** 422: the video uses a codec the bundled ffmpeg cannot decode. */
export class UnsupportedCodecError extends AppError {
  constructor(codec: string) {
    super(422, 'unsupported_codec', `the video codec ${codec} cannot be decoded here`, { codec });
  }
}

/** 422: processing took longer than --task-timeout; the task was stopped. */
export class TaskTimeoutError extends AppError {
  constructor(seconds: number) {
    super(422, 'task_timeout', `processing took longer than the limit of ${seconds} s (--task-timeout) and was stopped`, { timeout_seconds: seconds });
  }
}

/** 404: the task is done but its file is no longer on disk (removed by someone else, or by a DELETE meanwhile). */
export class FileMissingError extends AppError {
  constructor(taskId: string, what: string) {
    super(404, 'file_missing', `the ${what} of task ${taskId} is no longer on disk`);
  }
}

/** 408: the client sent its request (headers or body) too slowly. */
export class RequestTimeoutError extends AppError {
  constructor(message = 'the request did not arrive in time: the connection was idle too long') {
    super(408, 'request_timeout', message);
  }
}

/** 400: the webhook target is refused by the server's webhook rules (link-local, metadata, --webhook-allow/deny). */
export class WebhookTargetRefusedError extends AppError {
  constructor(reason: string) {
    super(400, 'webhook_refused', `webhook: ${reason}`, { parameter: 'webhook' });
  }
}

/** A model pack could not be fetched or verified (nothing of it was installed). */
export class ModelPackError extends AppError {
  constructor(message: string) {
    super(502, 'model_pack_failed', message);
  }
}

// ---- accounts and tokens (issue 13) ----

/** 403: the token is valid but lacks the scope this request needs. */
export class ForbiddenError extends AppError {
  constructor(scope: string) {
    super(403, 'forbidden', `this token lacks the scope "${scope}" that this request needs`, { scope });
  }
}

/** 429: the account's monthly quota for this service is used up until `resetAt`. */
export class QuotaExceededError extends AppError {
  readonly retryAfterSeconds: number;
  constructor(service: string, limit: number, resetAt: Date) {
    super(429, 'quota_exceeded', `the monthly quota of ${limit} ${service} tasks is used up; it resets at ${resetAt.toISOString()}`, {
      service,
      limit,
      reset_at: resetAt.toISOString(),
    });
    this.retryAfterSeconds = Math.max(1, Math.ceil((resetAt.getTime() - Date.now()) / 1000));
  }
}

/** 429: the account sent more requests this minute than its rate limit. */
export class RateLimitedError extends AppError {
  readonly retryAfterSeconds: number;
  constructor(limit: number, resetAt: Date) {
    super(429, 'rate_limited', `more than ${limit} requests per minute; retry after ${resetAt.toISOString()}`, { limit, reset_at: resetAt.toISOString() });
    this.retryAfterSeconds = Math.max(1, Math.ceil((resetAt.getTime() - Date.now()) / 1000));
  }
}
