import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SlipwayError } from '../errors';
import { checkOwnCertificate } from './own-certificate-check';
import { makeCa, makeLeaf } from './test-certificates';

const DAY = 86_400_000;
const root = await makeCa({ cn: 'Origin Root' });
const intermediate = await makeCa({ cn: 'Origin Intermediate', issuer: root });
const leaf = await makeLeaf({ domains: ['shop.example.org', 'www.shop.example.org'], issuer: intermediate });

/** The SlipwayError checkOwnCertificate throws for `input` (fails the test when it accepts). */
function refusal(input: Parameters<typeof checkOwnCertificate>[0]): SlipwayError {
  try {
    checkOwnCertificate(input);
  } catch (err) {
    assert.ok(err instanceof SlipwayError);
    assert.equal(err.code, 'SLW_CERT_INVALID');
    assert.match(err.message, new RegExp(`^certificate for ${input.domain.replace(/\./g, '\\.')} refused: `));
    for (const d of err.details) assert.doesNotMatch(d.message, /PRIVATE KEY-----|[A-Za-z0-9+/]{40}/, 'no key material in messages');
    return err;
  }
  assert.fail('the certificate was accepted');
}

test('a leaf + intermediate chain with its key is accepted and normalized', () => {
  const messy = `${leaf.certPem}\n\n${intermediate.certPem.replace(/\n/g, '\r\n')}`;
  const ok = checkOwnCertificate({ domain: 'www.shop.example.org', certPem: messy, keyPem: `\n${leaf.keyPem}` });
  assert.equal(ok.certPem, leaf.certPem + intermediate.certPem);
  assert.equal(ok.keyPem, leaf.keyPem);
  assert.deepEqual(ok.info.domains, ['shop.example.org', 'www.shop.example.org']);
  assert.equal(ok.info.issuer, 'CN=Origin Intermediate, O=Slipway Tests');
});

test('a chain in the wrong order is refused with the order to use', () => {
  const err = refusal({ domain: 'shop.example.org', certPem: intermediate.certPem + leaf.certPem, keyPem: leaf.keyPem });
  assert.equal(err.details.length, 1, JSON.stringify(err.details));
  assert.equal(err.details[0]!.path, 'cert');
  assert.match(err.details[0]!.message, /^the chain is out of order: put the leaf \(CN=shop\.example\.org\) first, then the certificate that signed it/);
  assert.match(err.details[0]!.message, /expected CN=shop\.example\.org → CN=Origin Intermediate\)/);
});

test('a chain missing its intermediate names the broken link and the real issuer', async () => {
  const err = refusal({ domain: 'shop.example.org', certPem: leaf.certPem + root.certPem, keyPem: leaf.keyPem });
  assert.deepEqual(err.details.map((d) => d.path), ['cert']);
  assert.match(err.details[0]!.message, /certificate 1 \(CN=shop\.example\.org\) is not signed by the next one, certificate 2 \(CN=Origin Root\); it was issued by CN=Origin Intermediate/);
  const stranger = await makeCa({ cn: 'Someone Else' });
  const three = refusal({ domain: 'shop.example.org', certPem: leaf.certPem + intermediate.certPem + stranger.certPem, keyPem: leaf.keyPem });
  assert.match(three.details[0]!.message, /^certificate 2 \(CN=Origin Intermediate\) is not signed by the next one, certificate 3 \(CN=Someone Else\)/);
});

