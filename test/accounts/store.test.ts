// The SQLite account store on a real database file: quota and rate counts survive reopening (a restart),
// tokens are found only by their hash and not after revocation, removal takes the tokens along.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteAccountStore } from '../../src/accounts/sqlite.ts';
import { hashToken, newTokenSecret } from '../../src/accounts/tokens.ts';
import { parseQuotas, parseScopes } from '../../src/accounts/types.ts';

test('quota and rate-limit counts hold across a restart; the month and the minute reset them', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'accounts-'));
  const db = join(dir, 'tasks.sqlite');
  try {
    let store = new SqliteAccountStore(db);
    const a = await store.addAccount({ name: 'A', email: 'a@x.test', quotas: { lpa: 2 }, rateLimit: 2 });
    const now = new Date('2026-12-15T10:00:30Z');
    assert.equal((await store.consumeCredit(a.id, 'lpa', now)).allowed, true);
    assert.equal((await store.countRequest(a.id, 2, now)).remaining, 1);
    await store.close();
    store = new SqliteAccountStore(db);
    assert.equal((await store.consumeCredit(a.id, 'lpa', now)).allowed, true);
    const refused = await store.consumeCredit(a.id, 'lpa', now);
    assert.equal(refused.allowed, false);
    assert.equal(refused.resetAt.toISOString(), '2027-01-01T00:00:00.000Z');
    assert.equal((await store.consumeCredit(a.id, 'lpa', new Date('2027-01-01T00:00:01Z'))).allowed, true, 'new month');
    assert.equal((await store.consumeCredit(a.id, 'bg-replace', now)).allowed, true, 'no quota: unlimited');
    assert.equal((await store.countRequest(a.id, 2, now)).remaining, 0);
    const over = await store.countRequest(a.id, 2, now);
    assert.equal(over.allowed, false);
    assert.equal(over.resetAt.toISOString(), '2026-12-15T10:01:00.000Z');
    assert.equal((await store.countRequest(a.id, 2, new Date('2026-12-15T10:01:00Z'))).allowed, true, 'next minute');
    await store.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('tokens: found by hash only, unique names per account, revoked and removed tokens are gone', async () => {
  const store = new SqliteAccountStore(':memory:');
  await store.addAccount({ name: 'A', email: 'a@x.test' });
  await store.addAccount({ name: 'B', email: 'b@x.test' });
  const secret = newTokenSecret();
  assert.match(secret, /^anon_[A-Za-z0-9_-]{43}$/);
  await store.addToken('a@x.test', 'main', parseScopes('task:read,celantur'), hashToken(secret));
  await store.addToken('b@x.test', 'main', parseScopes('task:read'), hashToken(newTokenSecret()));
  await assert.rejects(store.addToken('a@x.test', 'main', ['task:read'], hashToken(newTokenSecret())), /unique per account/);
  const found = await store.findToken(hashToken(secret));
  assert.equal(found?.account.email, 'a@x.test');
  assert.deepEqual(found?.token.scopes, ['task:read', 'celantur']);
  assert.equal(await store.findToken(hashToken(`${secret}x`)), undefined);
  await store.revokeToken('a@x.test', 'main');
  assert.equal(await store.findToken(hashToken(secret)), undefined);
  await store.removeAccount('b@x.test');
  assert.deepEqual((await store.listTokens()).map((t) => t.email), ['a@x.test']);
  assert.throws(() => parseScopes('task:read,root'), /unknown scope "root"/);
  assert.deepEqual(parseQuotas('lpa=10,bg-replace=none'), { lpa: 10, 'bg-replace': null });
  await store.close();
});
