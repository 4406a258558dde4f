/**
 * The HTTP layer in-process (fastify.inject) over a real SQLite store and real argon2:
 * the whole route table is walked and every route refuses no token, an expired token, a
 * revoked token, a token with too small a scope and a token restricted to another project;
 * sign-in brute force is cut off per IP; refusals and changes land in the append-only audit
 * log; every error has the one shape `{ error: { code, message, details } }`. Handlers
 * behind the engine are never reached by these requests.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../src/api/server';
import type { ApiDeps } from '../src/api/api-deps';
import { Access, hashToken } from '../src/engine/access';
import { argon2Hasher } from '../src/drivers/argon2/argon2-hasher';
import { CertificateManager } from '../src/engine/certificates';
import type { EngineContext } from '../src/engine/engine-context';
import type { LocalCertificateAuthority } from '../src/core/ports/certificates';
import { openSqliteStore } from '../src/store/sqlite-store';
import { authOnlyDeps } from './support/auth-only-api';
import type { Store } from '../src/core/ports/store';
import type { Scope } from '../src/core/domain';

const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-access-'));
const adminToken = 'slw_test_admin_token';
let store: Store;
let access: Access;
let app: FastifyInstance;
const routes: Array<{ method: string; url: string; scope: Scope | 'public' }> = [];
const tokens: Record<string, string> = {};
let deps: ApiDeps;

before(async () => {
  store = await openSqliteStore({ file: path.join(dir, 'slipway.db'), logger: pino({ level: 'silent' }) });
  await store.migrate();
  access = new Access(store, argon2Hasher);
  await access.bootstrap({ adminTokenHash: hashToken(adminToken), adminPassword: 'correct horse battery staple' });
  // The walk below checks that /metrics, like every route, wants a token; loopback access is tested on its own.
  deps = authOnlyDeps(store, access, { prometheus: { contentType: () => 'text/plain; version=0.0.4; charset=utf-8', render: async () => 'slipway_test 1\n' } });
  app = buildApi(deps, {
    strictResponses: true,
    onRoute: (r) => {
      const config = r.config as { public?: boolean; scope?: Scope } | undefined;
      for (const m of [r.method].flat()) if (m !== 'HEAD') routes.push({ method: m, url: r.url, scope: config?.public ? 'public' : config!.scope! });
    },
  });
  await app.ready();
  const admin = (await access.authenticate(adminToken));
  for (const scope of ['read', 'deploy', 'admin'] as const) tokens[scope] = (await access.createToken(admin, { name: `t-${scope}`, scope })).token;
  tokens.otherProject = (await access.createToken(admin, { name: 'other', scope: 'deploy', project: 'other' })).token;
  tokens.expired = (await access.createToken(admin, { name: 'expired', scope: 'admin', expiresInMs: -1000 })).token;
  const revoked = await access.createToken(admin, { name: 'revoked', scope: 'admin' });
  await access.revokeToken(revoked.record.id);
  tokens.revoked = revoked.token;
});

after(async () => {
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const concrete = (url: string) =>
  url
    .replace(':project', 'p')
    .replace(':env', 'staging')
    .replace(':service', 's')
    .replace(':id', url.includes('/tokens/') ? 'tok_nothere' : url.includes('/jobs/') || url.includes('/silences/') ? '1' : '00000000-0000-4000-8000-000000000000')
    .replace(':sha256', 'a'.repeat(64))
    .replace(':name', 'nobody');

/** Routes without :project that a project-restricted token cannot use at all. */
const PROJECT_TOKENS_REFUSED = new Set(['GET /metrics']);
/** Routes without :project that keep a project-restricted token to its project themselves, and how. */
const PROJECT_SCOPED_BY_HANDLER: Record<string, string> = {
  'GET /api/v1/certificates': "only the certificates of the domains its project routes (test below)",
  'POST /api/v1/deployments': "the config's project must be the token's",
  'POST /api/v1/promotions': "the project must be the token's",
  'GET /api/v1/deployments/:id': "the deployment's project must be the token's",
  'GET /api/v1/deployments/:id/logs': 'idem',
  'GET /api/v1/deployments/:id/events': 'idem',
  'POST /api/v1/deployments/:id/approve': 'idem',
  'POST /api/v1/deployments/:id/cancel': 'idem',
  'POST /api/v1/deployments/:id/promote': 'idem',
  'POST /api/v1/deployments/:id/abort': 'idem',
  'POST /api/v1/deployments/:id/pause': 'idem',
  'POST /api/v1/deployments/:id/resume': 'idem',
  'GET /api/v1/jobs/:id': "the job run's project must be the token's",
  'GET /api/v1/backups/:id': "BackupOperations.get is given the token's project and refuses another's",
  'POST /api/v1/backups/:id/verify': 'idem (get before the stream, then verify with the project)',
  'GET /api/v1/projects': 'other projects are left out',
  'GET /api/v1/session': 'its own session',
  'DELETE /api/v1/session': 'its own session',
  'GET /api/v1/whoami': 'itself',
  'GET /api/v1/servers': 'hosts, no project data',
  'GET /api/v1/servers/:server/stats': 'host figures, no project data',
  'GET /api/v1/images/allowed': 'the allow-list an admin set for every project token',
  'GET /api/v1/volumes': "only its project's volumes; naming another project is refused (test/accessories-routes.test.ts)",
  'GET /api/v1/alerts': "only its project's alerts and silences (the route sets the project to the token's)",
  'GET /api/v1/alerts/rules': "only its project's services (the route sets the project to the token's); host rules, no project data",
  'POST /api/v1/alerts/silences': "service rules of its project only; host rules refused (src/engine-tests/alert-operations.test.ts)",
  'DELETE /api/v1/alerts/silences/:id': "a silence of another project is not found (src/engine-tests/alert-operations.test.ts)",
};

