import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CertificateView } from '../core/contract/views';
import { LETS_ENCRYPT, LETS_ENCRYPT_STAGING } from '../https-options';
import { acmeLine, apiErrorLines, attentionLines, certificateRows, installedLines, overviewLines, renewedLines, shortIssuer, span, type CertificatesOverview } from './certs-format';

const NOW = Date.parse('2025-03-01T12:00:00Z');
const DAY = 86_400_000;
const at = (ms: number) => new Date(NOW + ms).toISOString();

function cert(over: Partial<CertificateView>): CertificateView {
  return {
    domain: 'shop.example.com',
    source: 'acme',
    status: 'valid',
    domains: ['shop.example.com'],
    issuer: "CN=R11, O=Let's Encrypt, C=US",
    notBefore: at(-30 * DAY),
    notAfter: at(60 * DAY),
    daysLeft: 60,
    renewAt: at(30 * DAY),
    issuedAt: at(-30 * DAY),
    fingerprint256: 'AB:CD',
    lastError: null,
    failures: 0,
    nextAttemptAt: null,
    ...over,
  };
}

const LOCAL_CA = { caFile: '/var/lib/slipway/tls/local-ca.pem', trustCommands: ['sudo cp /var/lib/slipway/tls/local-ca.pem /usr/local/share/ca-certificates/slipway-local-ca.crt && sudo update-ca-certificates  # Debian/Ubuntu'] };

test('spans round down to their largest unit; hours up to two days', () => {
  assert.deepEqual([span(45_000), span(-12 * 60_000 - 5), span(5 * 3_600_000), span(47 * 3_600_000), span(40 * DAY + 5)], ['45s', '12m', '5h', '47h', '40d']);
});

test('the issuer: its CN, with the organization when the CN does not name it', () => {
  assert.equal(shortIssuer("CN=R11, O=Let's Encrypt, C=US"), "R11 (Let's Encrypt)");
  assert.equal(shortIssuer('CN=Pebble Intermediate CA 3c8a1f'), 'Pebble Intermediate CA 3c8a1f');
  assert.equal(
    shortIssuer('CN=CloudFlare Origin SSL Certificate Authority, OU=CloudFlare Origin SSL Certificate Authority, O=CloudFlare, Inc., L=San Francisco, ST=California, C=US'),
    'CloudFlare Origin SSL Certificate Authority',
  );
  assert.equal(shortIssuer('O=Acme Corp, C=DE'), 'Acme Corp');
  assert.equal(shortIssuer(null), null);
});

test('rows: expiry with days left, the next renewal, never for own certificates, dashes before the first certificate', () => {
  const rows = certificateRows(
    [
      cert({}),
      cert({ domain: 'own.example.com', source: 'own', renewAt: null, issuer: 'CN=Origin CA', notAfter: at(400 * DAY) }),
      cert({ domain: 'soon.pebble.test', issuer: 'CN=Pebble Intermediate CA 1', notAfter: at(20_000), renewAt: at(-10_000) }),
      cert({ domain: 'new.example.com', status: 'pending', issuer: null, notBefore: null, notAfter: null, renewAt: null }),
    ],
    NOW,
  );
  assert.deepEqual(rows, [
    { domain: 'shop.example.com', source: 'acme', status: 'valid', expires: '2025-04-30 (60d left)', renews: '2025-03-31 (in 30d)', issuer: "R11 (Let's Encrypt)" },
    { domain: 'own.example.com', source: 'own', status: 'valid', expires: '2026-04-05 (400d left)', renews: 'never (yours)', issuer: 'Origin CA' },
    { domain: 'soon.pebble.test', source: 'acme', status: 'valid', expires: '2025-03-01 12:00:20Z (20s left)', renews: 'due since 2025-03-01 11:59:50Z', issuer: 'Pebble Intermediate CA 1' },
    { domain: 'new.example.com', source: 'acme', status: 'pending', expires: '-', renews: '-', issuer: '-' },
  ]);
  assert.equal(certificateRows([cert({ notAfter: at(-3 * DAY) })], NOW)[0]!.expires, '2025-02-26 (EXPIRED 3d ago)');
});

