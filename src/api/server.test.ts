/**
 * The HTTP layer in-process (fastify.inject): every route except health demands the
 * admin token, and every error has the one shape `{ error: { code, message, details } }`.
 * Handlers are never reached by these requests, so the engine is not needed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { buildApi } from './server';
import { hashToken } from './auth';
import type { ApiDeps } from './api-deps';

const token = 'slw_test_token';
const unreachable = new Proxy({}, { get: () => () => assert.fail('the handler must not run') });

function api() {
  const routes: Array<{ method: string; url: string }> = [];
  const deps = {
    engine: unreachable,
    queries: unreachable,
    environments: unreachable,
    oneOffRuns: unreachable,
    serviceLogs: unreachable,
    baseImages: unreachable,
    health: async () => ({ ok: true, version: 'test', checks: {} }),
    adminTokenHash: hashToken(token),
    logger: pino({ level: 'silent' }),
  } as unknown as ApiDeps;
  const app = buildApi(deps, {
    onRoute: (r) => {
      for (const m of [r.method].flat()) if (m !== 'HEAD') routes.push({ method: m, url: r.url });
    },
  });
  return { app, routes };
}

test('every route but health rejects a missing or wrong token with SLW_UNAUTHORIZED', async () => {
  const { app, routes } = api();
  await app.ready();
  assert.ok(routes.length >= 10, `routes found: ${routes.length}`);
  for (const r of routes) {
    const url = r.url.replace(':project', 'p').replace(':env', 'staging').replace(':service', 's').replace(':id', '00000000-0000-4000-8000-000000000000').replace(':sha256', 'a'.repeat(64));
    if (url === '/api/v1/health') continue;
    for (const authorization of [undefined, 'Bearer wrong', 'Basic abc']) {
      const res = await app.inject({ method: r.method as 'GET', url, headers: authorization ? { authorization } : {} });
      assert.equal(res.statusCode, 401, `${r.method} ${url} with ${authorization ?? 'no token'}`);
      assert.equal(res.json().error.code, 'SLW_UNAUTHORIZED');
    }
  }
  const health = await app.inject({ method: 'GET', url: '/api/v1/health' });
  assert.equal(health.statusCode, 200);
});

test('bad input and unknown routes get the one error shape naming the field', async () => {
  const { app } = api();
  const auth = { authorization: `Bearer ${token}` };
  const missing = await app.inject({ method: 'GET', url: '/api/v1/nope', headers: auth });
  assert.equal(missing.statusCode, 404);
  assert.deepEqual(Object.keys(missing.json().error).sort(), ['code', 'details', 'message']);

  const malformed = await app.inject({ method: 'POST', url: '/api/v1/deployments', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"config":' });
  assert.equal(malformed.statusCode, 400);
  assert.equal(malformed.json().error.code, 'SLW_BAD_REQUEST');

  const invalid = await app.inject({ method: 'POST', url: '/api/v1/deployments', headers: auth, payload: { config: 'x', git: { url: 'https://u:pw@host/r.git', ref: '--upload-pack=x' }, extra: 1 } });
  assert.equal(invalid.statusCode, 400);
  const details = invalid.json().error.details as Array<{ path: string; message: string }>;
  assert.ok(details.some((d) => d.path === 'git.url' && /credentials/.test(d.message)), JSON.stringify(details));
  assert.ok(details.some((d) => d.path === 'git.ref' && /branch, tag or commit/.test(d.message)), JSON.stringify(details));
  assert.ok(details.some((d) => d.path === '(root)' && /unknown field "extra"/.test(d.message)), JSON.stringify(details));

  const badConfig = await app.inject({ method: 'POST', url: '/api/v1/deployments', headers: auth, payload: { config: 'project: x\nservices: {}\n' } });
  assert.equal(badConfig.statusCode, 400);
  assert.equal(badConfig.json().error.code, 'SLW_CONFIG_INVALID');
  assert.match(badConfig.json().error.message, /services: must define at least one service/);

  const badId = await app.inject({ method: 'GET', url: '/api/v1/deployments/not-a-uuid', headers: auth });
  assert.equal(badId.statusCode, 400);
  assert.match(badId.json().error.message, /id: must be a deployment id/);
});