let ipCounter = 1;
/** Each call from a fresh IP, so the walk itself never trips the failure limit. */
const call = (method: string, url: string, token?: string) =>
  app.inject({ method: method as 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {}, remoteAddress: `10.0.${Math.floor(ipCounter / 250)}.${(ipCounter++ % 250) + 1}` });

test('every route declares its scope, and refuses missing, expired, revoked, too-small-scope and other-project tokens', async () => {
  assert.ok(routes.length >= 30, `routes found: ${routes.length}`);
  const checked: string[] = [];
  for (const r of routes) {
    if (r.scope === 'public') continue;
    const url = concrete(r.url);
    for (const [who, token] of [['no token', undefined], ['expired', tokens.expired], ['revoked', tokens.revoked], ['garbage', 'slw_garbage']] as const) {
      const res = await call(r.method, url, token);
      assert.equal(res.statusCode, 401, `${r.method} ${r.url} with ${who}: ${res.body}`);
      assert.equal(res.json().error.code, 'SLW_UNAUTHORIZED');
    }
    const smaller = r.scope === 'admin' ? ['read', 'deploy'] : r.scope === 'deploy' ? ['read'] : [];
    for (const s of smaller) {
      const res = await call(r.method, url, tokens[s]);
      assert.equal(res.statusCode, 403, `${r.method} ${r.url} (${r.scope}) with a ${s} token: ${res.body}`);
      assert.equal(res.json().error.code, 'SLW_FORBIDDEN');
    }
    if (r.url.includes(':project') || r.scope === 'admin' || PROJECT_TOKENS_REFUSED.has(`${r.method} ${r.url}`)) {
      const res = await call(r.method, url, tokens.otherProject);
      assert.equal(res.statusCode, 403, `${r.method} ${r.url} with a token of project "other": ${res.body}`);
      if (r.url.includes(':project') && r.scope !== 'admin') assert.match(res.json().error.message, /restricted to project "other"/);
    }
    checked.push(`${r.method} ${r.url}`);
  }
  // The project-restricted column for routes that name no project: each is refused above or
  // scopes its answer itself, as listed (a new route must be classified here).
  const unscoped = routes.filter((r) => r.scope !== 'public' && r.scope !== 'admin' && !r.url.includes(':project')).map((r) => `${r.method} ${r.url}`);
  for (const key of unscoped) assert.ok(PROJECT_TOKENS_REFUSED.has(key) || key in PROJECT_SCOPED_BY_HANDLER, `${key}: says how a project-restricted token is kept to its project (PROJECT_SCOPED_BY_HANDLER) or refuses it (PROJECT_TOKENS_REFUSED)`);
  assert.ok(checked.includes('POST /api/v1/deployments') && checked.includes('GET /api/v1/audit') && checked.includes('PUT /api/v1/projects/:project/sources/:sha256'), checked.join('\n'));
  const publicRoutes = routes.filter((r) => r.scope === 'public').map((r) => `${r.method} ${r.url}`).sort();
  assert.deepEqual(publicRoutes, ['GET /', 'GET /*', 'GET /.well-known/acme-challenge/:token', 'GET /api/v1/health', 'GET /api/v1/openapi.json', 'GET /livez', 'GET /readyz', 'POST /api/v1/login', 'POST /api/v1/session', 'POST /api/v1/webhooks/:project']);
});

