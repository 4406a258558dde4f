import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { SlipwayError } from '../core/errors';
import { formatErrors, parseProjectConfig } from '../core/parse-config';
import { forcePushAllowed, genericSigningInput, parsePush, verifyGeneric, verifyGithub } from './webhooks';

const secret = 'a'.repeat(64);
const body = Buffer.from(JSON.stringify({ ref: 'main', commit: 'c'.repeat(40) }));
const now = 1_750_000_000_000;
const ts = String(now / 1000);
const sign = (input: string | Buffer) => `sha256=${createHmac('sha256', secret).update(input).digest('hex')}`;
const generic = (over: Record<string, string> = {}, signWith = { ts, id: 'd-1' }) => ({
  'x-slipway-signature': sign(genericSigningInput(signWith.ts, signWith.id, body)),
  'x-slipway-timestamp': ts,
  'x-slipway-delivery': 'd-1',
  ...over,
});
const refused = (re: RegExp) => (err: unknown) => err instanceof SlipwayError && err.code === 'SLW_UNAUTHORIZED' && re.test(err.message);

test('the generic form signs "<timestamp>.<delivery id>.<body>"', () => {
  assert.equal(genericSigningInput(ts, 'd-1', body).toString(), `${ts}.d-1.${body.toString()}`);
  const ok = verifyGeneric(secret, generic(), body, now);
  assert.equal(ok.deliveryId, 'slipway:d-1');
  assert.match(ok.signedSha256, /^[0-9a-f]{64}$/);
});

test('the generic form refuses a changed delivery id or timestamp, the old body-only scheme, and malformed headers', () => {
  assert.throws(() => verifyGeneric(secret, generic({ 'x-slipway-delivery': 'd-2' }), body, now), refused(/does not match "<X-Slipway-Timestamp>\.<X-Slipway-Delivery>\.<body>"/));
  assert.throws(() => verifyGeneric(secret, generic({ 'x-slipway-timestamp': String(Number(ts) - 1) }), body, now), refused(/does not match/));
  assert.throws(() => verifyGeneric(secret, generic({ 'x-slipway-signature': sign(`${ts}.${body.toString()}`) }), body, now), refused(/does not match/));
  assert.throws(() => verifyGeneric(secret, generic({ 'x-slipway-delivery': '' }), body, now), refused(/X-Slipway-Delivery must be a unique id/));
  assert.throws(() => verifyGeneric(secret, generic({ 'x-slipway-delivery': 'a.b' }), body, now), refused(/X-Slipway-Delivery/));
  assert.throws(() => verifyGeneric(secret, generic({ 'x-slipway-timestamp': `${ts}.0` }), body, now), refused(/X-Slipway-Timestamp must be/));
  assert.throws(() => verifyGeneric(secret, generic({ 'x-slipway-timestamp': '1e9' }), body, now), refused(/X-Slipway-Timestamp must be/));
  assert.throws(() => verifyGeneric(secret, generic(), body, now + 6 * 60 * 1000), refused(/5 minutes off/));
});

test('two deliveries of the same generic body hash differently; GitHub hashes the body', () => {
  const a = verifyGeneric(secret, generic(), body, now);
  const b = verifyGeneric(secret, generic({ 'x-slipway-delivery': 'd-2' }, { ts, id: 'd-2' }), body, now);
  assert.notEqual(a.signedSha256, b.signedSha256);
  const gh = (id: string) => verifyGithub(secret, { 'x-hub-signature-256': sign(body), 'x-github-delivery': id }, body);
  assert.equal(gh('1').signedSha256, gh('2').signedSha256, 'GitHub does not sign the delivery id: the same body is the same push');
});

test('a push: forced is read and must be a boolean; the body must be an object', () => {
  const push = (o: unknown, github = true) => parsePush(Buffer.from(JSON.stringify(o)), github);
  assert.equal(push({ ref: 'refs/heads/main', after: 'c'.repeat(40), forced: true }).forced, true);
  assert.equal(push({ ref: 'refs/heads/main', after: 'c'.repeat(40) }).forced, false);
  assert.throws(() => push({ ref: 'main', commit: 'c'.repeat(40), forced: 'yes' }, false), (e: unknown) => e instanceof SlipwayError && e.code === 'SLW_BAD_REQUEST' && e.details?.[0]?.path === 'forced');
  assert.throws(() => push(null), (e: unknown) => e instanceof SlipwayError && e.code === 'SLW_BAD_REQUEST');
});

test('allow_force_push: true, or a list of branches', () => {
  assert.equal(forcePushAllowed(true, 'main'), true);
  assert.equal(forcePushAllowed(false, 'main'), false);
  assert.equal(forcePushAllowed(['staging'], 'main'), false);
  assert.equal(forcePushAllowed(['staging', 'main'], 'main'), true);
});

test('slipway.yml webhooks.allow_force_push: boolean or branch list, validated with the field named', () => {
  const file = (policy: string) => `project: shop\n${policy}\nservices:\n  web:\n    image: shop:1\n    port: 3000\n`;
  const ok = (policy: string) => {
    const r = parseProjectConfig(file(policy));
    assert.ok(r.ok, r.ok ? '' : formatErrors(r.errors));
    return r.config.allowForcePush;
  };
  assert.equal(ok(''), false);
  assert.equal(ok('webhooks: { allow_force_push: true }'), true);
  assert.deepEqual(ok('webhooks: { allow_force_push: [main, release/1] }'), ['main', 'release/1']);
  for (const bad of ['webhooks: { allow_force_push: "yes" }', 'webhooks: { allow_force_push: ["a b"] }', 'webhooks: { allow_forcepush: true }']) {
    const r = parseProjectConfig(file(bad));
    assert.equal(r.ok, false, bad);
    assert.match(r.ok ? '' : formatErrors(r.errors), /webhooks/, bad);
  }
});
