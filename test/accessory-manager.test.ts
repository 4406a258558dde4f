/**
 * The accessory manager (src/engine/accessories.ts) against the real Docker engine, the
 * built-in accessory images, Postgres over the wire, the SQLite store and the real keyring:
 * first deploy, unchanged on redeploy, recreate with the data kept, healing a killed
 * accessory, rotation (Postgres in place, Redis recreated), destroy keeping then deleting
 * volumes; no credential in any log line.
 *
 * Run: SLIPWAY_STRICT_RESPONSES=1 node --import tsx --test --test-concurrency=1 test/accessory-manager.test.ts
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import pg from 'pg';
import pino from 'pino';
import type { ProjectConfig } from '../src/core/config';
import { parseProjectConfig } from '../src/core/parse-config';
import type { Store } from '../src/core/ports/store';
import { DockerRuntime } from '../src/drivers/docker/docker-runtime';
import { DockerAccessoryImages } from '../src/drivers/docker/accessory-images';
import { MasterKeyring } from '../src/drivers/keyring/master-keyring';
import { PgPostgresAdmin } from '../src/drivers/postgres/postgres-admin';
import { httpProbe } from '../src/drivers/probe/http-probe';
import { tcpProbe } from '../src/drivers/probe/tcp-probe';
import { openSqliteStore } from '../src/store/sqlite-store';
import { Accessories } from '../src/engine/accessories';
import type { EngineContext } from '../src/engine/engine-context';
import { removeTestContainers } from './support/docker-cleanup';

const suffix = randomBytes(4).toString('hex');
const network = `slipway-test-am-${suffix}`;
const project = `am${suffix}`;
const logger = pino({ level: 'silent' });
const runtime = new DockerRuntime({ network, logger });
const dataDir = mkdtempSync(path.join(tmpdir(), 'slipway-am-'));
let store: Store;
let accessories: Accessories;
let env: { id: number; name: string };
const lines: string[] = [];
const log = async (line: string) => void lines.push(line);

function config(extra = ''): ProjectConfig {
  const r = parseProjectConfig(`project: ${project}
services:
  web:
    image: slipway/static:latest
    port: 8080
    uses: [db, cache]
accessories:
  db:
    kind: postgres
${extra}  cache:
    kind: redis
`);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  return r.config;
}

/** A client for the accessory's URL, reached from the host at its address (the name resolves on the project network only). */
async function connect(url: string): Promise<pg.Client> {
  const [c] = await runtime.listAccessories({ project, env: 'production', accessory: 'db' });
  const u = new URL(url);
  u.hostname = c!.address!;
  const client = new pg.Client({ connectionString: u.toString(), connectionTimeoutMillis: 5000 });
  await client.connect();
  return client;
}
async function rows(url: string): Promise<string[]> {
  const c = await connect(url);
  try {
    return (await c.query<{ v: string }>('SELECT v FROM notes ORDER BY v')).rows.map((r) => r.v);
  } finally {
    await c.end();
  }
}
const dbUrl = async (role: 'app' | 'owner') => (await accessories.connectionEnv(env.id, await accessories.pinUses(env.id, config().services.web!.uses!), role)).env.DATABASE_URL!;
const ids = async (name: string) => (await runtime.listAccessories({ project, env: 'production', accessory: name })).map((c) => c.id);

before(async () => {
  await runtime.ping();
  store = await openSqliteStore({ file: ':memory:', logger });
  await store.migrate();
  const p = await store.upsertProject(project);
  const e = await store.ensureEnvironment(p.id, 'production');
  env = { id: e.id, name: e.name };
  const ctx = { store, runtime, cipher: new MasterKeyring({ dataDir, env: {} }), logger, probe: httpProbe, tcpProbe } as unknown as EngineContext;
  accessories = new Accessories({ ctx, images: new DockerAccessoryImages(new Docker()), postgres: new PgPostgresAdmin({ logger }) });
});

after(async () => {
  await removeTestContainers(network);
  rmSync(dataDir, { recursive: true, force: true });
});