test('sign-in: the 11th bad attempt in a minute from one IP gets 429; other IPs still sign in', async () => {
  const login = (password: string, ip: string) => app.inject({ method: 'POST', url: '/api/v1/login', payload: { user: 'admin', password }, remoteAddress: ip });
  for (let i = 1; i <= 10; i++) {
    const res = await login(`wrong-${i}`, '192.0.2.7');
    assert.equal(res.statusCode, 401, `attempt ${i}: ${res.body}`);
    assert.equal(res.json().error.message, 'wrong user name or password');
  }
  const eleventh = await login('correct horse battery staple', '192.0.2.7');
  assert.equal(eleventh.statusCode, 429, eleventh.body);
  assert.equal(eleventh.json().error.code, 'SLW_RATE_LIMITED');
  assert.match(eleventh.json().error.message, /too many failed sign-ins or bad or missing tokens from 192\.0\.2\.7; retry in \d+ s/);

  const good = await login('correct horse battery staple', '192.0.2.8');
  assert.equal(good.statusCode, 201, good.body);
  const issued = good.json() as { token: string; tokenInfo: { id: string; scope: string; expiresAt: string } };
  assert.match(issued.token, /^slw_/);
  assert.equal(issued.tokenInfo.scope, 'admin');
  assert.ok(Date.parse(issued.tokenInfo.expiresAt) > Date.now() + 29 * 86_400_000, 'login tokens expire (30 days by default)');
  const me = await call('GET', '/api/v1/whoami', issued.token);
  assert.deepEqual(me.json(), { actor: 'user:admin', scope: 'admin', project: null, tokenId: issued.tokenInfo.id });

  // Bad tokens count too.
  for (let i = 0; i < 10; i++) assert.equal((await app.inject({ method: 'GET', url: '/api/v1/whoami', headers: { authorization: 'Bearer slw_nope' }, remoteAddress: '192.0.2.9' })).statusCode, 401);
  const blocked = await app.inject({ method: 'GET', url: '/api/v1/whoami', headers: { authorization: `Bearer ${tokens.read}` }, remoteAddress: '192.0.2.9' });
  assert.equal(blocked.statusCode, 429);
});

test('tokens are shown once; lists carry no secret or hash; a read token cannot deploy', async () => {
  const created = await call('POST', '/api/v1/tokens', adminToken);
  assert.equal(created.statusCode, 400, 'a body is required');
  const res = await app.inject({ method: 'POST', url: '/api/v1/tokens', headers: { authorization: `Bearer ${adminToken}` }, payload: { name: 'ci', scope: 'read', project: 'shop', expiresIn: '7d' } });
  assert.equal(res.statusCode, 201, res.body);
  const { token, tokenInfo } = res.json() as { token: string; tokenInfo: { id: string; project: string; expiresAt: string } };
  assert.equal(tokenInfo.project, 'shop');
  const list = await call('GET', '/api/v1/tokens', adminToken);
  assert.ok(!list.body.includes(token), 'the secret is never listed');
  assert.ok(!list.body.includes(hashToken(token)), 'nor its hash');
  assert.ok(!/token_?hash/i.test(list.body));
  const deploy = await app.inject({ method: 'POST', url: '/api/v1/deployments', headers: { authorization: `Bearer ${token}` }, payload: { config: 'x' } });
  assert.equal(deploy.statusCode, 403);
  const escalate = await app.inject({ method: 'POST', url: '/api/v1/tokens', headers: { authorization: `Bearer ${tokens.deploy}` }, payload: { name: 'x', scope: 'admin' } });
  assert.equal(escalate.statusCode, 403);
  const revoke = await call('DELETE', `/api/v1/tokens/${tokenInfo.id}`, adminToken);
  assert.equal(revoke.statusCode, 200);
  assert.equal((await call('GET', '/api/v1/whoami', token)).statusCode, 401);
});

