import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acmeDirectoryFrom, controlDomainFrom, edgeControlAddress, LETS_ENCRYPT, LETS_ENCRYPT_STAGING } from './https-options';

test('SLIPWAY_ACME: Let\'s Encrypt by default, staging, a directory URL, off; anything else is refused', () => {
  assert.equal(acmeDirectoryFrom(undefined), LETS_ENCRYPT);
  assert.equal(acmeDirectoryFrom('letsencrypt-staging'), LETS_ENCRYPT_STAGING);
  assert.equal(acmeDirectoryFrom('https://ca.internal:14000/dir'), 'https://ca.internal:14000/dir');
  assert.equal(acmeDirectoryFrom('off'), null);
  assert.throws(() => acmeDirectoryFrom('http://ca.internal/dir'), /served over https/);
  assert.throws(() => acmeDirectoryFrom('lets-encrypt'), /expected letsencrypt, letsencrypt-staging, off or an https:\/\/ ACME directory URL/);
});

test('SLIPWAY_DOMAIN is a host name; the edge reaches a wildcard API address on loopback', () => {
  assert.equal(controlDomainFrom('Slipway.Example.com'), 'slipway.example.com');
  assert.equal(controlDomainFrom(''), null);
  assert.throws(() => controlDomainFrom('https://slipway.example.com'), /SLIPWAY_DOMAIN: expected a host name/);
  assert.equal(edgeControlAddress('0.0.0.0'), '127.0.0.1');
  assert.equal(edgeControlAddress('::'), '::1');
  assert.equal(edgeControlAddress('10.0.0.5'), '10.0.0.5');
});
