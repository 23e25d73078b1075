// AccountStore on SQLite: the same database file as the tasks (WAL, so serve and the CLI can use it at once).
import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { openSqliteFile } from '../db/sqlite.ts';
import { AccountError, type AccountChanges, type AccountStore, type NewAccount } from './store.ts';
import { sameHash } from './tokens.ts';
import { quotaPeriod, type Account, type QuotaOutcome, type QuotaService, type RateOutcome, type Scope, type TokenInfo } from './types.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS accounts (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE COLLATE NOCASE,
  quotas TEXT NOT NULL DEFAULT '{}',
  rate_limit INTEGER,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  hash BLOB NOT NULL UNIQUE,
  scopes TEXT NOT NULL,
  created_at TEXT NOT NULL,
  revoked_at TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS tokens_live_name ON tokens(account_id, name) WHERE revoked_at IS NULL;
CREATE TABLE IF NOT EXISTS quota_usage (
  account_id TEXT NOT NULL,
  service TEXT NOT NULL,
  period TEXT NOT NULL,
  used INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (account_id, service, period)
);
CREATE TABLE IF NOT EXISTS rate_windows (
  account_id TEXT NOT NULL,
  minute INTEGER NOT NULL,
  count INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (account_id, minute)
);
`;

interface AccountRow {
  id: string;
  name: string;
  email: string;
  quotas: string;
  rate_limit: number | null;
  created_at: string;
}
interface TokenRow {
  id: string;
  account_id: string;
  name: string;
  hash: Buffer;
  scopes: string;
  created_at: string;
  revoked_at: string | null;
}

const toAccount = (r: AccountRow): Account => ({
  id: r.id,
  name: r.name,
  email: r.email,
  quotas: JSON.parse(r.quotas) as Account['quotas'],
  rateLimit: r.rate_limit,
  createdAt: r.created_at,
});
const toToken = (r: TokenRow): TokenInfo => ({
  id: r.id,
  accountId: r.account_id,
  name: r.name,
  scopes: JSON.parse(r.scopes) as Scope[],
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

function mergeQuotas(base: Account['quotas'], changes: AccountChanges['quotas']): Account['quotas'] {
  const out: Record<string, number> = { ...base };
  for (const [k, v] of Object.entries(changes ?? {})) {
    if (v === null || v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

export class SqliteAccountStore implements AccountStore {
  private readonly db: Database.Database;

  constructor(path: string) {
    this.db = openSqliteFile(path);
    this.db.pragma('foreign_keys = ON');
    this.db.exec(SCHEMA);
  }

  async hasAccounts(): Promise<boolean> {
    return this.db.prepare('SELECT 1 FROM accounts LIMIT 1').get() !== undefined;
  }

  private account(email: string): Account {
    const row = this.db.prepare('SELECT * FROM accounts WHERE email = ?').get(email) as AccountRow | undefined;
    if (!row) throw new AccountError(`no account with e-mail ${email}`);
    return toAccount(row);
  }

  async addAccount(a: NewAccount): Promise<Account> {
    if (!/^[^\s@]+@[^\s@]+$/.test(a.email)) throw new AccountError(`"${a.email}" is not an e-mail address`);
    if (!a.name.trim()) throw new AccountError('the account needs a name');
    if (this.db.prepare('SELECT 1 FROM accounts WHERE email = ?').get(a.email)) throw new AccountError(`an account with e-mail ${a.email} exists already`);
    this.db
      .prepare('INSERT INTO accounts (id, name, email, quotas, rate_limit, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(randomUUID(), a.name.trim(), a.email, JSON.stringify(mergeQuotas({}, a.quotas)), a.rateLimit ?? null, new Date().toISOString());
    return this.account(a.email);
  }

  async getAccount(email: string): Promise<Account | undefined> {
    const row = this.db.prepare('SELECT * FROM accounts WHERE email = ?').get(email) as AccountRow | undefined;
    return row ? toAccount(row) : undefined;
  }

  async listAccounts(): Promise<Account[]> {
    return (this.db.prepare('SELECT * FROM accounts ORDER BY created_at, email').all() as AccountRow[]).map(toAccount);
  }

  async updateAccount(email: string, changes: AccountChanges): Promise<Account> {
    const current = this.account(email);
    const name = changes.name?.trim() || current.name;
    const rate = changes.rateLimit === undefined ? current.rateLimit : changes.rateLimit;
    this.db
      .prepare('UPDATE accounts SET name = ?, quotas = ?, rate_limit = ? WHERE id = ?')
      .run(name, JSON.stringify(mergeQuotas(current.quotas, changes.quotas)), rate, current.id);
    return this.account(email);
  }

  async removeAccount(email: string): Promise<void> {
    const current = this.account(email);
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM tokens WHERE account_id = ?').run(current.id);
      this.db.prepare('DELETE FROM quota_usage WHERE account_id = ?').run(current.id);
      this.db.prepare('DELETE FROM rate_windows WHERE account_id = ?').run(current.id);
      this.db.prepare('DELETE FROM accounts WHERE id = ?').run(current.id);
    })();
  }

  async addToken(email: string, name: string, scopes: Scope[], hash: Buffer): Promise<TokenInfo> {
    const account = this.account(email);
    if (!name.trim()) throw new AccountError('the token needs a name');
    if (this.db.prepare('SELECT 1 FROM tokens WHERE account_id = ? AND name = ? AND revoked_at IS NULL').get(account.id, name)) {
      throw new AccountError(`account ${email} has a token named "${name}" already (names are unique per account)`);
    }
    const id = randomUUID();
    this.db
      .prepare('INSERT INTO tokens (id, account_id, name, hash, scopes, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, account.id, name, hash, JSON.stringify(scopes), new Date().toISOString());
    return toToken(this.db.prepare('SELECT * FROM tokens WHERE id = ?').get(id) as TokenRow);
  }

  async listTokens(email?: string): Promise<(TokenInfo & { email: string })[]> {
    const rows = this.db
      .prepare(
        `SELECT t.*, a.email AS email FROM tokens t JOIN accounts a ON a.id = t.account_id
         ${email ? 'WHERE a.email = @email' : ''} ORDER BY a.email, t.created_at`,
      )
      .all(email ? { email } : {}) as (TokenRow & { email: string })[];
    return rows.map((r) => ({ ...toToken(r), email: r.email }));
  }

  async revokeToken(email: string, name: string): Promise<void> {
    const account = this.account(email);
    const r = this.db
      .prepare('UPDATE tokens SET revoked_at = ? WHERE account_id = ? AND name = ? AND revoked_at IS NULL')
      .run(new Date().toISOString(), account.id, name);
    if (r.changes === 0) throw new AccountError(`account ${email} has no live token named "${name}"`);
  }

  async findToken(hash: Buffer): Promise<{ token: TokenInfo; account: Account } | undefined> {
    const row = this.db.prepare('SELECT * FROM tokens WHERE hash = ? AND revoked_at IS NULL').get(hash) as TokenRow | undefined;
    // The lookup is by index; the comparison that decides is constant-time.
    if (!row || !sameHash(row.hash, hash)) return undefined;
    const account = this.db.prepare('SELECT * FROM accounts WHERE id = ?').get(row.account_id) as AccountRow | undefined;
    return account ? { token: toToken(row), account: toAccount(account) } : undefined;
  }

  async consumeCredit(accountId: string, service: QuotaService, now = new Date()): Promise<QuotaOutcome> {
    const { period, resetAt } = quotaPeriod(now);
    return this.db.transaction((): QuotaOutcome => {
      const account = this.db.prepare('SELECT * FROM accounts WHERE id = ?').get(accountId) as AccountRow | undefined;
      const limit = account ? (toAccount(account).quotas[service] ?? null) : null;
      const used = (this.db.prepare('SELECT used FROM quota_usage WHERE account_id = ? AND service = ? AND period = ?').get(accountId, service, period) as { used: number } | undefined)?.used ?? 0;
      if (limit !== null && used >= limit) return { allowed: false, limit, used, resetAt };
      this.db
        .prepare(
          `INSERT INTO quota_usage (account_id, service, period, used) VALUES (?, ?, ?, 1)
           ON CONFLICT (account_id, service, period) DO UPDATE SET used = used + 1`,
        )
        .run(accountId, service, period);
      return { allowed: true, limit, used: used + 1, resetAt };
    }).immediate();
  }

  async refundCredit(accountId: string, service: QuotaService, now = new Date()): Promise<void> {
    const { period } = quotaPeriod(now);
    this.db.prepare('UPDATE quota_usage SET used = MAX(0, used - 1) WHERE account_id = ? AND service = ? AND period = ?').run(accountId, service, period);
  }

  async usage(accountId: string, now = new Date()): Promise<Partial<Record<QuotaService, number>>> {
    const { period } = quotaPeriod(now);
    const rows = this.db.prepare('SELECT service, used FROM quota_usage WHERE account_id = ? AND period = ?').all(accountId, period) as { service: QuotaService; used: number }[];
    return Object.fromEntries(rows.map((r) => [r.service, r.used]));
  }

  async countRequest(accountId: string, limit: number, now = new Date()): Promise<RateOutcome> {
    const minute = Math.floor(now.getTime() / 60_000);
    const resetAt = new Date((minute + 1) * 60_000);
    return this.db.transaction((): RateOutcome => {
      const count = (this.db.prepare('SELECT count FROM rate_windows WHERE account_id = ? AND minute = ?').get(accountId, minute) as { count: number } | undefined)?.count ?? 0;
      if (count >= limit) return { allowed: false, limit, remaining: 0, resetAt };
      this.db
        .prepare(`INSERT INTO rate_windows (account_id, minute, count) VALUES (?, ?, 1) ON CONFLICT (account_id, minute) DO UPDATE SET count = count + 1`)
        .run(accountId, minute);
      // Windows older than a few minutes are of no use.
      this.db.prepare('DELETE FROM rate_windows WHERE account_id = ? AND minute < ?').run(accountId, minute - 5);
      return { allowed: true, limit, remaining: limit - count - 1, resetAt };
    }).immediate();
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