test('refusals and changes are audited with actor, IP and outcome; the log is append-only', async () => {
  const res = await app.inject({ method: 'GET', url: '/api/v1/audit?limit=1000', headers: { authorization: `Bearer ${adminToken}` } });
  assert.equal(res.statusCode, 200, res.body);
  const entries = res.json().entries as Array<{ actor: string; action: string; clientIp: string; outcome: string; status: number; target: string | null }>;
  assert.ok(entries.some((e) => e.action === 'POST /api/v1/login' && e.outcome === 'denied' && e.clientIp === '192.0.2.7' && e.status === 401), 'failed sign-ins');
  assert.ok(entries.some((e) => e.action === 'POST /api/v1/login' && e.outcome === 'ok' && e.actor === 'user:admin' && e.clientIp === '192.0.2.8'), 'the good sign-in');
  assert.ok(entries.some((e) => e.action === 'POST /api/v1/deployments' && e.outcome === 'denied' && /^token:ci/.test(e.actor)), 'the read token trying to deploy');
  assert.ok(entries.some((e) => e.action === 'DELETE /api/v1/tokens/:id' && e.outcome === 'ok' && e.actor.startsWith('token:local admin')), 'the revocation');
  assert.ok(!JSON.stringify(entries).includes('correct horse'), 'no password in the audit log');
  const since = await app.inject({ method: 'GET', url: '/api/v1/audit?since=bad', headers: { authorization: `Bearer ${adminToken}` } });
  assert.equal(since.statusCode, 400);
  assert.match(since.json().error.message, /since: must be a duration/);

  const raw = new Database(path.join(dir, 'slipway.db'));
  try {
    assert.throws(() => raw.prepare("UPDATE audit_log SET actor = 'someone else'").run(), /append-only/);
    assert.throws(() => raw.prepare('DELETE FROM audit_log').run(), /append-only/);
  } finally {
    raw.close();
  }
});

test('bad input and unknown routes get the one error shape naming the field', async () => {
  const auth = { authorization: `Bearer ${adminToken}` };
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

  const weakUser = await app.inject({ method: 'POST', url: '/api/v1/users', headers: auth, payload: { name: 'bob', password: 'short', scope: 'deploy' } });
  assert.equal(weakUser.statusCode, 400);
  assert.match(weakUser.json().error.details[0].path, /password/);
});

