/**
 * The accessory, volume, db shell and env destroy routes in-process (fastify.inject) over a
 * real SQLite store, real access tokens and the real audit log, with strict response checks:
 * scopes, 404s naming the accessory, bad bodies naming the field, rotate redeploying the
 * services that use the accessory, `db shell` running psql with the SQL as data (never argv),
 * its output masked and its audit record free of SQL, restricted tokens kept to their
 * project's volumes. The accessory manager and the runtime are small fakes here (no Docker):
 * test/accessories-api.test.ts runs the same routes against a real control plane.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../src/api/server';
import { Access, hashToken } from '../src/engine/access';
import { argon2Hasher } from '../src/drivers/argon2/argon2-hasher';
import { openSqliteStore } from '../src/store/sqlite-store';
import { authOnlyDeps } from './support/auth-only-api';
import type { Store } from '../src/core/ports/store';
import type { AccessoryView } from '../src/core/contract/views';
import type { AccessoryConfig } from '../src/core/config';
import type { OneOffSpec, VolumeInfo } from '../src/core/ports/runtime';
import type { EngineContext } from '../src/engine/engine-context';
import { DbShell } from '../src/engine/db-shell';
import { listVolumes } from '../src/engine/volumes';

const adminToken = 'slw_test_admin_token_acc';
const PASSWORD = '0123456789abcdef0123456789abcdef';
let store: Store;
let app: FastifyInstance;
const tokens: Record<string, string> = {};
const runs: OneOffSpec[] = [];
const redeploys: string[] = [];
const destroys: Array<{ project: string; env: string; opts: unknown }> = [];

const view = (name: string, kind: AccessoryView['kind']): AccessoryView => ({
  name, kind, env: 'production', image: kind === 'postgres' ? 'slipway/postgres:15' : 'slipway/static:latest', imageDigest: 'sha256:1', version: kind === 'postgres' ? '15' : null,
  state: 'running', ready: true, address: `${name}:${kind === 'postgres' ? 5432 : 8080}`, startedAt: new Date().toISOString(), oomKilled: false,
  resources: { memoryBytes: null, cpus: null }, volumes: [], usedBy: kind === 'postgres' ? ['web', 'worker'] : [], credentialsVersion: kind === 'postgres' ? 1 : 0, updatedAt: new Date().toISOString(),
});

const accessoryConfig = (name: string, kind: AccessoryConfig['kind']): AccessoryConfig => ({
  name, kind, image: kind === 'postgres' ? 'slipway/postgres:15' : 'slipway/static:latest', builtIn: kind === 'postgres', version: kind === 'postgres' ? '15' : null,
  port: kind === 'postgres' ? 5432 : 8080, volumes: [], env: {}, command: null, health: null, resources: { memoryBytes: null, cpus: null }, stopTimeoutMs: 10_000, database: kind === 'postgres' ? 'shop' : null,
});

const volumes: VolumeInfo[] = [
  { name: 'slipway-shop-production-db-data', project: 'shop', env: 'production', owner: 'db', volume: 'data', sizeBytes: 4096, createdAt: null, usedBy: ['shop-db-production-abc123'] },
  { name: 'slipway-other-production-db-data', project: 'other', env: 'production', owner: 'db', volume: 'data', sizeBytes: 1, createdAt: null, usedBy: [] },
];

before(async () => {
  store = await openSqliteStore({ file: ':memory:', logger: pino({ level: 'silent' }) });
  await store.migrate();
  const access = new Access(store, argon2Hasher);
  await access.bootstrap({ adminTokenHash: hashToken(adminToken), adminPassword: 'correct horse battery staple' });
  const admin = await access.authenticate(adminToken);
  for (const scope of ['read', 'deploy'] as const) tokens[scope] = (await access.createToken(admin, { name: `t-${scope}`, scope })).token;
  tokens.shopRead = (await access.createToken(admin, { name: 'shop-read', scope: 'read', project: 'shop' })).token;
  tokens.admin = adminToken;

  const project = await store.upsertProject('shop');
  const env = await store.ensureEnvironment(project.id, 'production');
  await store.saveAccessory({ environmentId: env.id, name: 'db', kind: 'postgres', config: accessoryConfig('db', 'postgres'), imageDigest: 'sha256:pgimage', specHash: 'h1' });
  await store.saveAccessory({ environmentId: env.id, name: 'search', kind: 'container', config: accessoryConfig('search', 'container'), imageDigest: 'sha256:static', specHash: 'h2' });

  const accessories = {
    list: async (p: string, e: string) => (p === 'shop' && e === 'production' ? [view('db', 'postgres'), view('search', 'container')] : []),
    restart: async (_p: string, _e: string, name: string) => ({ name, action: 'restarted' as const, detail: 'restarted; ready in 1.2 s' }),
    rotate: async () => ({ version: 2, services: ['web', 'worker'] }),
    logs: async function* (_p: string, _e: string, name: string) {
      yield { replica: `shop-${name}-production-abc123`, stream: 'stdout' as const, at: '2026-01-01T00:00:00.000000001Z', line: 'ready to accept connections' };
      yield { replica: `shop-${name}-production-abc123`, stream: 'stderr' as const, at: '2026-01-01T00:00:01.000000001Z', line: 'password [secret]' };
    },
    connectionEnv: async () => ({ env: { DATABASE_URL: `postgres://owner:${PASSWORD}@db:5432/shop` }, secrets: [PASSWORD] }),
  };
  const runtime = {
    servers: ['local'],
    runOnce: async (spec: OneOffSpec) => {
      runs.push(spec);
      // psql echoing what it was given: a leak the masking must catch.
      spec.onOutput?.(`connected as owner with ${spec.env.PGPASSWORD}`, 'stdout');
      spec.onOutput?.(' count ', 'stdout');
      return { exitCode: 0, timedOut: false, durationMs: 12 };
    },
    listVolumes: async (f: { project?: string; env?: string }) => volumes.filter((v) => (!f.project || v.project === f.project) && (!f.env || v.env === f.env)),
  };
  const ctx = { store, runtime, logger: pino({ level: 'silent' }) } as unknown as EngineContext;
  const deps = authOnlyDeps(store, access, {
    accessories,
    dbShell: new DbShell(ctx, accessories),
    volumes: (f: { project?: string; env?: string }, r: string | null) => listVolumes(ctx, f, r),
    engine: {
      redeployWithSecrets: async (ref: { service: string }) => {
        redeploys.push(ref.service);
        if (ref.service === 'worker') throw new Error('worker in production is being deployed by deploy-1; wait for it');
        return { id: '11111111-1111-4111-8111-111111111111' };
      },
    },
    environments: {
      destroy: async (project: string, env: string, opts: unknown) => {
        destroys.push({ project, env, opts });
        return { environment: env, replicasRemoved: 2, routesRemoved: 1, accessories: ['db'], volumesDeleted: [], volumesKept: ['slipway-shop-staging-db-data'] };
      },
    },
  });
  app = buildApi(deps, { strictResponses: true });
  await app.ready();
});

after(async () => {
  await app?.close();
  await store?.close();
});

const call = (method: string, url: string, token: string | undefined, payload?: unknown) =>
  app.inject({ method: method as 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(payload !== undefined ? { payload: payload as object } : {}) });

const base = '/api/v1/projects/shop/envs/production/accessories';

test('a read token lists accessories (strict view, no credential); unknown names are 404s naming the accessory', async () => {
  const res = await call('GET', base, tokens.read);
  assert.equal(res.statusCode, 200, res.body);
  assert.deepEqual(res.json().accessories.map((a: AccessoryView) => [a.name, a.kind, a.address]), [['db', 'postgres', 'db:5432'], ['search', 'container', 'search:8080']]);
  assert.ok(!res.body.includes(PASSWORD));
  for (const [method, path] of [['POST', 'nope/restart'], ['POST', 'nope/rotate'], ['GET', 'nope/logs']] as const) {
    const r = await call(method, `${base}/${path}`, tokens.admin);
    assert.equal(r.statusCode, 404, `${method} ${path}: ${r.body}`);
    assert.equal(r.json().error.code, 'SLW_NOT_FOUND');
    assert.match(r.json().error.message, /accessory "nope" does not exist in shop production \(accessories: db, search\)/);
  }
  const sql = await call('POST', `${base}/nope/sql`, tokens.admin, { sql: 'select 1' });
  assert.equal(sql.statusCode, 404, sql.body);
  assert.match(sql.json().error.message, /accessory "nope" does not exist in shop production \(accessories: db, search\)/);
  const badName = await call('GET', '/api/v1/projects/shop/envs/production/accessories/Bad_Name/logs', tokens.read);
  assert.equal(badName.statusCode, 400, badName.body);
  assert.equal(badName.json().error.details[0].path, 'name');
});

test('restart and rotate need the deploy scope; rotate redeploys every service using it and says why one was not', async () => {
  assert.equal((await call('POST', `${base}/db/restart`, tokens.read)).statusCode, 403);
  assert.equal((await call('POST', `${base}/db/rotate`, tokens.read)).statusCode, 403);
  const restart = await call('POST', `${base}/search/restart`, tokens.deploy);
  assert.equal(restart.statusCode, 200, restart.body);
  assert.equal(restart.json().accessory.name, 'search');
  assert.equal(restart.json().detail, 'restarted; ready in 1.2 s');
  const rotate = await call('POST', `${base}/db/rotate`, tokens.deploy);
  assert.equal(rotate.statusCode, 200, rotate.body);
  assert.deepEqual(redeploys, ['web', 'worker']);
  const body = rotate.json();
  assert.equal(body.version, 2);
  assert.deepEqual(body.rollouts[0], { service: 'web', deploymentId: '11111111-1111-4111-8111-111111111111', note: null });
  assert.equal(body.rollouts[1].deploymentId, null);
  assert.match(body.rollouts[1].note, /not redeployed: worker in production is being deployed/);
  const audit = (await call('GET', '/api/v1/audit?limit=50', tokens.admin)).json().entries as Array<{ action: string; target: string; detail: string | null }>;
  assert.ok(audit.some((e) => e.action === 'POST /api/v1/projects/:project/envs/:env/accessories/:name/rotate' && e.target === 'accessory db env production' && /credentials v2; redeployed: web/.test(e.detail ?? '')), JSON.stringify(audit));
  assert.ok(audit.some((e) => e.action === 'POST /api/v1/projects/:project/envs/:env/accessories/:name/restart' && e.target === 'accessory search env production'));
});

test('logs stream as SSE with the container name; bad queries name the field', async () => {
  const res = await call('GET', `${base}/db/logs?tail=10`, tokens.read);
  assert.equal(res.statusCode, 200, res.body);
  assert.match(res.headers['content-type'] as string, /text\/event-stream/);
  const data = [...res.body.matchAll(/event: log\ndata: (.*)\n/g)].map((m) => JSON.parse(m[1]!));
  assert.deepEqual(data.map((d) => [d.container, d.stream, d.line]), [['shop-db-production-abc123', 'stdout', 'ready to accept connections'], ['shop-db-production-abc123', 'stderr', 'password [secret]']]);
  assert.match(res.body, /event: end\ndata: \{"lines":2\}/);
  for (const [q, field, message] of [['tail=-1', 'tail', /must be 0 or more/], ['tail=1.5', 'tail', /whole number/], ['follow=maybe', 'follow', /true or false/], ['since=yesterday', 'since', /must be a duration back from now/]] as const) {
    const bad = await call('GET', `${base}/db/logs?${q}`, tokens.read);
    assert.equal(bad.statusCode, 400, `${q}: ${bad.body}`);
    assert.equal(bad.json().error.details[0].path, field, bad.body);
    assert.match(bad.json().error.details[0].message, message);
  }
});

test('db shell: admin only; postgres only; psql gets the SQL as data and the owner as PG* variables; output masked; audited without the SQL', async () => {
  const secretSql = "insert into notes values ('top secret note'); select count(*) from notes;";
  assert.equal((await call('POST', `${base}/db/sql`, tokens.deploy, { sql: 'select 1' })).statusCode, 403);
  const notPg = await call('POST', `${base}/search/sql`, tokens.admin, { sql: 'select 1' });
  assert.equal(notPg.statusCode, 400, notPg.body);
  assert.match(notPg.json().error.message, /accessory "search" is a container accessory: db shell runs psql against postgres accessories only/);
  for (const [body, message] of [[{}, /sql: is required/], [{ sql: 5 }, /must be the SQL to run/], [{ sql: '' }, /must not be empty/], [{ sql: '   ' }, /must not be blank/], [{ sql: 'x'.repeat(200 * 1024) }, /size limit exceeded/], [{ sql: 'select 1', extra: 1 }, /extra|Unrecognized/i], [{ sql: 'select 1', timeout: 'soon' }, /duration/]] as const) {
    const bad = await call('POST', `${base}/db/sql`, tokens.admin, body);
    assert.equal(bad.statusCode, 400, `${JSON.stringify(body).slice(0, 60)}: ${bad.body.slice(0, 300)}`);
    assert.match(bad.body, message);
  }
  assert.equal(runs.length, 0, 'nothing ran for refused requests');

  const res = await call('POST', `${base}/db/sql`, tokens.admin, { sql: secretSql });
  assert.equal(res.statusCode, 200, res.body);
  const events = res.body.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(events.at(-1), { type: 'exit', exitCode: 0, timedOut: false, durationMs: 12 });
  assert.equal(events[0].line, 'connected as owner with [secret]');
  assert.ok(!res.body.includes(PASSWORD), 'the owner password is masked');
  const spec = runs[0]!;
  assert.equal(spec.image, 'sha256:pgimage', "the accessory's own image (it has psql)");
  assert.deepEqual(spec.labels, { project: 'shop', service: 'db', env: 'production', release: 0, deployment: 'db-shell' });
  assert.equal(spec.env.SLIPWAY_SQL, secretSql);
  assert.deepEqual([spec.env.PGHOST, spec.env.PGPORT, spec.env.PGUSER, spec.env.PGDATABASE, spec.env.PGPASSWORD], ['db', '5432', 'owner', 'shop', PASSWORD]);
  assert.ok(!spec.argv.join(' ').includes('top secret') && !spec.argv.join(' ').includes(PASSWORD), `argv carries neither SQL nor password: ${spec.argv.join(' ')}`);
  assert.match(spec.argv.join(' '), /psql -X -v ON_ERROR_STOP=1 -f -/);

  const audit = await call('GET', '/api/v1/audit?limit=50', tokens.admin);
  const entry = (audit.json().entries as Array<{ action: string; detail: string | null; target: string }>).find((e) => e.action.endsWith('/sql'));
  assert.ok(entry, audit.body);
  assert.equal(entry.target, 'accessory db env production');
  assert.equal(entry.detail, 'db shell: 2 statement(s); exit 0');
  assert.ok(!audit.body.includes('top secret') && !audit.body.includes('insert into'), 'the SQL is never audited');
});

test('volumes: every project for an unrestricted token; a project token sees its own and cannot name another', async () => {
  const all = await call('GET', '/api/v1/volumes', tokens.read);
  assert.equal(all.statusCode, 200, all.body);
  assert.deepEqual(all.json().volumes.map((v: { project: string }) => v.project), ['other', 'shop']);
  const own = await call('GET', '/api/v1/volumes', tokens.shopRead);
  assert.deepEqual(own.json().volumes.map((v: { name: string }) => v.name), ['slipway-shop-production-db-data']);
  const other = await call('GET', '/api/v1/volumes?project=other', tokens.shopRead);
  assert.equal(other.statusCode, 403, other.body);
  assert.match(other.json().error.message, /restricted to project "shop"; it cannot list the volumes of project "other"/);
  const bad = await call('GET', '/api/v1/volumes?env=Bad!', tokens.read);
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().error.details[0].path, 'env');
});

test('env destroy passes deleteVolumes through and reports accessories and kept volumes', async () => {
  const kept = await call('DELETE', '/api/v1/projects/shop/environments/staging?confirm=staging', tokens.admin);
  assert.equal(kept.statusCode, 200, kept.body);
  assert.deepEqual(kept.json().destroyed, { environment: 'staging', replicasRemoved: 2, routesRemoved: 1, accessoriesStopped: ['db'], volumesDeleted: [], volumesKept: ['slipway-shop-staging-db-data'] });
  await call('DELETE', '/api/v1/projects/shop/environments/staging?confirm=staging&deleteVolumes=true', tokens.admin);
  assert.deepEqual(destroys.map((d) => d.opts), [{ deleteVolumes: false }, { deleteVolumes: true }]);
  const bad = await call('DELETE', '/api/v1/projects/shop/environments/staging?confirm=staging&deleteVolumes=yes', tokens.admin);
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().error.details[0].path, 'deleteVolumes');
  assert.equal(destroys.length, 2);
});
