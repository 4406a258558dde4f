import { test } from 'node:test';
import assert from 'node:assert/strict';
import { edgeHttpsPolicy } from './https-policy';
import { edgeName } from './certificates';

test('a service\'s https settings as the edge applies them', () => {
  assert.deepEqual(edgeHttpsPolicy({ https: { redirect: false, hstsMaxAgeS: null, hstsIncludeSubdomains: false } }), { redirect: false, hsts: null });
  assert.deepEqual(edgeHttpsPolicy({ https: { redirect: null, hstsMaxAgeS: 31_536_000, hstsIncludeSubdomains: true } }), { redirect: null, hsts: 'max-age=31536000; includeSubDomains' });
});

test('edge certificate names: the domain, a wildcard spelled so no host name can clash', () => {
  assert.equal(edgeName('shop.example.com'), 'shop.example.com');
  assert.equal(edgeName('*.example.com'), 'wildcard_.example.com');
});
