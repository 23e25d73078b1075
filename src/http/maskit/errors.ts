// Maskit's error body. Maskit documents only the statuses (400, 401, 404, 500) and a JSON body; its API is
// ASP.NET Core, whose default error body is an RFC 7807 problem, so we answer in that shape (est.) with our
// stable `code` beside it.
import { STATUS_CODES } from 'node:http';
import type { AppError } from '../../errors.ts';

export interface MaskitProblem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  field?: string;
}

export function maskitErrorBody(err: AppError): MaskitProblem {
  const field = typeof err.details?.parameter === 'string' ? err.details.parameter : undefined;
  return {
    type: 'about:blank',
    title: STATUS_CODES[err.status] ?? 'Error',
    status: err.status,
    detail: err.message,
    code: err.code,
    ...(field ? { field } : {}),
  };
}
