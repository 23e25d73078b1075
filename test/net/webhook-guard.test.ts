// The webhook guard: which targets a webhook may reach, checked on the URL and on the address actually connected to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebhookGuard, webhookHeaderNameProblem } from '../../src/net/webhook-guard.ts';
import { AppError } from '../../src/errors.ts';

const refused = (guard: WebhookGuard, url: string) => {
  try {
    guard.checkUrl(url);
    return false;
  } catch (err) {
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.status, 400);
    assert.equal(err.code, 'webhook_refused');
    return true;
  }
};

const METADATA_SPELLINGS = [
  'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
  'http://0xA9FEA9FE/',
  'http://2852039166/',
  'http://0251.0376.0251.0376/',
  'http://169.254.43518/',
  'http://169.254.169.254./',
  'http://[::ffff:169.254.169.254]/',
  'http://[::ffff:a9fe:a9fe]/',
  'http://[64:ff9b::a9fe:a9fe]/',
  'http://[::a9fe:a9fe]/',
  'http://[fd00:ec2::254]/latest/meta-data/',
  'http://metadata.google.internal/computeMetadata/v1/',
  'http://METADATA.google.internal./computeMetadata/v1/',
  'http://metadata/computeMetadata/v1/',
  'http://100.100.100.200/latest/meta-data/',
  'http://168.63.129.16/',
  'https://user:pass@169.254.169.254/',
  'http://169.254.1.1:8080/',
  'http://[fe80::1]/',
  'http://[febf:ffff::1]/',
  'http://0.0.0.0:22/',
  'http://0/',
  'http://[::]/',
  'http://[::ffff:0.0.0.0]/',
  'http://224.0.0.1/',
  'http://255.255.255.255/',
];

test('cloud metadata, link-local and unspecified targets are refused in every spelling', () => {
  const guard = new WebhookGuard();
  for (const url of METADATA_SPELLINGS) assert.ok(refused(guard, url), url);
});

test('loopback, private and public targets stay allowed by default; other schemes are refused', () => {
  const guard = new WebhookGuard();
  for (const url of ['http://127.0.0.1:6379/', 'http://10.0.0.1/', 'http://192.168.1.1/admin', 'http://[::1]:8080/', 'https://hooks.example.com/x', 'http://[fd12::1]/']) {
    assert.equal(refused(guard, url), false, url);
  }
  for (const url of ['file:///etc/passwd', 'gopher://127.0.0.1/', 'ftp://example.com/', 'javascript:alert(1)', 'data:text/plain,x', '/relative', '']) {
    assert.ok(refused(guard, url), url);
  }
});

test('--webhook-allow restricts targets to the listed ranges and hosts; --webhook-deny adds ranges', () => {
  const allow = new WebhookGuard({ allow: ['10.1.0.0/16', 'hooks.example.com', '*.corp.example'] });
  assert.equal(refused(allow, 'http://10.1.2.3/'), false);
  assert.equal(refused(allow, 'https://hooks.example.com/x'), false);
  assert.equal(refused(allow, 'https://a.b.corp.example/x'), false);
  assert.ok(refused(allow, 'http://10.2.0.1/'));
  assert.ok(refused(allow, 'http://127.0.0.1/'));
  // a name not on the list may still resolve into an allowed range: only the connect-time check can tell
  assert.equal(allow.reasonForAddress('10.1.9.9', 'other.example'), null);
  assert.ok(allow.reasonForAddress('8.8.8.8', 'other.example'));
  assert.ok(allow.reasonForAddress('169.254.169.254', 'hooks.example.com'), 'the default deny list still applies');

  const deny = new WebhookGuard({ deny: ['10.0.0.0/8', 'fd00::/8', 'evil.example'] });
  assert.ok(refused(deny, 'http://10.9.9.9/'));
  assert.ok(refused(deny, 'http://[fd12::1]/'));
  assert.ok(refused(deny, 'http://EVIL.example/'));
  assert.equal(refused(deny, 'http://192.168.0.1/'), false);
  assert.throws(() => new WebhookGuard({ allow: ['10.0.0.0/99'] }), /webhook-allow/);
});

test('a name that resolves to a refused address is refused when connecting (DNS rebinding)', async () => {
  const guard = new WebhookGuard();
  const answer = (hostname: string) =>
    new Promise<{ err: NodeJS.ErrnoException | null; address?: unknown }>((resolve) =>
      guard.lookup(hostname, { all: true }, (err, address) => resolve({ err, address })),
    );
  // "localhost" resolves to loopback: allowed by default
  const ok = await answer('localhost');
  assert.equal(ok.err, null);
  // a rule that refuses loopback refuses the same name at connect time, whatever the URL said
  const strict = new WebhookGuard({ deny: ['127.0.0.0/8', '::1/128'] });
  assert.equal(refused(strict, 'http://localhost/'), false, 'the name itself is not on a list');
  const r = await new Promise<NodeJS.ErrnoException | null>((resolve) => strict.lookup('localhost', {}, (err) => resolve(err)));
  assert.equal(r?.code, 'EWEBHOOKREFUSED');
});

test('the guard\'s agents connect only to allowed addresses', async () => {
  const server: Server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  try {
    const strict = new WebhookGuard({ deny: ['127.0.0.0/8', '::1/128'] });
    const { http } = strict.agents();
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      const r = get({ host: 'localhost', port, agent: http }, () => resolve(null));
      r.on('error', (e) => resolve(e as NodeJS.ErrnoException));
    });
    assert.equal(err?.code, 'EWEBHOOKREFUSED');
  } finally {
    server.close();
  }
});

test('hop-by-hop, framing and host headers are refused as the webhook auth header', () => {
  for (const name of ['content-length', 'Content-Length', 'transfer-encoding', 'connection', 'expect', 'upgrade', 'te', 'trailer', 'keep-alive', 'host', 'Proxy-Authorization', 'proxy-connection']) {
    assert.ok(webhookHeaderNameProblem(name), name);
  }
  for (const name of ['authorization', 'x-api-key', 'X-Webhook-Token']) assert.equal(webhookHeaderNameProblem(name), null, name);
});
