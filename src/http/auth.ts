// Authentication of every dialect's routes, compared in constant time: "Authorization: Bearer <key>" or
// "x-api-key: <key>" by default; a dialect with its own convention (DialectAuth) says where its clients put
// the key and which of its routes are public.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, Response, NextFunction } from 'express';
import type { DialectAuth } from './dialect.ts';
import { ForbiddenError, RateLimitedError, UnauthorizedError } from '../errors.ts';
import type { AccountStore } from '../accounts/store.ts';
import { currentPrincipal, runAs } from '../accounts/context.ts';
import { hashToken } from '../accounts/tokens.ts';
import type { Principal } from '../accounts/types.ts';

const digest = (s: string) => createHash('sha256').update(s).digest();


// ---- accounts and tokens (issue 13) ----
// Every dialect's routes pass through guard(): the --api-key (all scopes), or once accounts exist an
// account's token, whose scopes, rate limit and ownership apply. It runs inside the dialect's router, so
// its refusals (401, 403, 429) come in the dialect's own error shape.

export interface AuthOptions {
  apiKey?: string;
  accounts?: AccountStore;
}

function credentialOf(req: Request): string | undefined {
  const bearer = /^Bearer\s+(.+)$/i.exec(req.get('authorization') ?? '')?.[1];
  return (bearer ?? req.get('x-api-key'))?.trim();
}

/** The middleware that authenticates a request for a route needing `scope` (null: the handler checks scopes itself). */
export function guard(opts: AuthOptions, scope: string | null, dialectAuth?: DialectAuth) {
  const keyDigest = opts.apiKey ? digest(opts.apiKey) : null;
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    if (dialectAuth?.isPublic?.(req)) return next();
    const accountsOn = opts.accounts ? await opts.accounts.hasAccounts() : false;
    if (!keyDigest && !accountsOn) return next();
    const given = (dialectAuth?.keyOf(req) ?? credentialOf(req))?.trim();
    if (given === undefined || given === '') {
      throw new UnauthorizedError(accountsOn ? 'missing token: send "Authorization: Bearer <token>"' : dialectAuth ? `missing or wrong API key: ${dialectAuth.hint}` : undefined);
    }
    const givenDigest = digest(given);
    let principal: Principal | undefined;
    if (keyDigest && timingSafeEqual(givenDigest, keyDigest)) principal = { kind: 'key' };
    else if (accountsOn && opts.accounts) {
      const found = await opts.accounts.findToken(hashToken(given));
      if (found) {
        const { token, account } = found;
        if (account.rateLimit !== null) {
          const rate = await opts.accounts.countRequest(account.id, account.rateLimit);
          res.set('X-RateLimit-Limit', String(rate.limit));
          res.set('X-RateLimit-Remaining', String(rate.remaining));
          res.set('X-RateLimit-Reset', String(Math.ceil(rate.resetAt.getTime() / 1000)));
          if (!rate.allowed) throw new RateLimitedError(rate.limit, rate.resetAt);
        }
        principal = { kind: 'token', tokenId: token.id, tokenName: token.name, accountId: account.id, scopes: token.scopes };
      }
    }
    if (!principal) throw new UnauthorizedError(accountsOn ? 'unknown or revoked token' : dialectAuth ? `missing or wrong API key: ${dialectAuth.hint}` : undefined);
    if (scope) checkScope(principal, scope);
    runAs(principal, () => next());
  };
}

function checkScope(principal: Principal, scope: string): void {
  if (principal.kind === 'token' && !(principal.scopes as readonly string[]).includes(scope)) throw new ForbiddenError(scope);
}

/** For handlers of dialects whose routes need different scopes: throws 403 unless the current request has `scope`. */
export function requireScope(scope: string): void {
  const p = currentPrincipal();
  if (p) checkScope(p, scope);
}

const GUARDED_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete', 'all']);

/** A view of `router` whose route methods put `mw` before the handlers (dialects mount through it unchanged). */
export function guardedRouter<R extends object>(router: R, mw: (req: Request, res: Response, next: NextFunction) => Promise<void>): R {
  return new Proxy(router, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop === 'string' && GUARDED_METHODS.has(prop) && typeof value === 'function') {
        return (path: unknown, ...handlers: unknown[]) => (value as (...a: unknown[]) => unknown).call(target, path, mw, ...handlers);
      }
      return value;
    },
  });
}
