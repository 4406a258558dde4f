/**
 * Bad credentials and token input in-process (fastify.inject over a real SQLite store and
 * real argon2): a malformed session cookie is a 401 counted by the failure limiter, not a
 * 500; a token lifetime past the bound is a 400 naming `expiresIn`, not a 500.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../src/api/server';
import { Access, hashToken, type Principal } from '../src/engine/access';
import { argon2Hasher } from '../src/drivers/argon2/argon2-hasher';
import { SlipwayError } from '../src/core/errors';
import { openSqliteStore } from '../src/store/sqlite-store';
import { authOnlyDeps } from './support/auth-only-api';
import type { Store } from '../src/core/ports/store';

const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-auth-input-'));
const adminToken = 'slw_test_admin_token';
let store: Store;
let access: Access;
let app: FastifyInstance;
let admin: Principal;

before(async () => {
  store = await openSqliteStore({ file: path.join(dir, 'slipway.db'), logger: pino({ level: 'silent' }) });
  await store.migrate();
  access = new Access(store, argon2Hasher);
  await access.bootstrap({ adminTokenHash: hashToken(adminToken), adminPassword: 'correct horse battery staple' });
  const deps = authOnlyDeps(store, access);
  app = buildApi(deps, { strictResponses: true });
  await app.ready();
  admin = await access.authenticate(adminToken);
});

after(async () => {
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a malformed session cookie is a 401 naming the cookie, counted by the failure limiter', async () => {
  const withCookie = (cookie: string, method: 'GET' | 'POST' = 'GET', url = '/api/v1/whoami', ip = '192.0.2.20') =>
    app.inject({ method, url, headers: { cookie }, remoteAddress: ip });
  for (const [method, url] of [['GET', '/api/v1/whoami'], ['GET', '/api/v1/session'], ['POST', '/api/v1/tokens']] as const) {
    const res = await withCookie('a=1; slipway_session=%E0%A4%A', method, url, '192.0.2.21');
    assert.equal(res.statusCode, 401, `${method} ${url}: ${res.body}`);
    const { error } = res.json() as { error: { code: string; message: string; details: Array<{ path: string }> } };
    assert.equal(error.code, 'SLW_UNAUTHORIZED');
    assert.match(error.message, /slipway_session cookie is malformed/);
    assert.deepEqual(error.details.map((d) => d.path), ['cookies.slipway_session']);
  }
  // A well-formed cookie still signs in (the same parse, encoded the way the server sets it).
  const good = await withCookie(`slipway_session=${encodeURIComponent(adminToken)}`, 'GET', '/api/v1/whoami', '192.0.2.22');
  assert.equal(good.statusCode, 200, good.body);

  for (let i = 1; i <= 10; i++) assert.equal((await withCookie('slipway_session=%zz')).statusCode, 401, `attempt ${i}`);
  const blocked = await app.inject({ method: 'GET', url: '/api/v1/whoami', headers: { authorization: `Bearer ${adminToken}` }, remoteAddress: '192.0.2.20' });
  assert.equal(blocked.statusCode, 429, 'malformed cookies count as failed attempts');
});

test('a token lifetime over 3650d is a 400 naming expiresIn, for new tokens and sign-ins', async () => {
  const post = (url: string, payload: object) => app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${adminToken}` }, payload, remoteAddress: '192.0.2.30' });
  for (const expiresIn of ['1000000000000000d', '3651d', `${'9'.repeat(400)}s`, '1e400d']) {
    for (const [url, body] of [['/api/v1/tokens', { name: 'ci', scope: 'read', expiresIn }], ['/api/v1/login', { user: 'admin', password: 'correct horse battery staple', expiresIn }]] as const) {
      const res = await post(url, body);
      assert.equal(res.statusCode, 400, `${url} expiresIn ${expiresIn.slice(0, 20)}: ${res.body}`);
      const { error } = res.json() as { error: { code: string; details: Array<{ path: string; message: string }> } };
      assert.equal(error.code, 'SLW_BAD_REQUEST');
      assert.ok(error.details.some((d) => d.path === 'expiresIn' && /must be a duration of at most 3650d \(10 years\)/.test(d.message)), JSON.stringify(error.details));
    }
  }
  const longest = await post('/api/v1/tokens', { name: 'ten-years', scope: 'read', expiresIn: '3650d' });
  assert.equal(longest.statusCode, 201, longest.body);
  const expiresAt = Date.parse((longest.json() as { tokenInfo: { expiresAt: string } }).tokenInfo.expiresAt);
  assert.ok(Math.abs(expiresAt - (Date.now() + 3650 * 86_400_000)) < 60_000, 'the bound itself is accepted');

  // Callers other than the API meet the same bound in the engine.
  await assert.rejects(access.createToken(admin, { name: 'far', scope: 'read', expiresInMs: 1e20 }), (e: unknown) => {
    return e instanceof SlipwayError && e.code === 'SLW_BAD_REQUEST' && e.details.some((d) => d.path === 'expiresIn');
  });
  assert.ok(!(await access.listTokens()).some((t) => t.name === 'far'), 'nothing stored');
});
