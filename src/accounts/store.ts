// The port through which the server and the CLI keep accounts, tokens, quota counts and rate-limit counts.
// Methods are asynchronous so that a networked database (the scale-out issue's PostgreSQL) can implement it;
// sqlite.ts is the implementation on the task database file.
import type { Account, QuotaOutcome, QuotaService, RateOutcome, Scope, TokenInfo } from './types.ts';

export interface NewAccount {
  name: string;
  email: string;
  quotas?: Partial<Record<QuotaService, number | null>>;
  rateLimit?: number | null;
}

export interface AccountChanges {
  name?: string;
  quotas?: Partial<Record<QuotaService, number | null>>;
  rateLimit?: number | null;
}

export interface AccountStore {
  /** True once any account exists: from then on every request needs a token (or the --api-key). */
  hasAccounts(): Promise<boolean>;
  addAccount(a: NewAccount): Promise<Account>;
  /** By e-mail address (case-insensitive). */
  getAccount(email: string): Promise<Account | undefined>;
  listAccounts(): Promise<Account[]>;
  updateAccount(email: string, changes: AccountChanges): Promise<Account>;
  /** Removes the account and its tokens. */
  removeAccount(email: string): Promise<void>;
  /** Stores only the hash; returns the token's record. */
  addToken(email: string, name: string, scopes: Scope[], hash: Buffer): Promise<TokenInfo>;
  listTokens(email?: string): Promise<(TokenInfo & { email: string })[]>;
  revokeToken(email: string, name: string): Promise<void>;
  /** The live token with this hash, and its account. */
  findToken(hash: Buffer): Promise<{ token: TokenInfo; account: Account } | undefined>;
  /** Takes one credit of this month's quota when one is left (or when the service has no quota). */
  consumeCredit(accountId: string, service: QuotaService, now?: Date): Promise<QuotaOutcome>;
  /** Gives a credit back (the task could not be stored after all). */
  refundCredit(accountId: string, service: QuotaService, now?: Date): Promise<void>;
  /** Counts this month's use per service. */
  usage(accountId: string, now?: Date): Promise<Partial<Record<QuotaService, number>>>;
  /** Counts one request in the current minute; refused (not counted further) above `limit`. */
  countRequest(accountId: string, limit: number, now?: Date): Promise<RateOutcome>;
  close(): Promise<void>;
}

export { AccountError } from './types.ts';