test('a failed certificate gets a line: attempt, error, next attempt, and what serves meanwhile', () => {
  const lines = attentionLines(
    [
      cert({}),
      cert({ domain: 'late.example.com', status: 'failed', lastError: 'ACME order for late.example.com failed: connect ECONNREFUSED 127.0.0.1:14000', failures: 3, nextAttemptAt: at(4 * 60_000), notAfter: null, renewAt: null, issuer: null }),
      cert({ status: 'failed', lastError: 'rateLimited: too many certificates', failures: 1, nextAttemptAt: at(-1000) }),
      cert({ domain: 'own.example.com', source: 'own', renewAt: null, notAfter: at(5 * DAY) }),
    ],
    NOW,
  );
  assert.deepEqual(lines, [
    'late.example.com: attempt 3 failed: ACME order for late.example.com failed: connect ECONNREFUSED 127.0.0.1:14000; next attempt at 2025-03-01T12:04:00Z (in 4m); until one is issued, HTTP is served and not redirected',
    'shop.example.com: attempt 1 failed: rateLimited: too many certificates; next attempt due now; the current certificate keeps serving (expires in 60d)',
    'own.example.com: your own certificate expires in 5d; Slipway does not renew it: add a new one with slipway certs add',
  ]);
});

test('below the table: failures, the ACME directory, and the local CA only when a certificate comes from it', () => {
  const overview: CertificatesOverview = {
    certificates: [cert({ domain: 'late.example.com', status: 'failed', lastError: 'boom', failures: 2, nextAttemptAt: at(60_000) })],
    acme: { directoryUrl: LETS_ENCRYPT },
    localCa: LOCAL_CA,
  };
  assert.deepEqual(overviewLines(overview, NOW), ['', 'late.example.com: attempt 2 failed: boom; next attempt at 2025-03-01T12:01:00Z (in 1m); the current certificate keeps serving (expires in 60d)', '', `ACME: Let's Encrypt (${LETS_ENCRYPT})`]);

  const local = overviewLines({ ...overview, certificates: [cert({ domain: 'hello.localhost', source: 'local', issuer: 'CN=Slipway local CA (box)' })], acme: { directoryUrl: null } }, NOW);
  assert.match(local[1]!, /^ACME off/);
  assert.equal(local[2], 'local CA (signs *.localhost certificates; created with the first one): /var/lib/slipway/tls/local-ca.pem');
  assert.equal(local[3], 'to trust the local CA on this machine:');
  assert.match(local[4]!, /^ {2}sudo cp .*update-ca-certificates/);

  const empty = overviewLines({ ...overview, certificates: [] }, NOW);
  assert.match(empty[0]!, /^no certificates yet/);
  assert.match(acmeLine(LETS_ENCRYPT_STAGING), /staging.*browsers do not trust/);
  assert.equal(acmeLine('https://ca.internal/acme/directory'), 'ACME: https://ca.internal/acme/directory');
});

test('add and renew print the certificate', () => {
  const own = cert({ domain: 'own.example.com', source: 'own', domains: ['own.example.com', '*.own.example.com'], issuer: 'CN=Origin CA, O=Shop', renewAt: null, notAfter: '2040-01-01T00:00:00.000Z' });
  const added = installedLines(own, NOW);
  assert.equal(added[0], 'installed your certificate for own.example.com at the edge (no reload)');
  assert.equal(added[1], '  covers:   own.example.com, *.own.example.com');
  assert.match(added[2]!, /^ {2}expires: {2}2040-01-01T00:00:00Z \(\d+d left\)$/);
  assert.equal(added[3], '  issuer:   CN=Origin CA, O=Shop');
  const renewed = renewedLines(cert({}), NOW);
  assert.deepEqual(renewed, [
    "shop.example.com: new certificate from R11 (Let's Encrypt), installed at the edge (no reload)",
    '  expires:  2025-04-30T12:00:00Z (60d left)',
    '  renews:   2025-03-31T12:00:00Z (in 30d)',
  ]);
});

test('a refusal: the message, then each detail named by its flag (not repeated when the message is the one detail)', () => {
  const many = apiErrorLines({
    code: 'SLW_CERT_INVALID',
    message: 'certificate for own.example.com refused: 2 problems: the private key does not match …; the certificate expired on 2025-01-01T00:00:00.000Z',
    details: [
      { path: 'key', message: 'the private key does not match …' },
      { path: 'cert', message: 'the certificate expired on 2025-01-01T00:00:00.000Z' },
    ],
  });
  assert.deepEqual(many, [
    'error: certificate for own.example.com refused: 2 problems: the private key does not match …; the certificate expired on 2025-01-01T00:00:00.000Z [SLW_CERT_INVALID]',
    '  --key: the private key does not match …',
    '  --cert: the certificate expired on 2025-01-01T00:00:00.000Z',
  ]);
  const one = apiErrorLines({ code: 'SLW_CERT_INVALID', message: 'certificate for a.example.com refused: the certificate covers b.example.com, not a.example.com', details: [{ path: 'domain', message: 'the certificate covers b.example.com, not a.example.com' }] });
  assert.deepEqual(one, ['error: certificate for a.example.com refused: the certificate covers b.example.com, not a.example.com [SLW_CERT_INVALID]']);
});
