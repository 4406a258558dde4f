import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coversDomain, inspectCertificate, normalizePem, splitPemChain } from './certificate-info';
import { makeCa, makeLeaf } from './test-certificates';

test('splitPemChain: blocks in order, re-wrapped, CRLF and blank lines and surrounding text dropped', async () => {
  const ca = await makeCa();
  const leaf = await makeLeaf({ domains: ['a.example.com'], issuer: ca });
  const messy = `subject=CN=a\r\n${leaf.certPem.replace(/\n/g, '\r\n\r\n')}\n\n# issuer\n${ca.certPem.replace(/\n/g, '')}`;
  const blocks = splitPemChain(messy);
  assert.deepEqual(blocks, [leaf.certPem, ca.certPem]);
  for (const b of blocks) {
    assert.match(b, /^-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=]{1,64}\n)+-----END CERTIFICATE-----\n$/);
  }
});

test('splitPemChain refuses text without a complete certificate block', () => {
  assert.throws(() => splitPemChain('hello'), { code: 'SLW_CERT_INVALID', message: /no PEM certificate found/ });
  assert.throws(() => splitPemChain('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nAAAA\n'), /no -----END CERTIFICATE----- line/);
  assert.throws(() => splitPemChain('-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----'), /certificate 1 is not valid base64/);
});

test('inspectCertificate describes the leaf: SAN domains, one-line names, ISO dates, serial, fingerprint', async () => {
  const ca = await makeCa({ cn: 'Acme Issuing CA' });
  const notBefore = new Date('2025-01-02T03:04:05Z');
  const notAfter = new Date('2035-01-02T03:04:05Z');
  const leaf = await makeLeaf({ domains: ['shop.example.com', '*.shop.example.com'], issuer: ca, notBefore, notAfter });
  const info = inspectCertificate(leaf.certPem + ca.certPem);
  assert.deepEqual(info.domains, ['shop.example.com', '*.shop.example.com']);
  assert.equal(info.subject, 'CN=shop.example.com');
  assert.equal(info.issuer, 'CN=Acme Issuing CA, O=Slipway Tests');
  assert.equal(info.notBefore, '2025-01-02T03:04:05.000Z');
  assert.equal(info.notAfter, '2035-01-02T03:04:05.000Z');
  assert.match(info.serial, /^[0-9A-F]+$/);
  assert.match(info.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assert.equal(info.selfSigned, false);
});

test('inspectCertificate falls back to the CN without SAN, and sees self-signed certificates', async () => {
  const self = await makeLeaf({ domains: [] });
  const info = inspectCertificate(self.certPem);
  assert.deepEqual(info.domains, ['leaf']);
  assert.equal(info.selfSigned, true);
  assert.throws(() => inspectCertificate('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), { code: 'SLW_CERT_INVALID', message: /could not be parsed/ });
});

test('coversDomain: exact names case-insensitively; a wildcard covers exactly one label', () => {
  assert.equal(coversDomain(['Shop.Example.com'], 'shop.example.COM'), true);
  assert.equal(coversDomain(['shop.example.com'], 'shop.example.com.'), true);
  assert.equal(coversDomain(['*.example.com'], 'a.example.com'), true);
  assert.equal(coversDomain(['*.example.com'], 'example.com'), false);
  assert.equal(coversDomain(['*.example.com'], 'a.b.example.com'), false);
  assert.equal(coversDomain(['*.example.com'], '.example.com'), false);
  assert.equal(coversDomain(['example.com'], 'a.example.com'), false);
  assert.equal(coversDomain(['a.example.com', '*.b.example.com'], 'x.b.example.com'), true);
  assert.equal(coversDomain([], 'a.example.com'), false);
  assert.equal(coversDomain(['*.example.com'], ''), false);
});

test('normalizePem keeps exactly one private key block of any kind', async () => {
  const { keyPem } = await makeLeaf({ domains: ['a.example.com'] });
  assert.equal(normalizePem(`junk\n${keyPem.replace(/\n/g, '\r\n')}`), keyPem);
  const ec = '-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n';
  assert.equal(normalizePem(ec), '-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n');
  assert.match(normalizePem('-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----'), /^-----BEGIN RSA PRIVATE KEY-----\n/);
  assert.throws(() => normalizePem('nothing'), { code: 'SLW_CERT_INVALID', message: /no PEM private key found/ });
  assert.throws(() => normalizePem(keyPem + keyPem), /2 private keys found/);
  assert.throws(() => normalizePem('-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----'), /encrypted/);
  assert.throws(() => normalizePem('-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----'), /encrypted/);
});
