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

/** A model pack could not be fetched or verified (nothing of it was installed). */
export class ModelPackError extends AppError {
  constructor(message: string) {
    super(502, 'model_pack_failed', message);
  }
}