test('first deploy starts and provisions; a redeploy leaves them running', { timeout: 900_000 }, async () => {
  const first = await accessories.ensure(project, env, config(), log);
  assert.deepEqual(first.map((o) => [o.name, o.action]), [['db', 'started'], ['cache', 'started']]);
  const owner = await connect(await dbUrl('owner'));
  await owner.query('CREATE TABLE notes (v text)');
  await owner.query("INSERT INTO notes VALUES ('before')");
  await owner.end();
  const app = await connect(await dbUrl('app'));
  await app.query("INSERT INTO notes VALUES ('by app')");
  await assert.rejects(app.query('DROP TABLE notes'), /must be owner|permission denied/);
  await app.end();
  const before = [...(await ids('db')), ...(await ids('cache'))];
  const again = await accessories.ensure(project, env, config(), log);
  assert.deepEqual(again.map((o) => o.action), ['unchanged', 'unchanged']);
  assert.deepEqual([...(await ids('db')), ...(await ids('cache'))], before);
  const views = await accessories.list(project, 'production');
  assert.deepEqual(views.map((v) => [v.name, v.state, v.ready, v.address]), [['cache', 'running', true, 'cache:6379'], ['db', 'running', true, 'db:5432']]);
});

test('a changed accessory is recreated with its data; a killed one is healed', { timeout: 600_000 }, async () => {
  const old = await ids('db');
  const changed = await accessories.ensure(project, env, config('    resources: { memory: 256m }\n'), log);
  assert.deepEqual(changed.map((o) => o.action), ['recreated', 'unchanged']);
  assert.match(changed[0]!.detail, /resources memory none, cpus none → memory 268435456, cpus none/);
  assert.ok(lines.some((l) => /accessory db: recreated: .*used by web/.test(l)));
  const now = await ids('db');
  assert.equal(now.length, 1);
  assert.notEqual(now[0], old[0]);
  assert.deepEqual(await rows(await dbUrl('app')), ['before', 'by app']);
  await new Docker().getContainer(now[0]!).kill();
  const healed = await accessories.heal();
  assert.deepEqual(healed.map((o) => [o.name, o.action]), [['db', 'restarted']]);
  assert.deepEqual(await rows(await dbUrl('app')), ['before', 'by app']);
});

test('rotation: postgres in place (old app password refused, new accepted), redis recreated', { timeout: 600_000 }, async () => {
  const oldUrl = await dbUrl('app');
  const dbBefore = await ids('db');
  const r = await accessories.rotate(project, 'production', 'db');
  assert.equal(r.version, 2);
  assert.deepEqual(await ids('db'), dbBefore, 'not recreated');
  await assert.rejects(rows(oldUrl), /password authentication failed/);
  assert.deepEqual(await rows(await dbUrl('app')), ['before', 'by app']);
  const cacheBefore = await ids('cache');
  assert.equal((await accessories.rotate(project, 'production', 'cache')).version, 2);
  assert.notDeepEqual(await ids('cache'), cacheBefore);
  const views = await accessories.list(project, 'production');
  assert.ok(views.every((v) => v.ready && v.credentialsVersion === 2));
});

test('destroy keeps volumes unless asked; no credential ever reached a log line', { timeout: 300_000 }, async () => {
  const secrets = await accessories.credentialValues(env.id);
  assert.equal(secrets.length, 7, 'postgres: superuser (kept), owner and app ×2; redis password ×2');
  for (const l of lines) for (const s of secrets) assert.ok(!l.includes(s), `credential in: ${l}`);
  const kept = await accessories.destroy(project, env, { deleteVolumes: false });
  assert.deepEqual(kept.accessories, ['cache', 'db']);
  assert.equal(kept.volumesKept.length, 3, 'db: data and its backup repository; cache: data');
  assert.deepEqual(await runtime.listAccessories({ project }), []);
  const gone = await accessories.destroy(project, env, { deleteVolumes: true });
  assert.deepEqual(gone.volumesDeleted, kept.volumesKept);
  assert.deepEqual(await runtime.listVolumes({ project }), []);
});
