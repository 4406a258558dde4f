import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { inspectCertificate } from '../../core/tls/certificate-info';
import { createSelfSigned } from './self-signed';

const DAY = 86_400_000;

test('createSelfSigned: a P-256 server certificate for the name, signed by its own key', async () => {
  const { certPem, keyPem } = await createSelfSigned('slipway-default.invalid');
  const cert = new X509Certificate(certPem);
  const key = createPrivateKey(keyPem);
  assert.equal(key.asymmetricKeyType, 'ec');
  assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.match(keyPem, /^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
  assert.equal(cert.checkPrivateKey(key), true);
  assert.equal(cert.verify(cert.publicKey), true);
  assert.equal(cert.ca, false);
  assert.equal(cert.checkHost('slipway-default.invalid'), 'slipway-default.invalid');
  const info = inspectCertificate(certPem);
  assert.deepEqual(info.domains, ['slipway-default.invalid']);
  assert.equal(info.subject, 'CN=slipway-default.invalid');
  assert.equal(info.selfSigned, true);
  const days = (Date.parse(info.notAfter) - Date.now()) / DAY;
  assert.ok(days > 3649 && days <= 3650, `${days} days`);
});

test('createSelfSigned honours the validity in days', async () => {
  const info = inspectCertificate((await createSelfSigned('localhost', 7)).certPem);
  const days = (Date.parse(info.notAfter) - Date.now()) / DAY;
  assert.ok(days > 6.9 && days <= 7, `${days} days`);
  assert.ok(Date.parse(info.notBefore) < Date.now() - 30 * 60_000, 'valid from before now, for clock skew');
});
