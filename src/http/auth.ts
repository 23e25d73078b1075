// API-key check, compared in constant time: "Authorization: Bearer <key>" or "x-api-key: <key>" by default;
// a dialect with its own convention (DialectAuth) says where its clients put the key and answers in its shape.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { UnauthorizedError } from '../errors.ts';
import { sendError } from './errors.ts';
import type { Dialect } from './dialect.ts';

const digest = (s: string) => createHash('sha256').update(s).digest();

function defaultKeyOf(req: Request): string | undefined {
  const bearer = /^Bearer\s+(.+)$/i.exec(req.get('authorization') ?? '')?.[1];
  return bearer ?? req.get('x-api-key');
}

export function requireApiKey(key: string, dialects: readonly Dialect[] = []): RequestHandler {
  const expected = digest(key);
  return (req, res, next) => {
    const dialect = dialects.find((d) => d.auth?.claims(req));
    const auth = dialect?.auth;
    if (auth?.isPublic?.(req)) return next();
    const given = auth ? auth.keyOf(req) : defaultKeyOf(req);
    if (given !== undefined && timingSafeEqual(digest(given.trim()), expected)) return next();
    const err = auth ? new UnauthorizedError(`missing or wrong API key: ${auth.hint}`) : new UnauthorizedError();
    sendError(res, err, dialect?.errorBody?.bind(dialect));
  };
}