test('the OpenAPI 3.1 document validates and covers every route with its scope', async () => {
  const res = await app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
  assert.equal(res.statusCode, 200);
  type Content = Record<string, { schema: Record<string, unknown> }>;
  type Op = { 'x-slipway-scope': string; requestBody?: unknown; parameters?: Array<{ name: string; in: string }>; responses: Record<string, { content?: Content }> };
  const doc = res.json() as { openapi: string; paths: Record<string, Record<string, Op>> };
  const { Validator } = await import('@seriousme/openapi-schema-validator');
  const result = await new Validator().validate(doc);
  assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
  assert.equal(doc.openapi, '3.1.0');
  for (const r of routes) {
    const op = doc.paths[r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')]?.[r.method.toLowerCase()];
    assert.ok(op, `${r.method} ${r.url} is in the document`);
    assert.equal(op['x-slipway-scope'], r.scope, `${r.method} ${r.url} scope`);
    // Every success answer is described: a JSON schema with content, or a stream's item schema.
    const success = Object.entries(op.responses).filter(([status]) => status.startsWith('2'));
    assert.ok(success.length > 0, `${r.method} ${r.url} has a success response`);
    for (const [status, answer] of success) {
      const [type, media] = Object.entries(answer.content ?? {})[0] ?? [];
      const described =
        type === 'application/json' ? Object.keys(media!.schema).length > 0 : type?.startsWith('text/plain') || type?.startsWith('text/html') ? media?.schema.type === 'string' : Boolean(media?.schema['x-item-schema']);
      assert.ok(described, `${r.method} ${r.url} ${status} (${type}) declares its schema`);
    }
  }
  const status = doc.paths['/api/v1/projects/{project}/status']!.get!.responses['200']!.content!['application/json']!.schema;
  assert.match(JSON.stringify(status), /"replicas"/, 'the status answer is described field by field');
  const deploy = doc.paths['/api/v1/deployments']!.post!;
  assert.match(JSON.stringify(deploy.requestBody), /"sources"/);
  assert.deepEqual(doc.paths['/api/v1/projects/{project}/status']!.get!.parameters!.map((p) => `${p.in}:${p.name}`), ['path:project', 'query:env']);
});

test('answers are checked against the declared response schema: an undeclared field is a 500, not a leak', async () => {
  // A read model that grew a field the contract does not declare (a sealed value, say).
  const leaky = { ...deps, queries: { projects: async () => [{ name: 'shop', environments: ['production'], services: [], sealed: 'v1:abc' }] } } as unknown as ApiDeps;
  const strict = buildApi(leaky, { strictResponses: true });
  const lax = buildApi(leaky);
  try {
    const refused = await strict.inject({ method: 'GET', url: '/api/v1/projects', headers: { authorization: `Bearer ${adminToken}` } });
    assert.equal(refused.statusCode, 500, refused.body);
    assert.equal(refused.json().error.code, 'SLW_INTERNAL');
    assert.match(refused.json().error.message, /GET \/api\/v1\/projects.*sealed/);
    assert.ok(!refused.body.includes('v1:abc'), 'the value itself is not echoed');
    const unchecked = await lax.inject({ method: 'GET', url: '/api/v1/projects', headers: { authorization: `Bearer ${adminToken}` } });
    assert.equal(unchecked.statusCode, 200, 'without the check the same answer goes out: the check is what refused it');
    const fine = await strict.inject({ method: 'GET', url: '/api/v1/tokens', headers: { authorization: `Bearer ${adminToken}` } });
    assert.equal(fine.statusCode, 200, fine.body);
  } finally {
    await strict.close();
    await lax.close();
  }
});

test('/metrics: open to a scraper on the same host by default, a read token from elsewhere; configurable', async () => {
  const from = (app: FastifyInstance, remoteAddress: string, token?: string, headers: Record<string, string> = {}) =>
    app.inject({ method: 'GET', url: '/metrics', remoteAddress, headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  const loopback = buildApi({ ...deps, metricsAccess: undefined });
  const tokenOnly = buildApi({ ...deps, metricsAccess: 'token' });
  const open = buildApi({ ...deps, metricsAccess: 'public' });
  try {
    const local = await from(loopback, '127.0.0.1');
    assert.equal(local.statusCode, 200, local.body);
    assert.match(local.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
    assert.equal(local.body, 'slipway_test 1\n');
    assert.equal((await from(loopback, '::1')).statusCode, 200);
    assert.equal((await from(loopback, '10.1.2.3')).statusCode, 401, 'another host needs a token');
    assert.equal((await from(loopback, '10.1.2.3', undefined, { 'x-forwarded-for': '127.0.0.1' })).statusCode, 401, 'a forged X-Forwarded-For does not make a client local');
    assert.equal((await from(loopback, '10.1.2.3', tokens.read)).statusCode, 200, 'a read token is enough');
    assert.equal((await from(tokenOnly, '127.0.0.1')).statusCode, 401, 'token mode: even locally');
    assert.equal((await from(tokenOnly, '127.0.0.1', tokens.read)).statusCode, 200);
    assert.equal((await from(open, '10.1.2.3')).statusCode, 200, 'public mode');
    // Behind the edge (SLIPWAY_DOMAIN): the peer is loopback, the client the one HAProxy appended.
    const behindEdge = buildApi({ ...deps, metricsAccess: undefined }, { trustProxy: ['127.0.0.1', '::1'] });
    try {
      assert.equal((await from(behindEdge, '127.0.0.1', undefined, { 'x-forwarded-for': '203.0.113.7' })).statusCode, 401, 'a client through the edge is not local');
      assert.equal((await from(behindEdge, '127.0.0.1', undefined, { 'x-forwarded-for': '127.0.0.1, 203.0.113.7' })).statusCode, 401, 'what the client wrote before the edge appended does not count');
      assert.equal((await from(behindEdge, '127.0.0.1')).statusCode, 200, 'a local scraper without the header still is');
      assert.equal((await from(behindEdge, '10.1.2.3', undefined, { 'x-forwarded-for': '127.0.0.1' })).statusCode, 401, 'only the edge is believed');
    } finally {
      await behindEdge.close();
    }
  } finally {
    await Promise.all([loopback.close(), tokenOnly.close(), open.close()]);
  }
});

test('logs: unmask needs the admin scope (refused and audited below it); bad since, grep and resume ids name the field', async () => {
  const logs = (query: string, token: string, headers: Record<string, string> = {}) =>
    app.inject({ method: 'GET', url: `/api/v1/projects/p/services/s/logs?${query}`, headers: { ...headers, authorization: `Bearer ${token}` } });
  for (const scope of ['read', 'deploy'] as const) {
    const res = await logs('unmask=true', tokens[scope]!);
    assert.equal(res.statusCode, 403, res.body);
    assert.equal(res.json().error.code, 'SLW_FORBIDDEN');
    assert.match(res.json().error.message, /unmask shows secret values: it needs a token with the admin scope/);
  }
  const audit = (await app.inject({ method: 'GET', url: '/api/v1/audit?limit=1000', headers: { authorization: `Bearer ${adminToken}` } })).json().entries as Array<{ action: string; outcome: string; actor: string }>;
  assert.ok(audit.some((e) => e.action === 'GET /api/v1/projects/:project/services/:service/logs' && e.outcome === 'denied' && e.actor.startsWith('token:t-read')), 'the refused unmask is audited');

  const bad: Array<[string, Record<string, string>, RegExp]> = [
    ['since=yesterday', {}, /since: must be a duration back from now/],
    ['grep=a(', {}, /grep: not a valid regular expression \(missing closing \)/],
    [`grep=${'x'.repeat(501)}`, {}, /grep: must be at most 500 characters/],
    ['', { 'last-event-id': 'nope' }, /^Last-Event-ID: not a log cursor/],
    ['after=12', {}, /^after: not a log cursor/],
  ];
  for (const [query, headers, message] of bad) {
    const res = await logs(query, tokens.read!, headers);
    assert.equal(res.statusCode, 400, `${query} ${JSON.stringify(headers)}: ${res.body}`);
    assert.equal(res.json().error.code, 'SLW_BAD_REQUEST');
    assert.match(res.json().error.message, message);
  }
});

test('token-less calls count towards the failure limit; repeated refusals are one audit entry with a count', async () => {
  const ip = '198.51.100.7';
  const statuses: number[] = [];
  for (let i = 0; i < 100; i++) statuses.push((await app.inject({ method: 'GET', url: '/api/v1/projects', remoteAddress: ip })).statusCode);
  assert.deepEqual(statuses.slice(0, 10), Array(10).fill(401), 'the first ten are answered 401');
  assert.deepEqual(statuses.slice(10), Array(90).fill(429), 'then the IP is cut off');
  // Another IP sending to paths that match no route: the path does not make each a new kind of entry.
  const scanner = '198.51.100.8';
  for (let i = 0; i < 50; i++) await app.inject({ method: 'POST', url: `/api/v1/nothing-${i}`, remoteAddress: scanner });
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/whoami', headers: { authorization: `Bearer ${tokens.read}` }, remoteAddress: '198.51.100.9' })).statusCode, 200, 'other IPs are unaffected');

  const res = await app.inject({ method: 'GET', url: '/api/v1/audit?limit=1000', headers: { authorization: `Bearer ${adminToken}` } });
  const entries = res.json().entries as Array<{ clientIp: string; action: string; status: number; count: number; outcome: string; actor: string }>;
  const sum = (list: typeof entries) => list.reduce((n, e) => n + e.count, 0);
  const flood = entries.filter((e) => e.clientIp === ip);
  // Two kinds (401, 429): one entry at once and one with the repeats; a minute boundary may split one more.
  assert.ok(flood.length >= 2 && flood.length <= 6, `a bounded number of entries for 100 refusals: ${JSON.stringify(flood)}`);
  assert.equal(sum(flood), 100, 'the counts add up');
  assert.equal(sum(flood.filter((e) => e.status === 401)), 10);
  assert.equal(sum(flood.filter((e) => e.status === 429)), 90);
  assert.ok(flood.every((e) => e.actor === 'anonymous' && e.outcome === 'denied' && e.action === 'GET /api/v1/projects'));
  const scans = entries.filter((e) => e.clientIp === scanner);
  assert.ok(scans.length <= 6, `varying the path does not multiply entries: ${JSON.stringify(scans)}`);
  assert.equal(sum(scans), 50);
  assert.ok(scans.every((e) => e.action === 'POST (no such route)'));
});

test('removing a user revokes every token they created, down the chain; a created token never outlives or outranks its creator', async () => {
  const as = (token: string) => ({ authorization: `Bearer ${token}` });
  const post = (url: string, token: string, payload: object) => app.inject({ method: 'POST', url, headers: as(token), payload });
  const alive = async (token: string) => (await call('GET', '/api/v1/whoami', token)).statusCode;
  await access.createUser({ name: 'carol', password: 'carol-password-1234', scope: 'admin' });
  const signIn = await app.inject({ method: 'POST', url: '/api/v1/login', payload: { user: 'carol', password: 'carol-password-1234', expiresIn: '1d' }, remoteAddress: '192.0.2.50' });
  assert.equal(signIn.statusCode, 201, signIn.body);
  const session = signIn.json() as { token: string; tokenInfo: { id: string; expiresAt: string } };

  // Minted with a 1-day sign-in and no expiry asked: it ends with the sign-in, not never.
  const ci = await post('/api/v1/tokens', session.token, { name: 'carol-ci', scope: 'admin' });
  assert.equal(ci.statusCode, 201, ci.body);
  const ciInfo = ci.json().tokenInfo as { id: string; expiresAt: string | null; parentTokenId: string | null };
  assert.ok(ciInfo.expiresAt && Date.parse(ciInfo.expiresAt) <= Date.parse(session.tokenInfo.expiresAt), `capped at the creator's expiry: ${ciInfo.expiresAt}`);
  assert.equal(ciInfo.parentTokenId, session.tokenInfo.id);
  const longer = await post('/api/v1/tokens', session.token, { name: 'too-long', scope: 'read', expiresIn: '30d' });
  assert.equal(longer.statusCode, 400, longer.body);
  assert.equal(longer.json().error.details[0].path, 'expiresIn');
  assert.match(longer.json().error.message, /expiresIn: must not outlast the token creating it/);
  // Down the chain: a token made with carol's token, and one made with that one.
  const child = await post('/api/v1/tokens', ci.json().token, { name: 'carol-child', scope: 'deploy' });
  assert.equal(child.statusCode, 201, child.body);
  const grandchild = await post('/api/v1/tokens', child.json().token, { name: 'carol-grandchild', scope: 'admin' });
  assert.equal(grandchild.statusCode, 403, 'a deploy token cannot create tokens at all (admin route), let alone an admin one');
  const grand = await access.createToken(await access.authenticate(child.json().token), { name: 'carol-grandchild', scope: 'read' });
  await assert.rejects(access.createToken(await access.authenticate(child.json().token), { name: 'up', scope: 'admin' }), { code: 'SLW_FORBIDDEN' });
  // A token recorded only as "user:carol" (made before tokens kept their creator) goes too.
  const legacy = 'slw_legacy_carol_token';
  await store.createToken({ id: 'tok_legacycarol', name: 'old carol', tokenHash: hashToken(legacy), scope: 'admin', project: null, userId: null, createdBy: 'user:carol', parentTokenId: null, expiresAt: null });
  // The local admin's own tokens are not carol's.
  const unrelated = await access.createToken(await access.authenticate(adminToken), { name: 'not-carol', scope: 'admin' });
  for (const t of [session.token, ci.json().token, child.json().token, grand.token, legacy, unrelated.token]) assert.equal(await alive(t), 200);

  const removed = await app.inject({ method: 'DELETE', url: '/api/v1/users/carol', headers: as(adminToken) });
  assert.equal(removed.statusCode, 200, removed.body);
  for (const [who, t] of [['sign-in', session.token], ['minted by the sign-in', ci.json().token], ['minted by that', child.json().token], ['third in the chain', grand.token], ['recorded as user:carol', legacy]] as const) {
    assert.equal(await alive(t), 401, `${who} is refused once carol is removed`);
  }
  assert.equal(await alive(unrelated.token), 200, 'other tokens keep working');
  const audit = (await app.inject({ method: 'GET', url: '/api/v1/audit?limit=1000', headers: as(adminToken) })).json().entries as Array<{ action: string; detail: string | null }>;
  const entry = audit.find((e) => e.action === 'DELETE /api/v1/users/:name');
  assert.ok(entry?.detail?.includes(ciInfo.id) && entry.detail.includes(grand.record.id), `the removal names what it revoked: ${entry?.detail}`);

  // Revoking a token revokes what was made with it.
  const parent = await access.createToken(await access.authenticate(adminToken), { name: 'parent', scope: 'admin' });
  const kid = await access.createToken(await access.authenticate(parent.token), { name: 'kid', scope: 'read' });
  const revoke = await app.inject({ method: 'DELETE', url: `/api/v1/tokens/${parent.record.id}`, headers: as(adminToken) });
  assert.equal(revoke.statusCode, 200, revoke.body);
  assert.equal(await alive(kid.token), 401, 'the token made with a revoked one is revoked');
});

test('a project-restricted token sees only its project\'s certificates, and cannot read /metrics', async () => {
  const blank = { source: 'acme' as const, status: 'failed' as const, certPem: null, keyId: null, sealedKey: null, notBefore: null, notAfter: null, issuer: null, fingerprint256: null, renewAt: null, issuedAt: null, failures: 1, nextAttemptAt: null };
  for (const domain of ['shop.example.com', 'blog.example.com', 'shop-x.example.com', 'deploy.example.com']) {
    await store.putCertificate({ ...blank, domain, domains: [domain], lastError: `rate limited for ${domain}` });
  }
  const backends = [
    { name: 'be_shop_web_production', hosts: ['shop.example.com'] },
    { name: 'be_blog_web_production', hosts: ['blog.example.com'] },
    { name: 'be_shop-x_web_production', hosts: ['shop-x.example.com'] },
  ];
  const ctx = { store, edge: { listBackends: async () => backends } } as unknown as EngineContext;
  const localCa = { caCertificateFile: () => '/nowhere/ca.pem', trustCommands: () => [] } as unknown as LocalCertificateAuthority;
  const certificates = new CertificateManager(ctx, { acme: null, localCa, controlDomain: 'deploy.example.com', intervalMs: 60_000, logger: pino({ level: 'silent' }) });
  const withCerts = buildApi({ ...deps, certificates }, { strictResponses: true });
  try {
    const shopRead = (await access.createToken(await access.authenticate(adminToken), { name: 'shop-read', scope: 'read', project: 'shop' })).token;
    const list = async (token: string) => {
      const res = await withCerts.inject({ method: 'GET', url: '/api/v1/certificates', headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.statusCode, 200, res.body);
      return res;
    };
    const restricted = await list(shopRead);
    assert.deepEqual((restricted.json().certificates as Array<{ domain: string }>).map((c) => c.domain), ['shop.example.com']);
    assert.ok(!/blog|shop-x|deploy\.example/.test(restricted.body), 'no other project\'s domain, status or error');
    const all = await list(tokens.read!);
    assert.deepEqual((all.json().certificates as Array<{ domain: string }>).map((c) => c.domain).sort(), ['blog.example.com', 'deploy.example.com', 'shop-x.example.com', 'shop.example.com']);

    const metrics = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${shopRead}` }, remoteAddress: '10.9.9.9' });
    assert.equal(metrics.statusCode, 403, metrics.body);
    assert.match(metrics.json().error.message, /restricted to project "shop" cannot read \/metrics/);
    assert.ok(!metrics.body.includes('slipway_test'));
  } finally {
    await withCerts.close();
  }
});
