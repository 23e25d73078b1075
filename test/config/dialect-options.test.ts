import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { addDialectOptions, parseDuration, serveConfigFrom } from '../../src/config.ts';

test('--maskit-result-ttl takes 90, 90s, 15m, 1h, 500ms and refuses anything else', () => {
  const p = parseDuration('--maskit-result-ttl');
  assert.equal(p('90'), 90_000);
  assert.equal(p('90s'), 90_000);
  assert.equal(p('15m'), 900_000);
  assert.equal(p('1h'), 3_600_000);
  assert.equal(p('500ms'), 500);
  for (const bad of ['', 'soon', '-1s', '0', '1d']) assert.throws(() => p(bad), /--maskit-result-ttl must be a duration/);
});

test('flags and environment variables of the dialects', () => {
  const parse = (argv: string[], env: Record<string, string> = {}) => {
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const cmd = addDialectOptions(new Command('serve'));
      cmd.parse(argv, { from: 'user' });
      return serveConfigFrom(cmd.opts());
    } finally {
      for (const k of Object.keys(env)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  };
  const d = parse([]);
  assert.equal(d.maskitResultTtlMs, 3_600_000);
  assert.equal(d.keepPekatResults, false);
  assert.equal(d.maskitWebhookUrl, undefined);
  assert.equal(parse(['--keep-pekat-results']).keepPekatResults, true);
  assert.equal(parse([], { ANONYMISER_KEEP_PEKAT_RESULTS: 'false' }).keepPekatResults, false);
  assert.equal(parse([], { ANONYMISER_KEEP_PEKAT_RESULTS: 'true' }).keepPekatResults, true);
  assert.equal(parse([], { ANONYMISER_MASKIT_RESULT_TTL: '2m' }).maskitResultTtlMs, 120_000);
  const hooked = parse(['--maskit-webhook-url', 'https://hooks.internal/maskit'], { ANONYMISER_MASKIT_WEBHOOK_SECRET: 's' });
  assert.equal(hooked.maskitWebhookUrl, 'https://hooks.internal/maskit');
  assert.equal(hooked.maskitWebhookSecret, 's');
  assert.throws(() => parse(['--maskit-webhook-url', 'https://hooks.internal/maskit']), /needs --maskit-webhook-secret/);
  assert.throws(() => parse(['--maskit-webhook-url', 'ftp://x/'], { ANONYMISER_MASKIT_WEBHOOK_SECRET: 's' }), /http\(s\) URL/);
});
