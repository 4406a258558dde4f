/**
 * The dashboard's HTTP side against a real control plane: the session cookie (HttpOnly,
 * SameSite=Strict, Secure only over TLS), the CSRF token mutating cookie calls need,
 * sign-out revoking what sign-in issued, and the built app served at / with its headers.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { ControlPlaneProcess } from './support/control-plane-process';
import { dashboardDir } from '../src/api/dashboard-assets';

const cp = await ControlPlaneProcess.create('dashsession');
const PASSWORD = 'correct horse battery staple';

before(async () => {
  await cp.start();
  await cp.client.createUser({ name: 'alice', password: PASSWORD, scope: 'deploy' });
});
after(() => cp.destroy());

const api = (path: string) => `http://127.0.0.1:${cp.apiPort}${path}`;

async function signIn(body: object, headers: Record<string, string> = {}) {
  const res = await fetch(api('/api/v1/session'), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const cookie = res.headers.get('set-cookie') ?? '';
  return { res, cookie, json: (await res.json()) as { session?: { csrfToken: string; actor: string; tokenId: string; expiresAt: string | null }; error?: { code: string; message: string } } };
}

const cookieValue = (setCookie: string) => setCookie.split(';')[0]!;

test('password sign-in sets an HttpOnly SameSite=Strict cookie and answers the CSRF token, never the token', async () => {
  const { res, cookie, json } = await signIn({ user: 'alice', password: PASSWORD });
  assert.equal(res.status, 201, JSON.stringify(json));
  assert.match(cookie, /^slipway_session=slw_[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
  assert.doesNotMatch(cookie, /Secure/, 'plain HTTP from a remote-looking client: no Secure flag');
  const max = Number(/Max-Age=(\d+)/.exec(cookie)![1]);
  assert.ok(max > 11 * 3600 && max <= 12 * 3600, `a 12 h session, got Max-Age=${max}`);
  assert.equal(json.session!.actor, 'user:alice');
  const token = decodeURIComponent(cookieValue(cookie).split('=')[1]!);
  assert.ok(!JSON.stringify(json).includes(token), 'the token itself is only in the cookie');

  // The cookie alone authenticates reads; the session tells the page its CSRF token.
  const again = await fetch(api('/api/v1/session'), { headers: { cookie: cookieValue(cookie) } });
  assert.equal(again.status, 200);
  assert.equal(((await again.json()) as { session: { csrfToken: string } }).session.csrfToken, json.session!.csrfToken);
});

test('a mutating call authenticated by the cookie needs the CSRF header; bearer tokens do not', async () => {
  const { cookie, json } = await signIn({ user: 'alice', password: PASSWORD });
  const headers = { cookie: cookieValue(cookie), 'content-type': 'application/json' };
  const body = JSON.stringify({ name: 'staging' });

  const refused = await fetch(api('/api/v1/projects/nope/environments'), { method: 'POST', headers, body });
  assert.equal(refused.status, 403);
  const err = ((await refused.json()) as { error: { code: string; message: string; details: { path: string }[] } }).error;
  assert.equal(err.code, 'SLW_FORBIDDEN');
  assert.match(err.message, /x-csrf-token/);
  assert.equal(err.details[0]!.path, 'headers.x-csrf-token');

  const wrong = await fetch(api('/api/v1/projects/nope/environments'), { method: 'POST', headers: { ...headers, 'x-csrf-token': 'x'.repeat(43) }, body });
  assert.equal(wrong.status, 403, 'a wrong CSRF token is refused too');

  // With the token the call goes through.
  const through = await fetch(api('/api/v1/projects/csrf1/environments'), { method: 'POST', headers: { ...headers, 'x-csrf-token': json.session!.csrfToken }, body });
  assert.equal(through.status, 201, await through.text());

  // A bearer token (CLI, CI) is not a browser credential: no CSRF header needed.
  const bearer = await fetch(api('/api/v1/projects/csrf2/environments'), { method: 'POST', headers: { authorization: `Bearer ${cp.token}`, 'content-type': 'application/json' }, body });
  assert.equal(bearer.status, 201, await bearer.text());
  assert.deepEqual((await cp.client.environments('nope').catch(() => ({ environments: [] }))).environments, [], 'the refused calls created nothing');
});

test('signing out revokes the token a password sign-in issued; a pasted token survives sign-out', async () => {
  const { cookie, json } = await signIn({ user: 'alice', password: PASSWORD });
  const out = await fetch(api('/api/v1/session'), { method: 'DELETE', headers: { cookie: cookieValue(cookie), 'x-csrf-token': json.session!.csrfToken } });
  assert.equal(out.status, 200);
  assert.deepEqual(await out.json(), { signedOut: true, revoked: json.session!.tokenId });
  assert.match(out.headers.get('set-cookie') ?? '', /^slipway_session=; .*Max-Age=0/);
  const after = await fetch(api('/api/v1/session'), { headers: { cookie: cookieValue(cookie) } });
  assert.equal(after.status, 401, 'the old cookie no longer works');

  const { token } = await cp.client.createToken({ name: 'ci', scope: 'read' });
  const pasted = await signIn({ token });
  assert.equal(pasted.res.status, 201);
  assert.match(pasted.cookie, /^slipway_session=slw_[^;]+; Path=\/; HttpOnly; SameSite=Strict$/, 'no expiry on the token: a browser-session cookie');
  const out2 = await fetch(api('/api/v1/session'), { method: 'DELETE', headers: { cookie: cookieValue(pasted.cookie), 'x-csrf-token': pasted.json.session!.csrfToken } });
  assert.deepEqual(await out2.json(), { signedOut: true, revoked: null });
  const stillValid = await fetch(api('/api/v1/whoami'), { headers: { authorization: `Bearer ${token}` } });
  assert.equal(stillValid.status, 200);
});

test('the cookie is Secure when the browser came through TLS at the edge on this host', async () => {
  const { cookie } = await signIn({ user: 'alice', password: PASSWORD }, { 'x-forwarded-proto': 'https' });
  assert.match(cookie, /; Secure$/);
});

test('bad sign-in input names the field; a wrong password is 401 and counts towards the limit', async () => {
  const both = await signIn({ user: 'alice', password: PASSWORD, token: 'slw_x' });
  assert.equal(both.res.status, 400);
  assert.match(JSON.stringify(both.json.error), /give either user and password, or token/);
  const half = await signIn({ user: 'alice' });
  assert.equal(half.res.status, 400);
  assert.match(JSON.stringify(half.json.error), /password/);
  const wrong = await signIn({ user: 'alice', password: 'nope' });
  assert.equal(wrong.res.status, 401);
  assert.equal(wrong.cookie, '', 'no cookie on failure');
  const junk = await signIn({ token: 'slw_not_a_token' });
  assert.equal(junk.res.status, 401);
});

test('the app is served at / with a strict CSP, gzip, immutable assets and client-side routes', async (t) => {
  if (!existsSync(dashboardDir())) {
    assert.fail(`the dashboard is not built in ${dashboardDir()}: npm test builds it (npm run build:web)`);
  }
  const index = await fetch(api('/'), { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type') ?? '', /text\/html/);
  assert.match(index.headers.get('content-security-policy') ?? '', /default-src 'self'.*frame-ancestors 'none'/);
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  const html = await index.text();
  const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  assert.ok(script, html);
  const asset = await fetch(api(script), { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(asset.status, 200);
  assert.equal(asset.headers.get('content-encoding'), 'gzip');
  assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
  t.diagnostic(`${script}: ${asset.headers.get('content-length') ?? '?'} bytes gzipped`);

  const deep = await fetch(api('/p/shop/production/web'));
  assert.equal(deep.status, 200, 'a client-side route answers the app');
  assert.match(await deep.text(), /<div id="app">/);
  const missingAsset = await fetch(api('/assets/nope-123.js'));
  assert.equal(missingAsset.status, 404);
  const apiMiss = await fetch(api('/api/v1/nope'));
  assert.equal(apiMiss.status, 404);
  assert.equal(((await apiMiss.json()) as { error: { code: string } }).error.code, 'SLW_NOT_FOUND');
  const escape = await fetch(api('/..%2f..%2fpackage.json'));
  assert.doesNotMatch(await escape.text(), /"name": "slipway"/, 'no file outside the build');
  const malformed = await fetch(api('/%E0%A4%A'));
  assert.equal(malformed.status, 400, 'a malformed path is a client error, not a 500');
});
