import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientIp, parseTrustedProxies } from './client-ip';

const none = parseTrustedProxies(undefined);
const trusted = parseTrustedProxies('10.0.0.0/8, 192.168.1.7 fd00::/8');

test('no trusted proxies (the default): always the peer, whatever the headers say', () => {
  assert.deepEqual(none.cidrs, []);
  assert.equal(clientIp('203.0.113.9', { forwardedFor: '1.1.1.1', connectingIp: '2.2.2.2' }, none), '203.0.113.9');
  assert.equal(clientIp('::ffff:203.0.113.9', {}, none), '203.0.113.9');
});

test('an untrusted peer is the client even with trusted-looking headers', () => {
  assert.equal(clientIp('198.51.100.1', { forwardedFor: '10.0.0.1', connectingIp: '1.2.3.4' }, trusted), '198.51.100.1');
});

test('a trusted peer: CF-Connecting-IP first', () => {
  assert.equal(clientIp('10.1.2.3', { forwardedFor: '9.9.9.9', connectingIp: '203.0.113.5' }, trusted), '203.0.113.5');
  assert.equal(clientIp('10.1.2.3', { connectingIp: 'garbage', forwardedFor: '9.9.9.9' }, trusted), '9.9.9.9', 'an invalid CF header is ignored');
});

test('a trusted peer: the right-most X-Forwarded-For entry that is not a trusted proxy', () => {
  // The client forged "6.6.6.6"; the first proxy saw 203.0.113.5; an inner proxy (10.0.0.2) forwarded.
  assert.equal(clientIp('10.1.2.3', { forwardedFor: '6.6.6.6, 203.0.113.5, 10.0.0.2' }, trusted), '203.0.113.5');
  assert.equal(clientIp('192.168.1.7', { forwardedFor: '203.0.113.5' }, trusted), '203.0.113.5');
  assert.equal(clientIp('10.1.2.3', { forwardedFor: '203.0.113.5:4711, [2001:db8::1]:443' }, trusted), '2001:db8::1', 'ports and brackets are stripped');
  assert.equal(clientIp('fd00::1', { forwardedFor: '2001:DB8::2' }, trusted), '2001:db8::2');
});

test('a trusted peer: every hop trusted → the farthest; no header or garbage → the nearest address we can vouch for', () => {
  assert.equal(clientIp('10.1.2.3', { forwardedFor: '10.0.0.9, 10.0.0.2' }, trusted), '10.0.0.9');
  assert.equal(clientIp('10.1.2.3', {}, trusted), '10.1.2.3');
  assert.equal(clientIp('10.1.2.3', { forwardedFor: 'unknown, 10.0.0.2' }, trusted), '10.0.0.2');
});

test('the CIDR list is validated', () => {
  for (const bad of ['10.0.0.0/33', 'x', '10.0.0.0/', '::/129', '1.2.3.4/8/9']) assert.throws(() => parseTrustedProxies(bad), /SLIPWAY_TRUSTED_PROXIES/, bad);
  assert.ok(parseTrustedProxies('0.0.0.0/0').has('8.8.8.8'));
  assert.ok(!parseTrustedProxies('0.0.0.0/0').has('::1'));
});
