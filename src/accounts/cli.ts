// `anonymiser accounts …` and `anonymiser tokens …`: the account model on the same database as `serve`.
import { Command, Option } from 'commander';
import { addDatabaseOptions, databasePathFrom, parseRateLimit } from '../config.ts';
import { SqliteAccountStore } from './sqlite.ts';
import type { AccountStore } from './store.ts';
import { hashToken, newTokenSecret } from './tokens.ts';
import { parseQuotas, parseScopes, QUOTA_SERVICES, SCOPES, type Account } from './types.ts';

type Out = (line: string) => void;

async function withStore(opts: Record<string, unknown>, fn: (store: AccountStore) => Promise<void>): Promise<void> {
  const store = new SqliteAccountStore(databasePathFrom(opts));
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

function describe(a: Account, used: Partial<Record<string, number>>): string {
  const quotas = QUOTA_SERVICES.filter((s) => a.quotas[s] !== undefined || used[s]).map((s) => `${s}=${used[s] ?? 0}/${a.quotas[s] ?? '∞'}`);
  return `${a.email}\t${a.name}\trate-limit=${a.rateLimit ?? 'none'}/min\tquotas(this month used/limit): ${quotas.join(',') || 'none'}`;
}

export function addAccountCommands(program: Command, out: Out = (l) => process.stdout.write(`${l}\n`)): void {
  const accounts = program.command('accounts').description('registered API users: monthly quotas per service and a per-minute rate limit');
  addDatabaseOptions(
    accounts
      .command('add')
      .description('register an account; from then on every request needs a token (or the --api-key)')
      .requiredOption('--name <name>', 'the client\'s name')
      .requiredOption('--email <email>', 'the account\'s e-mail address (its key)')
      .option('--quota <list>', `monthly credits per service, e.g. lpa=1000,bg-replace=500 (services: ${QUOTA_SERVICES.join(', ')}; none: unlimited)`)
      .option('--rate-limit <n>', 'requests per minute over all of the account\'s tokens (none: no limit)'),
  ).action(async (opts: Record<string, unknown>) =>
    withStore(opts, async (store) => {
      const a = await store.addAccount({
        name: String(opts.name),
        email: String(opts.email),
        quotas: opts.quota ? parseQuotas(String(opts.quota)) : {},
        rateLimit: opts.rateLimit !== undefined ? parseRateLimit(String(opts.rateLimit)) : null,
      });
      out(`added ${describe(a, {})}`);
    }),
  );
  addDatabaseOptions(accounts.command('list').description('accounts with this month\'s use')).action(async (opts: Record<string, unknown>) =>
    withStore(opts, async (store) => {
      for (const a of await store.listAccounts()) out(describe(a, await store.usage(a.id)));
    }),
  );
  addDatabaseOptions(
    accounts
      .command('set')
      .description('change an account\'s name, quotas (merged; service=none removes one) or rate limit')
      .requiredOption('--email <email>')
      .option('--name <name>')
      .option('--quota <list>')
      .option('--rate-limit <n>'),
  ).action(async (opts: Record<string, unknown>) =>
    withStore(opts, async (store) => {
      const a = await store.updateAccount(String(opts.email), {
        name: opts.name !== undefined ? String(opts.name) : undefined,
        quotas: opts.quota ? parseQuotas(String(opts.quota)) : undefined,
        rateLimit: opts.rateLimit !== undefined ? parseRateLimit(String(opts.rateLimit)) : undefined,
      });
      out(`updated ${describe(a, await store.usage(a.id))}`);
    }),
  );
  addDatabaseOptions(accounts.command('remove').description('remove an account and its tokens').requiredOption('--email <email>')).action(
    async (opts: Record<string, unknown>) =>
      withStore(opts, async (store) => {
        await store.removeAccount(String(opts.email));
        out(`removed ${String(opts.email)}`);
      }),
  );

  const tokens = program.command('tokens').description('API tokens of an account (Authorization: Bearer <token>)');
  addDatabaseOptions(
    tokens
      .command('add')
      .description('make a token; it is printed once, as the last line, and only its hash is kept')
      .requiredOption('--account <email>')
      .requiredOption('--name <name>', 'unique among the account\'s tokens')
      .addOption(new Option('--scopes <list>', `comma-separated: ${SCOPES.join(', ')}`).makeOptionMandatory()),
  ).action(async (opts: Record<string, unknown>) =>
    withStore(opts, async (store) => {
      const scopes = parseScopes(String(opts.scopes));
      const secret = newTokenSecret();
      const t = await store.addToken(String(opts.account), String(opts.name), scopes, hashToken(secret));
      out(`token "${t.name}" of ${String(opts.account)} with scopes ${t.scopes.join(',')}; it is shown only now:`);
      out(secret);
    }),
  );
  addDatabaseOptions(tokens.command('list').description('token names and scopes (never the secrets)').option('--account <email>')).action(
    async (opts: Record<string, unknown>) =>
      withStore(opts, async (store) => {
        for (const t of await store.listTokens(opts.account ? String(opts.account) : undefined)) {
          out(`${t.email}\t${t.name}\t${t.scopes.join(',')}\tcreated ${t.createdAt}${t.revokedAt ? `\trevoked ${t.revokedAt}` : ''}`);
        }
      }),
  );
  addDatabaseOptions(tokens.command('revoke').description('revoke a token at once').requiredOption('--account <email>').requiredOption('--name <name>')).action(
    async (opts: Record<string, unknown>) =>
      withStore(opts, async (store) => {
        await store.revokeToken(String(opts.account), String(opts.name));
        out(`revoked "${String(opts.name)}" of ${String(opts.account)}`);
      }),
  );
}
