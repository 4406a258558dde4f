import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import type { CertificateRecord } from '../core/domain';
import type { AcmeIssuer, CertificateMaterial } from '../core/ports/certificates';
import type { NewOutboxEvent } from '../core/ports/store';
import { makeCa, makeLeaf, type TestCa } from '../core/tls/test-certificates';
import { CertificateManager } from './certificates';
import type { EngineContext } from './engine-context';

const DAY = 86_400_000;
const T0 = Date.parse('2026-06-01T00:00:00.000Z');

async function world(opts: { acme?: boolean; hosts?: string[]; controlDomain?: string | null } = {}) {
  const ca: TestCa = await makeCa({ cn: 'Test ACME CA' });
  const w = {
    clock: T0,
    certs: new Map<string, CertificateRecord>(),
    settings: new Map<string, string>(),
    events: [] as NewOutboxEvent[],
    installed: [] as Array<{ name: string; hosts: string[]; redirectByDefault: boolean }>,
    orders: [] as string[][],
    accountKeysCreated: 0,
    acmeDown: false,
    published: [] as string[],
  };
  const issueAt = async (domains: string[]): Promise<CertificateMaterial> => {
    const leaf = await makeLeaf({ domains, issuer: ca, notBefore: new Date(w.clock), notAfter: new Date(w.clock + 90 * DAY) });
    return { certPem: leaf.certPem, keyPem: leaf.keyPem };
  };
  const acme: AcmeIssuer = {
    createAccountKey: async () => `account-key-${++w.accountKeysCreated}`,
    issue: async (order) => {
      w.orders.push(order.domains);
      order.challenges.publish('tok', 'tok.thumb');
      w.published.push('tok');
      try {
        if (w.acmeDown) throw new Error('connect ECONNREFUSED 127.0.0.1:14000');
        assert.equal(order.accountKeyPem, 'account-key-1', 'one account key, kept');
        return await issueAt(order.domains);
      } finally {
        order.challenges.withdraw('tok');
      }
    },
  };
  const ctx = {
    store: {
      listCertificates: async () => [...w.certs.values()].sort((a, b) => a.domain.localeCompare(b.domain)),
      getCertificate: async (d: string) => w.certs.get(d) ?? null,
      putCertificate: async (c: Omit<CertificateRecord, 'createdAt' | 'updatedAt'>, event?: NewOutboxEvent) => {
        const rec = { ...c, createdAt: 'x', updatedAt: 'y' };
        w.certs.set(c.domain, rec);
        if (event) w.events.push(event);
        return rec;
      },
      deleteCertificate: async (d: string) => w.certs.delete(d),
      getSetting: async (k: string) => w.settings.get(k) ?? null,
      setSetting: async (k: string, v: string) => void w.settings.set(k, v),
    },
    edge: {
      listBackends: async () => [{ name: 'be_web', hosts: opts.hosts ?? ['shop.example.com', 'app.localhost'] }],
      installCertificate: async (c: { name: string; hosts: string[]; redirectByDefault: boolean }) => void w.installed.push({ name: c.name, hosts: c.hosts, redirectByDefault: c.redirectByDefault }),
      listCertificates: async () => [],
      removeCertificate: async () => undefined,
    },
    cipher: {
      primaryKeyId: () => 'k1',
      seal: (plain: string, context: string) => ({ keyId: 'k1', sealed: `sealed(${context}):${plain}` }),
      open: (sealed: string, context: string) => sealed.replace(`sealed(${context}):`, ''),
    },
  } as unknown as EngineContext;
  const manager = new CertificateManager(ctx, {
    acme: opts.acme === false ? null : { issuer: acme, directoryUrl: 'https://ca.test/dir', email: null },
    localCa: { issue: issueAt, caCertificateFile: () => '/d/tls/local-ca.pem', trustCommands: () => [] },
    controlDomain: opts.controlDomain ?? null,
    intervalMs: 30_000,
    retry: { firstMs: 1000, maxMs: 8000 },
    logger: pino({ level: 'silent' }),
    now: () => w.clock,
  });
  return { w, manager };
}

