// API-key check: "Authorization: Bearer <key>" or "x-api-key: <key>", compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { UnauthorizedError } from '../errors.ts';
import { sendError } from './errors.ts';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function requireApiKey(key: string): RequestHandler {
  const expected = digest(key);
  return (req, res, next) => {
    const bearer = /^Bearer\s+(.+)$/i.exec(req.get('authorization') ?? '')?.[1];
    const given = bearer ?? req.get('x-api-key');
    if (given !== undefined && timingSafeEqual(digest(given.trim()), expected)) return next();
    sendError(res, new UnauthorizedError());
  };
}
