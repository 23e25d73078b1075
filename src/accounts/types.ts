// Accounts, their tokens, monthly quotas and per-minute rate limits: the types every store implements.

/** What a token may do: the InstaVid360 services, plus one scope per other API so that a token can be limited to it. */
export const SCOPES = ['image:upload', 'task:read', 'task:lpa', 'task:bg-replace', 'celantur', 'maskit', 'pekat'] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * Services with a monthly quota: InstaVid360's two task types, and one per other API (a task request there,
 * e.g. Celantur's POST /v1/file, consumes one credit of the dialect's name). (est.)
 */
export const QUOTA_SERVICES = ['lpa', 'bg-replace', 'celantur', 'maskit', 'pekat'] as const;
export type QuotaService = (typeof QUOTA_SERVICES)[number];

export interface Account {
  id: string;
  name: string;
  email: string;
  /** Monthly credits per service; a service without an entry is not limited. */
  quotas: Partial<Record<QuotaService, number>>;
  /** Requests per minute over all of the account's tokens; null: no limit. */
  rateLimit: number | null;
  createdAt: string;
}

export interface TokenInfo {
  id: string;
  accountId: string;
  /** Unique per account (among tokens not revoked). */
  name: string;
  scopes: Scope[];
  createdAt: string;
  revokedAt: string | null;
}

export interface QuotaOutcome {
  allowed: boolean;
  /** null: no quota for this service. */
  limit: number | null;
  used: number;
  /** Start of the next month (UTC), when the count starts again. */
  resetAt: Date;
}

export interface RateOutcome {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** End of the current one-minute window. */
  resetAt: Date;
}

/** Who a request speaks for: the --api-key (all scopes, sees everything) or one account's token. */
export type Principal =
  | { kind: 'key' }
  | { kind: 'token'; tokenId: string; tokenName: string; accountId: string; scopes: readonly Scope[] };

export function parseScopes(value: string): Scope[] {
  const scopes = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (scopes.length === 0) throw new AccountError(`--scopes: give at least one of ${SCOPES.join(', ')}`);
  for (const s of scopes) if (!(SCOPES as readonly string[]).includes(s)) throw new AccountError(`unknown scope "${s}" (choose from ${SCOPES.join(', ')})`);
  return [...new Set(scopes)] as Scope[];
}

/** `lpa=100,bg-replace=50`; a value of `none` removes that quota. */
export function parseQuotas(value: string): Partial<Record<QuotaService, number | null>> {
  const out: Partial<Record<QuotaService, number | null>> = {};
  for (const part of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z:-]+)=(\d+|none)$/.exec(part);
    if (!m || !(QUOTA_SERVICES as readonly string[]).includes(m[1]!)) {
      throw new AccountError(`--quota: "${part}" is not service=N with a service from ${QUOTA_SERVICES.join(', ')}`);
    }
    out[m[1] as QuotaService] = m[2] === 'none' ? null : Number(m[2]);
  }
  return out;
}

/** Calendar month in UTC: the quota period, and when it resets. */
export function quotaPeriod(now: Date): { period: string; resetAt: Date } {
  const period = `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
  return { period, resetAt: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)) };
}

/** A wrong account, token or CLI value; the CLI prints its message alone. */
export class AccountError extends Error {
  override name = 'AccountError';
}
