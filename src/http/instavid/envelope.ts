// InstaVid360's answer envelope: {success, code, locale: "en", message, data}. Failures: success false, a
// non-zero code (the HTTP status, est.), and the reasons in data.messages[].
import type { AppError } from '../../errors.ts';

export const LOCALE = 'en';

export function ok(data: unknown, message = 'OK') {
  return { success: true, code: 0, locale: LOCALE, message, data };
}

export function failure(err: AppError) {
  const listed = (err.details as { messages?: unknown } | undefined)?.messages;
  const messages = Array.isArray(listed) && listed.length ? listed.map(String) : [err.message];
  const { messages: _ignored, ...rest } = (err.details ?? {}) as Record<string, unknown>;
  return { success: false, code: err.status, locale: LOCALE, message: err.message, data: { messages, error: err.code, ...rest } };
}
