import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import { SlipwayError } from '../core/errors';
import { csrfMatches, csrfTokenFor, sessionCookie, sessionTokenOf } from './session-cookie';

const req = (headers: Record<string, string>, remoteAddress = '10.0.0.9', protocol = 'http') =>
  ({ headers, protocol, socket: { remoteAddress } }) as unknown as FastifyRequest;

test('the session token is read from among other cookies; empty or absent is none', () => {
  assert.equal(sessionTokenOf(req({ cookie: 'a=1; slipway_session=slw_abc%2B; b=2' })), 'slw_abc+');
  assert.equal(sessionTokenOf(req({ cookie: 'slipway_session=' })), undefined);
  assert.equal(sessionTokenOf(req({ cookie: 'xslipway_session=slw_x' })), undefined);
  assert.equal(sessionTokenOf(req({})), undefined);
});

test('a session cookie that is not percent-encoding is refused as unauthorized, not thrown as a URIError', () => {
  assert.throws(() => sessionTokenOf(req({ cookie: 'a=1; slipway_session=%E0%A4%A' })), (e: unknown) => e instanceof SlipwayError && e.code === 'SLW_UNAUTHORIZED' && /slipway_session/.test(e.message));
  assert.equal(sessionTokenOf(req({ cookie: 'other=%E0%A4%A; slipway_session=slw_ok' })), 'slw_ok', "another cookie's encoding is not ours to judge");
});

test('the CSRF token belongs to one session and is compared whole', () => {
  const t = csrfTokenFor('slw_one');
  assert.notEqual(t, csrfTokenFor('slw_two'));
  assert.ok(csrfMatches('slw_one', t));
  assert.ok(!csrfMatches('slw_two', t));
  assert.ok(!csrfMatches('slw_one', t.slice(0, -1)));
  assert.ok(!csrfMatches('slw_one', undefined));
  assert.ok(!csrfMatches('slw_one', [t, t]));
});

test('Secure only over TLS: directly, or X-Forwarded-Proto from the edge on loopback', () => {
  assert.doesNotMatch(sessionCookie(req({}), 'slw_x', 60), /Secure/);
  assert.match(sessionCookie(req({}, '10.0.0.9', 'https'), 'slw_x', 60), /; Secure$/);
  assert.match(sessionCookie(req({ 'x-forwarded-proto': 'https' }, '127.0.0.1'), 'slw_x', 60), /; Secure$/);
  assert.doesNotMatch(sessionCookie(req({ 'x-forwarded-proto': 'https' }, '10.0.0.9'), 'slw_x', 60), /Secure/, 'a remote peer cannot claim TLS');
  assert.equal(sessionCookie(req({}), 'slw_x', null), 'slipway_session=slw_x; Path=/; HttpOnly; SameSite=Strict');
});