test('a key that does not match says so, with both public-key fingerprints and the subject', async () => {
  const other = await makeLeaf({ domains: ['shop.example.org'], issuer: intermediate });
  const err = refusal({ domain: 'shop.example.org', certPem: leaf.certPem + intermediate.certPem, keyPem: other.keyPem });
  assert.deepEqual(err.details.map((d) => d.path), ['key']);
  assert.match(err.details[0]!.message, /^the private key does not match the certificate CN=shop\.example\.org \(certificate public key SHA-256 ([0-9a-f]{2}:){7}[0-9a-f]{2}…, key's ([0-9a-f]{2}:){7}[0-9a-f]{2}…\)$/);
  assert.equal(err.message, `certificate for shop.example.org refused: ${err.details[0]!.message}`);
});

test('expired and not-yet-valid certificates are refused with their dates', async () => {
  const old = await makeLeaf({ domains: ['shop.example.org'], issuer: intermediate, notBefore: new Date('2024-01-01T00:00:00Z'), notAfter: new Date('2025-01-02T00:00:00Z') });
  const expired = refusal({ domain: 'shop.example.org', certPem: old.certPem + intermediate.certPem, keyPem: old.keyPem });
  assert.deepEqual(expired.details.map((d) => d.message), ['the certificate expired on 2025-01-02T00:00:00.000Z']);
  const future = await makeLeaf({ domains: ['shop.example.org'], issuer: intermediate, notBefore: new Date(Date.now() + 10 * DAY), notAfter: new Date(Date.now() + 100 * DAY) });
  const early = refusal({ domain: 'shop.example.org', certPem: future.certPem, keyPem: future.keyPem });
  assert.match(early.details[0]!.message, /^the certificate is not valid before \d{4}-\d\d-\d\dT[\d:.]+Z \(it is now /);
  // `now` is the clock the check uses.
  assert.doesNotThrow(() => checkOwnCertificate({ domain: 'shop.example.org', certPem: future.certPem, keyPem: future.keyPem, now: new Date(Date.now() + 20 * DAY) }));
});

test('a certificate for other names lists the names it covers', async () => {
  const err = refusal({ domain: 'shop.example.org', certPem: (await makeLeaf({ domains: ['a.example.com', '*.b.example.com'] })).certPem, keyPem: leaf.keyPem });
  const domain = err.details.find((d) => d.path === 'domain');
  assert.equal(domain?.message, 'the certificate covers a.example.com, *.b.example.com, not shop.example.org');
  // Every problem is listed, and the summary counts them.
  assert.deepEqual(err.details.map((d) => d.path), ['domain', 'key']);
  assert.match(err.message, /refused: 2 problems: the certificate covers .*; the private key does not match/);
});

test('a wildcard certificate covers one label below it, not the apex or deeper names', async () => {
  const wild = await makeLeaf({ domains: ['*.example.org'], issuer: intermediate });
  const input = { certPem: wild.certPem + intermediate.certPem, keyPem: wild.keyPem };
  assert.deepEqual(checkOwnCertificate({ ...input, domain: 'shop.example.org' }).info.domains, ['*.example.org']);
  assert.match(refusal({ ...input, domain: 'example.org' }).details[0]!.message, /covers \*\.example\.org, not example\.org/);
  assert.match(refusal({ ...input, domain: 'a.shop.example.org' }).details[0]!.message, /not a\.shop\.example\.org/);
});

test('a CA certificate as the leaf is refused', async () => {
  const caLeaf = await makeLeaf({ domains: ['shop.example.org'], issuer: intermediate, ca: true });
  const err = refusal({ domain: 'shop.example.org', certPem: caLeaf.certPem + intermediate.certPem, keyPem: caLeaf.keyPem });
  assert.deepEqual(err.details.map((d) => d.message), ['the leaf certificate (CN=shop.example.org) is a CA certificate (basicConstraints CA:TRUE), not a server certificate: put the certificate issued for shop.example.org first']);
});

test('swapped certificate and key files are recognised', () => {
  const err = refusal({ domain: 'shop.example.org', certPem: leaf.keyPem, keyPem: leaf.certPem + intermediate.certPem });
  assert.deepEqual(err.details, [
    { path: 'cert', message: 'the certificate file holds a private key (PRIVATE KEY), not a certificate: were the certificate and key files swapped?' },
    { path: 'key', message: 'the key file holds a certificate, not a private key: were the certificate and key files swapped?' },
  ]);
  const combined = refusal({ domain: 'shop.example.org', certPem: leaf.certPem + leaf.keyPem, keyPem: leaf.keyPem });
  assert.match(combined.details[0]!.message, /also contains a private key \(PRIVATE KEY\)/);
});

test('garbage, empty and truncated input is refused with what was found', () => {
  const garbage = refusal({ domain: 'shop.example.org', certPem: 'hello world', keyPem: '' });
  assert.deepEqual(garbage.details, [
    { path: 'cert', message: 'the certificate file has no PEM certificate (no -----BEGIN CERTIFICATE----- line)' },
    { path: 'key', message: 'the key file is empty' },
  ]);
  const csr = refusal({ domain: 'shop.example.org', certPem: '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n', keyPem: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n' });
  assert.deepEqual(csr.details.map((d) => d.message), ['the certificate file has no certificate (found CERTIFICATE REQUEST)', 'the key file has no private key (found PUBLIC KEY)']);
  const broken = refusal({ domain: 'shop.example.org', certPem: '-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n', keyPem: '-----BEGIN PRIVATE KEY-----\nMIIBAAAA\n-----END PRIVATE KEY-----\n' });
  assert.match(broken.details[0]!.message, /^the certificate could not be parsed \(/);
  assert.match(broken.details[1]!.message, /^the private key could not be read/);
  const truncated = refusal({ domain: 'shop.example.org', certPem: leaf.certPem.slice(0, 200), keyPem: leaf.keyPem });
  assert.match(truncated.details[0]!.message, /malformed: a PEM certificate has no -----END CERTIFICATE----- line/);
});