test('a pass certifies every routed domain and the control domain: ACME for public names, the local CA for *.localhost', async () => {
  const { w, manager } = await world({ controlDomain: 'slipway.example.com' });
  assert.deepEqual(await manager.pass(), ['app.localhost', 'shop.example.com', 'slipway.example.com']);
  assert.deepEqual(w.orders, [['shop.example.com'], ['slipway.example.com']], 'only public names go to the CA');
  assert.equal(w.accountKeysCreated, 1, 'the account key is created once and kept');
  assert.match(w.settings.get('acme.account-key:https://ca.test/dir') ?? '', /^sealed\(/, 'kept sealed');
  assert.deepEqual(w.installed.map((c) => [c.name, c.redirectByDefault]), [['app.localhost', false], ['shop.example.com', true], ['slipway.example.com', true]]);
  const shop = w.certs.get('shop.example.com')!;
  assert.equal(shop.status, 'valid');
  assert.equal(shop.source, 'acme');
  assert.equal(shop.renewAt, new Date(T0 + 60 * DAY).toISOString(), 'renewal at 2/3 of 90 days');
  assert.match(shop.sealedKey ?? '', /^sealed\(certificate-key:shop\.example\.com\):-----BEGIN/);
  assert.equal(w.certs.get('app.localhost')!.source, 'local');
  assert.deepEqual(w.events.map((e) => [e.type, e.payload.domain, e.payload.renewal]), [
    ['certificate.issued', 'app.localhost', false],
    ['certificate.issued', 'shop.example.com', false],
    ['certificate.issued', 'slipway.example.com', false],
  ]);
  assert.equal(manager.challengeResponse('tok'), null, 'challenges are withdrawn after the order');
  assert.deepEqual(await manager.pass(), [], 'nothing is due');
});

test('renewal falls due at 2/3 of the lifetime; the event says renewal', async () => {
  const { w, manager } = await world({ hosts: ['shop.example.com'] });
  await manager.pass();
  w.clock = T0 + 59 * DAY;
  assert.deepEqual(await manager.pass(), []);
  w.clock = T0 + 60 * DAY + 1;
  assert.deepEqual(await manager.pass(), ['shop.example.com']);
  assert.equal(w.events.at(-1)?.payload.renewal, true);
  // Certificates count in whole seconds.
  assert.ok(Math.abs(Date.parse(w.certs.get('shop.example.com')!.renewAt!) - (w.clock + 60 * DAY)) < 1000);
});

test('a failed order is recorded and announced, retried with doubling backoff, and forgotten after a success', async () => {
  const { w, manager } = await world({ hosts: ['shop.example.com'] });
  w.acmeDown = true;
  await manager.pass();
  let rec = w.certs.get('shop.example.com')!;
  assert.deepEqual([rec.status, rec.failures, rec.nextAttemptAt], ['failed', 1, new Date(T0 + 1000).toISOString()]);
  assert.match(rec.lastError ?? '', /ECONNREFUSED/);
  assert.deepEqual(w.events.map((e) => [e.type, e.payload.failures]), [['certificate.failed', 1]]);
  w.clock += 500;
  assert.deepEqual(await manager.pass(), [], 'not before the next attempt');
  w.clock = T0 + 1000;
  await manager.pass();
  rec = w.certs.get('shop.example.com')!;
  assert.deepEqual([rec.failures, rec.nextAttemptAt], [2, new Date(T0 + 1000 + 2000).toISOString()]);
  await assert.rejects(manager.renew('shop.example.com'), /ECONNREFUSED/, 'a forced renewal reports the error');
  w.acmeDown = false;
  const renewed = await manager.renew('shop.example.com');
  assert.deepEqual([renewed.status, renewed.failures, renewed.lastError, renewed.nextAttemptAt], ['valid', 0, null, null]);
});

test('own certificates: refused ones change nothing; accepted ones are never renewed or replaced by a pass', async () => {
  const { w, manager } = await world({ hosts: ['shop.example.com'] });
  const origin = await makeCa({ cn: 'Origin CA' });
  const leaf = await makeLeaf({ domains: ['shop.example.com'], issuer: origin, notBefore: new Date(T0 - DAY), notAfter: new Date(T0 + 10 * DAY) });
  const other = await makeLeaf({ domains: ['shop.example.com'], issuer: origin });
  await assert.rejects(manager.addOwn({ domain: 'shop.example.com', certPem: leaf.certPem, keyPem: other.keyPem }), { code: 'SLW_CERT_INVALID' });
  assert.equal(w.installed.length, 0);
  assert.equal(w.certs.size, 0);
  const own = await manager.addOwn({ domain: 'shop.example.com', certPem: leaf.certPem, keyPem: leaf.keyPem });
  assert.deepEqual([own.source, own.renewAt], ['own', null]);
  w.clock = T0 + 9 * DAY;
  assert.deepEqual(await manager.pass(), [], 'never renewed by Slipway');
  await assert.rejects(manager.renew('shop.example.com'), { code: 'SLW_CONFLICT' });
  assert.deepEqual(w.orders, []);
});

test('ACME off: public names get nothing (HTTP only), *.localhost still gets local certificates', async () => {
  const { w, manager } = await world({ acme: false });
  assert.deepEqual(await manager.pass(), ['app.localhost']);
  await assert.rejects(manager.renew('shop.example.com'), /ACME is off/);
  await assert.rejects(manager.renew('nothing.example.com'), { code: 'SLW_NOT_FOUND' });
  assert.deepEqual([...w.certs.keys()], ['app.localhost']);
});
