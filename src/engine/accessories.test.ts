import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProjectConfig, ServiceConfig } from '../core/config';
import { isSlipwayError, SlipwayError } from '../core/errors';
import { accessoryConfig, accessoryWorld } from './accessory-world.test-support';
import { Environments } from './environments';
import { restoreMarkerKey } from './restore-marker';

const production = { id: 10, name: 'production' };
const staging = { id: 11, name: 'staging' };
const service = (uses: string[]) => ({ uses: uses.map((a) => ({ accessory: a, kind: a === 'db' ? 'postgres' : 'redis', vars: { url: a === 'db' ? 'DATABASE_URL' : 'REDIS_URL' } })) }) as unknown as ServiceConfig;
const project = (accessories: ReturnType<typeof accessoryConfig>[], services: Record<string, ServiceConfig> = { web: service(['db', 'cache']), worker: service(['db']) }) =>
  ({ project: 'shop', services, accessories: Object.fromEntries(accessories.map((a) => [a.name, a])) }) as unknown as ProjectConfig;
const db = (over = {}) => accessoryConfig('db', 'postgres', over);
const cache = (over = {}) => accessoryConfig('cache', 'redis', over);

function assertNoSecrets(texts: string[], secrets: string[]) {
  assert.ok(secrets.length > 0);
  for (const t of texts) for (const s of secrets) assert.ok(!t.includes(s), `a credential leaked into: ${t}`);
}

test('first deploy: builds the built-in image (streamed), generates credentials, starts on the env network, waits ready, provisions postgres, records it', async () => {
  const { w, accessories, log, sink, secretValues } = accessoryWorld();
  const outcomes = await accessories.ensure('shop', production, project([db(), cache()]), sink);
  assert.deepEqual(outcomes.map((o) => [o.name, o.action]), [['db', 'started'], ['cache', 'started']]);
  assert.deepEqual(w.networksEnsured, ['shop-production']);
  assert.ok(log.includes('info: accessory db: Step 2/2 : RUN apt-get install postgres'), 'build output streamed with the accessory name');
  const spec = w.started[0]!;
  assert.equal(spec.image, w.images.get('slipway/postgres:15'), 'created from the image ID, not the tag');
  assert.match(spec.name, /^shop-db-production-[0-9a-f]{6}$/);
  assert.deepEqual({ ...spec.labels, spec: 'x' }, { project: 'shop', env: 'production', accessory: 'db', spec: 'x' });
  assert.equal(spec.env.POSTGRES_USER, 'postgres');
  assert.equal(spec.env.POSTGRES_PASSWORD?.length, 32);
  assert.deepEqual(spec.volumes, [{ volume: 'data', path: '/data', readOnly: false }]);
  assert.equal(w.started[1]!.env.REDIS_PASSWORD?.length, 32, 'redis gets its password in its env (never argv)');
  // Postgres provisioned as superuser at the container's address, with the two-user model.
  assert.equal(w.provisions.length, 1);
  const { target, plan } = w.provisions[0]!;
  assert.deepEqual({ host: target.host, port: target.port, user: target.user }, { host: '10.213.0.2', port: 5432, user: 'postgres' });
  assert.equal(target.password, spec.env.POSTGRES_PASSWORD);
  assert.deepEqual([plan.database, plan.owner.name, plan.app.name], ['shop', 'owner', 'app']);
  assert.notEqual(plan.owner.password, plan.app.password);
  // Redis readiness got its password from the exec env only.
  assert.ok(w.execEnvs.some((e) => e?.REDISCLI_AUTH && e.REDISCLI_AUTH.length === 32));
  assert.deepEqual(w.records.map((r) => [r.name, r.credentialsVersion, r.specHash === w.started.find((s) => s.labels.accessory === r.name)!.labels.spec]), [['db', 1, true], ['cache', 1, true]]);
  assert.ok(log.some((l) => l.includes('accessory db: created role app')));
  assertNoSecrets(log, secretValues());
});

test('an unchanged accessory is left running; a second deploy provisions again (idempotent) and starts nothing', async () => {
  const { w, accessories, sink } = accessoryWorld();
  await accessories.ensure('shop', production, project([db()]), sink);
  const before = w.containers.map((c) => c.id);
  const outcomes = await accessories.ensure('shop', production, project([db()]), sink);
  assert.deepEqual(outcomes.map((o) => o.action), ['unchanged']);
  assert.deepEqual(w.containers.map((c) => c.id), before);
  assert.equal(w.started.length, 1);
  assert.equal(w.provisions.length, 2, 'provisioning runs on every deploy');
  assert.equal(w.builtIns, 1, 'the built-in image is built once');
});

test('several services of one deploy calling ensure at once: serialized, one start, the others find it unchanged', async () => {
  const { w, accessories, sink } = accessoryWorld();
  const cfg = project([db(), cache()]);
  const all = await Promise.all([accessories.ensure('shop', production, cfg, sink), accessories.ensure('shop', production, cfg, sink), accessories.ensure('shop', production, cfg, sink)]);
  assert.deepEqual(all.map((o) => o.map((x) => x.action).join(',')), ['started,started', 'unchanged,unchanged', 'unchanged,unchanged']);
  assert.equal(w.started.length, 2);
  assert.equal(w.creds.length, 2, 'one credentials version each');
});

test('a changed accessory is recreated: stop before start (never two on one volume), the change and its users in the log, env values never shown', async () => {
  const { w, accessories, log, sink, secretValues } = accessoryWorld();
  await accessories.ensure('shop', production, project([db()]), sink);
  log.length = 0;
  w.calls.length = 0;
  const outcomes = await accessories.ensure('shop', production, project([db({ env: { POSTGRES_INITDB_ARGS: 'hunter2-value' }, resources: { memoryBytes: 512 * 1024 * 1024, cpus: 0.5 } })]), sink);
  assert.equal(outcomes[0]!.action, 'recreated');
  assert.match(outcomes[0]!.detail, /env POSTGRES_INITDB_ARGS/);
  assert.match(outcomes[0]!.detail, /resources memory none, cpus none → memory 536870912, cpus 0\.5/);
  assert.deepEqual(w.calls.filter((c) => c.startsWith('stop') || c.startsWith('start')), ['stop db', 'start db']);
  assert.equal(w.containers.length, 1);
  const warn = log.find((l) => l.startsWith('warn: accessory db: recreated'))!;
  assert.match(warn, /used by web, worker/);
  assert.ok(!log.join('\n').includes('hunter2-value'), 'env values are not logged');
  assert.deepEqual(w.started[1]!.resources, { memoryBytes: 512 * 1024 * 1024, cpus: 0.5 });
  assert.equal(w.records[0]!.credentialsVersion, 1, 'credentials kept across a recreate');
  assert.equal(w.started[1]!.env.POSTGRES_PASSWORD, w.started[0]!.env.POSTGRES_PASSWORD);
  assert.deepEqual(w.events.map((e) => e.type), ['accessory.recreated']);
  assertNoSecrets(log, secretValues());
});

test('an exited container (same spec) is started again; an accessory dropped from slipway.yml is left running with a warning', async () => {
  const { w, accessories, log, sink } = accessoryWorld();
  await accessories.ensure('shop', production, project([db(), cache()]), sink);
  w.containers.find((c) => c.labels.accessory === 'db')!.state = 'exited';
  log.length = 0;
  const outcomes = await accessories.ensure('shop', production, project([db()]), sink);
  assert.deepEqual(outcomes.map((o) => o.action), ['restarted']);
  assert.ok(log.some((l) => l.startsWith('warn: accessory cache is no longer in slipway.yml')));
  assert.ok(w.containers.some((c) => c.labels.accessory === 'cache'), 'cache still runs');
});

test('image: not on the host is refused naming accessories.<name>.image; nothing started', async () => {
  const { w, accessories, sink } = accessoryWorld();
  await assert.rejects(
    accessories.ensure('shop', production, project([accessoryConfig('search', 'container', { image: 'missing/search:1', builtIn: false, port: 7700 })]), sink),
    (err) => isSlipwayError(err) && err.code === 'SLW_NOT_FOUND' && err.details[0]?.path === 'accessories.search.image' && /missing\/search:1 is not on this host/.test(err.message),
  );
  assert.equal(w.started.length, 0);
});

test('a container accessory with a port gets a TCP readiness check and no credentials', async () => {
  const { w, accessories, sink } = accessoryWorld();
  const health = { kind: 'tcp' as const, path: null, port: null, command: null, intervalMs: 1, timeoutMs: 100, deadlineMs: 100 };
  const [o] = await accessories.ensure('shop', production, project([accessoryConfig('search', 'container', { port: 7700, health })], {}), sink);
  assert.equal(o!.action, 'started');
  assert.deepEqual(w.tcp, [{ host: '10.213.0.2', port: 7700 }]);
  assert.equal(w.records[0]!.credentialsVersion, 0);
  assert.equal(w.creds.length, 0);
});

test('readiness failure: SLW_HEALTH_FAILED naming the accessory, its last log lines masked into the log, the record not marked started', async () => {
  const { w, accessories, log, sink, secretValues } = accessoryWorld();
  w.startExited = { exitCode: 137, oomKilled: true };
  w.execResults = [{ exitCode: 2, timedOut: false, output: 'no response' }];
  // The container prints its password (a badly behaved image): it must be masked.
  w.containerLog = ['FATAL: something'];
  const orig = w.containerLog;
  const cfg = project([db()]);
  const p = accessories.ensure('shop', production, cfg, async (line, level) => {
    if (w.creds.length && orig.length === 1) orig.push(`password is ${secretValues()[0]}`);
    await sink(line, level);
  });
  await assert.rejects(p, (err) => isSlipwayError(err) && err.code === 'SLW_HEALTH_FAILED' && /accessory db stopped before becoming ready \(exit code 137, killed by the OOM killer/.test(err.message));
  assert.ok(log.includes('error:   FATAL: something'));
  assert.ok(log.includes('error:   password is [secret]'));
  assertNoSecrets(log, secretValues());
  assert.equal(w.records[0]!.specHash, '', 'never started: heal leaves it alone');
  assert.equal(w.provisions.length, 0);
  const healed = await accessories.heal();
  assert.deepEqual(healed, []);
});

test('heal: restarts a recorded accessory whose container died or vanished; leaves running ones; emits accessory.restarted', async () => {
  const { w, accessories, sink } = accessoryWorld();
  await accessories.ensure('shop', production, project([db(), cache()]), sink);
  const cacheId = w.containers.find((c) => c.labels.accessory === 'cache')!.id;
  const dbc = w.containers.find((c) => c.labels.accessory === 'db')!;
  dbc.state = 'exited';
  dbc.exitCode = 137;
  dbc.oomKilled = true;
  const outcomes = await accessories.heal();
  assert.equal(outcomes.length, 1);
  assert.equal(outcomes[0]!.name, 'db');
  assert.equal(outcomes[0]!.action, 'restarted');
  assert.match(outcomes[0]!.detail, /exit code 137, killed by the OOM killer/);
  assert.ok(w.containers.some((c) => c.id === cacheId), 'cache untouched');
  assert.equal(w.containers.filter((c) => c.labels.accessory === 'db').length, 1);
  assert.equal(w.started.at(-1)!.labels.spec, w.started[0]!.labels.spec, 'same spec');
  assert.deepEqual(w.events.map((e) => [e.type, e.payload.accessory]), [['accessory.restarted', 'db']]);
  // Vanished, and its built-in image gone too: rebuilt, record updated (past the first backoff step).
  w.containers = w.containers.filter((c) => c.labels.accessory !== 'db');
  w.images.delete('slipway/postgres:15');
  w.now += 15_001;
  await accessories.heal();
  assert.equal(w.builtIns, 3);
  const rec = w.records.find((r) => r.name === 'db')!;
  assert.equal(rec.imageDigest, w.images.get('slipway/postgres:15'));
  assert.equal(rec.specHash, w.started.at(-1)!.labels.spec);
});

test('heal after a reboot: every stopped accessory of an environment is restarted in one pass', async () => {
  const { w, accessories, sink } = accessoryWorld();
  await accessories.ensure('shop', production, project([db(), cache()]), sink);
  for (const c of w.containers) c.state = 'exited';
  const outcomes = await accessories.heal();
  assert.deepEqual(outcomes.map((o) => [o.name, o.action]).sort(), [['cache', 'restarted'], ['db', 'restarted']]);
  assert.equal(w.containers.filter((c) => c.state === 'running').length, 2);
});

test('connectionEnv: app role for replicas, owner for the release command, current credentials (not the pinned version), values to mask; unknown accessory named', async () => {
  const { accessories, sink, w } = accessoryWorld();
  await accessories.ensure('shop', production, project([db(), cache()]), sink);
  const uses = service(['db', 'cache']).uses!;
  const pinned = await accessories.pinUses(10, uses);
  assert.deepEqual(pinned.map((u) => u.credentialsVersion), [1, 1]);
  const app = await accessories.connectionEnv(10, pinned, 'app');
  const owner = await accessories.connectionEnv(10, pinned, 'owner');
  assert.match(app.env.DATABASE_URL!, /^postgres:\/\/app:[0-9a-f]{32}@db:5432\/shop$/);
  assert.match(owner.env.DATABASE_URL!, /^postgres:\/\/owner:[0-9a-f]{32}@db:5432\/shop$/);
  assert.match(app.env.REDIS_URL!, /^redis:\/\/default:[0-9a-f]{32}@cache:6379$/);
  for (const v of Object.values(app.env)) assert.ok(app.secrets.includes(v));
  const password = new URL(app.env.DATABASE_URL!).password;
  assert.ok(app.secrets.includes(password));
  // After a rotation the old passwords no longer work: a release pinned to version 1 (a rollback,
  // a repair) connects with the current ones; the pin only records what it was created with.
  await accessories.rotate('shop', 'production', 'db');
  const rotated = (await accessories.connectionEnv(10, pinned, 'app')).env.DATABASE_URL;
  assert.notEqual(rotated, app.env.DATABASE_URL);
  assert.equal(new URL(rotated!).password, w.provisions.at(-1)!.plan.app.password, 'the password provisioning set last');
  const repinned = await accessories.pinUses(10, uses);
  assert.equal(repinned[0]!.credentialsVersion, 2);
  assert.equal((await accessories.connectionEnv(10, repinned, 'app')).env.DATABASE_URL, rotated);
  await assert.rejects(accessories.connectionEnv(11, pinned, 'app'), (err) => isSlipwayError(err) && err.code === 'SLW_NOT_FOUND' && err.details[0]?.path === 'uses.db');
  await assert.rejects(accessories.pinUses(10, [{ accessory: 'queue', kind: 'nats', vars: { url: 'NATS_URL' } }]), /accessory "queue" \(in uses\) is not deployed/);
  assert.equal(w.records.length, 2);
});

test('staging and production get their own credentials', async () => {
  const { accessories, sink } = accessoryWorld();
  await accessories.ensure('shop', production, project([db()]), sink);
  await accessories.ensure('shop', staging, project([db()]), sink);
  const uses = service(['db']).uses!;
  const p = await accessories.connectionEnv(10, uses, 'app');
  const s = await accessories.connectionEnv(11, uses, 'app');
  assert.notEqual(p.env.DATABASE_URL, s.env.DATABASE_URL);
});

test('rotate postgres: new owner/app passwords provisioned in the running container (superuser kept, no recreate); returns the services to redeploy', async () => {
  const { w, accessories, sink } = accessoryWorld();
  w.services = [
    { id: 1, name: 'web', config: service(['db', 'cache']) },
    { id: 2, name: 'worker', config: service(['db']) },
  ];
  await accessories.ensure('shop', production, project([db()]), sink);
  const first = w.provisions[0]!.plan;
  const r = await accessories.rotate('shop', 'production', 'db');
  assert.deepEqual(r, { version: 2, services: ['web', 'worker'] });
  assert.equal(w.started.length, 1, 'not recreated');
  const second = w.provisions[1]!;
  assert.notEqual(second.plan.app.password, first.app.password);
  assert.notEqual(second.plan.owner.password, first.owner.password);
  assert.equal(second.target.password, w.started[0]!.env.POSTGRES_PASSWORD, 'still connects as the same superuser');
  // The next deploy finds it unchanged (the spec hash does not cover owner/app passwords).
  const [o] = await accessories.ensure('shop', production, project([db()]), sink);
  assert.equal(o!.action, 'unchanged');
});

test('rotate redis: recreated with the new password (stop → start → ready); a container accessory cannot rotate', async () => {
  const { w, accessories, sink } = accessoryWorld();
  await accessories.ensure('shop', production, project([cache(), accessoryConfig('thing', 'container')], {}), sink);
  const oldPass = w.started[0]!.env.REDIS_PASSWORD!;
  w.calls.length = 0;
  const r = await accessories.rotate('shop', 'production', 'cache');
  assert.equal(r.version, 2);
  assert.deepEqual(w.calls.filter((c) => /^(stop|start)/.test(c)), ['stop cache', 'start cache']);
  assert.notEqual(w.started.at(-1)!.env.REDIS_PASSWORD, oldPass);
  assert.equal(w.records.find((r) => r.name === 'cache')!.specHash, w.started.at(-1)!.labels.spec);
  const [o] = await accessories.ensure('shop', production, project([cache(), accessoryConfig('thing', 'container')], {}), sink);
  assert.equal(o!.action, 'unchanged', 'the next deploy keeps the rotated container');
  await assert.rejects(accessories.rotate('shop', 'production', 'thing'), (err) => isSlipwayError(err) && err.code === 'SLW_BAD_REQUEST');
  await assert.rejects(accessories.rotate('shop', 'production', 'nope'), (err) => isSlipwayError(err) && err.code === 'SLW_NOT_FOUND' && /accessory "nope" is not deployed/.test(err.message));
});

test('restart: stop → start (same spec) → ready → provisioned', async () => {
  const { w, accessories, sink } = accessoryWorld();
  await accessories.ensure('shop', production, project([db()]), sink);
  w.calls.length = 0;
  const o = await accessories.restart('shop', 'production', 'db');
  assert.equal(o.action, 'restarted');
  assert.deepEqual(w.calls, ['stop db', 'start db', 'provision']);
  assert.equal(w.started[1]!.labels.spec, w.started[0]!.labels.spec);
  assert.notEqual(w.started[1]!.name, w.started[0]!.name);
});

test('list: views with state, readiness, address, volumes, users from live releases; logs are masked', async () => {
  const { w, accessories, sink, secretValues } = accessoryWorld();
  w.services = [{ id: 1, name: 'web', config: service(['db']) }];
  await accessories.ensure('shop', production, project([db(), cache()]), sink);
  w.volumes = [{ name: 'slipway-shop-production-db-data', project: 'shop', env: 'production', owner: 'db', volume: 'data', sizeBytes: 1, createdAt: null, usedBy: [] }];
  w.containers.find((c) => c.labels.accessory === 'cache')!.state = 'exited';
  const views = await accessories.list('shop', 'production');
  const vdb = views.find((v) => v.name === 'db')!;
  assert.equal(vdb.state, 'running');
  assert.equal(vdb.ready, true);
  assert.equal(vdb.address, 'db:5432');
  assert.deepEqual(vdb.usedBy, ['web']);
  assert.equal(vdb.credentialsVersion, 1);
  assert.deepEqual(vdb.volumes, [{ volume: 'data', path: '/data', dockerName: 'slipway-shop-production-db-data' }]);
  const vcache = views.find((v) => v.name === 'cache')!;
  assert.deepEqual([vcache.state, vcache.ready], ['exited', false]);
  assertNoSecrets([JSON.stringify(views)], secretValues());
  w.containerLog = [`connected with ${secretValues()[0]}`, 'ok'];
  const lines: string[] = [];
  for await (const e of accessories.logs('shop', 'production', 'db', {})) lines.push(e.line);
  assert.deepEqual(lines, ['connected with [secret]', 'ok']);
  const all = await accessories.credentialValues(10);
  assert.equal(all.length, 4, 'postgres superuser, owner, app + redis password');
});

test('destroy: stops and forgets accessories; volumes kept unless deleteVolumes', async () => {
  const { w, accessories, sink } = accessoryWorld();
  await accessories.ensure('shop', production, project([db()]), sink);
  await accessories.ensure('shop', staging, project([db()]), sink);
  const vol = (env: string, owner: string) => ({ name: `slipway-shop-${env}-${owner}-data`, project: 'shop', env, owner, volume: 'data', sizeBytes: 1, createdAt: null, usedBy: [] as string[] });
  w.volumes = [vol('production', 'db'), vol('staging', 'db'), vol('staging', 'web')];
  const kept = await accessories.destroy('shop', staging, { deleteVolumes: false });
  assert.deepEqual(kept, { accessories: ['db'], volumesDeleted: [], volumesKept: ['slipway-shop-staging-db-data', 'slipway-shop-staging-web-data'] });
  assert.deepEqual(w.containers.map((c) => c.labels.env), ['production']);
  assert.deepEqual(w.records.map((r) => r.environmentId), [10]);
  assert.equal(w.volumes.length, 3);
  w.volumes[0]!.usedBy = ['someone'];
  const gone = await accessories.destroy('shop', production, { deleteVolumes: true });
  assert.deepEqual(gone, { accessories: ['db'], volumesDeleted: [], volumesKept: ['slipway-shop-production-db-data'] }, 'a volume in use is kept');
  w.volumes[0]!.usedBy = [];
  const staged = await accessories.destroy('shop', staging, { deleteVolumes: true });
  assert.deepEqual(staged.volumesDeleted, ['slipway-shop-staging-db-data', 'slipway-shop-staging-web-data']);
  assert.deepEqual(w.volumes.map((v) => v.env), ['production']);
});

test('env destroy tears down accessories and the env network, keeping volumes unless asked', async () => {
  const { w, ctx, accessories, sink } = accessoryWorld();
  await accessories.ensure('shop', staging, project([db()]), sink);
  w.volumes = [{ name: 'slipway-shop-staging-db-data', project: 'shop', env: 'staging', owner: 'db', volume: 'data', sizeBytes: 1, createdAt: null, usedBy: [] }];
  const deleted: number[] = [];
  Object.assign(ctx.store, { deleteEnvironment: async (id: number) => void deleted.push(id) });
  Object.assign(ctx, { edge: { listBackends: async () => [] }, accessories });
  const report = await new Environments(ctx).destroy('shop', 'staging');
  assert.deepEqual(report, { environment: 'staging', replicasRemoved: 0, routesRemoved: 0, accessories: ['db'], volumesDeleted: [], volumesKept: ['slipway-shop-staging-db-data'] });
  assert.deepEqual(w.networksRemoved, ['shop-staging']);
  assert.deepEqual(deleted, [11]);
  assert.equal(w.containers.length, 0);
  const again = await new Environments(ctx).destroy('shop', 'staging', { deleteVolumes: true });
  assert.deepEqual(again.volumesDeleted, ['slipway-shop-staging-db-data']);
});

test('heal never touches an accessory a deploy is ensuring, nor one that runs again by its turn', async () => {
  const { w, accessories, sink } = accessoryWorld();
  await accessories.ensure('shop', production, project([db()]), sink);
  w.containers[0]!.state = 'exited';
  // A deploy in flight: heal skips the environment altogether.
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const deploying = accessories.ensure('shop', production, project([db()]), async (line, level) => {
    await gate;
    await sink(line, level);
  });
  assert.deepEqual(await accessories.heal(), []);
  release();
  assert.deepEqual((await deploying).map((o) => o.action), ['restarted']);
  assert.equal(w.started.length, 2);
  assert.deepEqual(await accessories.heal(), [], 'running again: nothing to heal');
  assert.equal(w.started.length, 2);
});

test('a changed kind is refused before anything changes: SLW_CONFLICT on accessories.<name>.kind, naming the old kind and the ways out', async () => {
  const { w, accessories, sink } = accessoryWorld();
  await accessories.ensure('shop', production, project([db()]), sink);
  w.calls.length = 0;
  const networks = w.networksEnsured.length;
  await assert.rejects(accessories.ensure('shop', production, project([cache(), accessoryConfig('db', 'redis')]), sink), (err) => {
    assert.ok(isSlipwayError(err));
    assert.equal(err.code, 'SLW_CONFLICT');
    assert.equal(err.details[0]?.path, 'accessories.db.kind');
    assert.match(err.message, /accessory db is a postgres accessory in environment production and cannot become redis/);
    assert.match(err.message, /data \(volumes\) and generated credentials belong to postgres/);
    assert.match(err.message, /another name/);
    assert.match(err.message, /slipway env destroy production -p shop --delete-volumes --yes/);
    return true;
  });
  assert.deepEqual(w.calls, [], 'nothing stopped, started or saved (not even the other accessory)');
  assert.equal(w.networksEnsured.length, networks);
  assert.equal(w.records.length, 1);
  assert.equal(w.records[0]!.kind, 'postgres');
});

test('credentials lacking a key their kind needs are SLW_INTERNAL naming the accessory, never an empty password', async () => {
  const { w, ctx, accessories, sink, cipher } = accessoryWorld();
  await accessories.ensure('shop', production, project([cache()], {}), sink);
  // A record whose kind no longer matches its credentials (redis → postgres by hand).
  w.records[0]!.kind = 'postgres';
  w.records[0]!.config = db({ name: 'cache' });
  await assert.rejects(accessories.connectionEnv(10, [{ accessory: 'cache', kind: 'postgres', vars: { url: 'DATABASE_URL' } }], 'app'), (err) => {
    return isSlipwayError(err) && err.code === 'SLW_INTERNAL' && /accessory cache lack superuser, owner, app, which a postgres accessory needs/.test(err.message);
  });
  await assert.rejects(accessories.ensure('shop', production, project([db({ name: 'cache' })], {}), sink), (err) => isSlipwayError(err) && err.code === 'SLW_INTERNAL' && /accessory cache/.test(err.message));
  // An empty value counts as missing too.
  const { openAccessoryCredentials } = await import('./accessory-credentials');
  w.creds.push({ accessoryId: 1, version: 2, ...cipher.seal(JSON.stringify({ password: '' }), 'slipway/accessories/1/v2'), createdAt: '' });
  await assert.rejects(openAccessoryCredentials(ctx, 1, 2, { name: 'cache', kind: 'redis' }), (err) => isSlipwayError(err) && err.code === 'SLW_INTERNAL' && /of accessory cache lack password/.test(err.message));
  assert.deepEqual(await openAccessoryCredentials(ctx, 1, 1, { name: 'cache', kind: 'redis' }).then((c) => Object.keys(c)), ['password']);
});

test('a failed recreate brings the previous container back (new one stopped), logs it, and still fails the deploy', async () => {
  const { w, accessories, log, sink, secretValues } = accessoryWorld();
  await accessories.ensure('shop', production, project([db()]), sink);
  const previous = w.started[0]!;
  w.exitsIf = (spec) => spec.env.POSTGRES_INITDB_ARGS === 'broken';
  w.calls.length = 0;
  log.length = 0;
  await assert.rejects(accessories.ensure('shop', production, project([db({ env: { POSTGRES_INITDB_ARGS: 'broken' } })]), sink), (err) => isSlipwayError(err) && err.code === 'SLW_HEALTH_FAILED' && /accessory db stopped before becoming ready/.test(err.message));
  assert.deepEqual(w.calls, ['stop db', 'start db', 'stop db', 'start db', 'provision']);
  assert.equal(w.containers.length, 1);
  assert.equal(w.containers[0]!.state, 'running');
  assert.equal(w.containers[0]!.labels.spec, previous.labels.spec, 'the previous spec runs again');
  assert.equal(w.started.at(-1)!.image, previous.image);
  assert.equal(w.records[0]!.specHash, previous.labels.spec, 'the record still describes the previous one');
  assert.ok(log.some((l) => /^warn: accessory db: the new container failed \(accessory db stopped before becoming ready \(exit code 1\)\); the previous one runs again$/.test(l)), log.join('\n'));
  assertNoSecrets(log, secretValues());
  // The previous one cannot start either: said clearly, nothing left running half-ready.
  w.exitsIf = () => true;
  log.length = 0;
  await assert.rejects(accessories.ensure('shop', production, project([db({ env: { POSTGRES_INITDB_ARGS: 'broken' } })]), sink), (err) => isSlipwayError(err) && err.code === 'SLW_HEALTH_FAILED');
  assert.ok(log.some((l) => /^error: accessory db: the new container failed \(.*\), and the previous one could not be started again either \(accessory db: .*\): db is down/.test(l)), log.join('\n'));
  assert.equal(w.containers.length, 0);
});

test('heal backs off a crash-looping accessory (15 s doubling), stops an attempt left running but not ready, and forgets the backoff once it stays up', async () => {
  const { w, accessories, sink } = accessoryWorld();
  await accessories.ensure('shop', production, project([db()]), sink);
  // Runs but never answers pg_isready: each attempt waits its deadline and fails.
  w.execAnswer = (argv) => (argv[0] === 'pg_isready' ? { exitCode: 2, timedOut: false, output: 'no response' } : undefined);
  w.containers[0]!.state = 'exited';
  const starts = () => w.started.length;
  assert.deepEqual(await accessories.heal(), []);
  assert.equal(starts(), 2, 'first attempt at once');
  assert.equal(w.containers.length, 0, 'the running-but-not-ready container was stopped');
  assert.deepEqual(w.events.map((e) => e.type), ['accessory.failed']);
  await accessories.heal();
  assert.equal(starts(), 2, 'not again on the next pass');
  w.now += 14_000;
  await accessories.heal();
  assert.equal(starts(), 2);
  w.now += 1_001;
  await accessories.heal();
  assert.equal(starts(), 3, 'after 15 s');
  w.now += 15_001;
  await accessories.heal();
  assert.equal(starts(), 3, 'the second wait is 30 s');
  w.now += 15_000;
  await accessories.heal();
  assert.equal(starts(), 4);
  // Fixed: the next due attempt succeeds; once it has kept running 2 min the backoff is forgotten.
  w.execAnswer = null;
  w.now += 60_001;
  assert.equal((await accessories.heal()).length, 1);
  assert.equal(starts(), 5);
  w.now += 120_001;
  await accessories.heal();
  w.containers[0]!.state = 'exited';
  assert.equal((await accessories.heal()).length, 1, 'a later death is restarted at once');
  assert.equal(starts(), 6);
});

test('a data directory kept from an earlier environment: the superuser password is reset inside the container (password in env only) and provisioning retried once', async () => {
  const { w, accessories, log, sink, secretValues } = accessoryWorld();
  const authError = () => new SlipwayError('SLW_RUNTIME', 'postgres at 10.213.0.2:5432 (database postgres): password authentication failed for user "postgres"', [{ path: 'sqlstate', message: '28P01' }]);
  w.provisionErrors = [authError()];
  const [o] = await accessories.ensure('shop', production, project([db()]), sink);
  assert.equal(o!.action, 'started');
  assert.deepEqual(w.calls.filter((c) => c === 'provision'), ['provision', 'provision']);
  assert.equal(w.provisions.length, 1, 'the retry succeeded');
  const superuser = w.started[0]!.env.POSTGRES_PASSWORD!;
  const i = w.execArgv.findIndex((a) => a.join(' ').includes('psql'));
  assert.ok(i >= 0, 'psql was run inside the container');
  assert.deepEqual(w.execArgv[i], ['sh', '-c', 'printf "%s" "$SLIPWAY_SQL" | psql -v ON_ERROR_STOP=1 -X -q -U postgres -d postgres']);
  assert.deepEqual(w.execEnvs[i], { SLIPWAY_SQL: `ALTER ROLE postgres PASSWORD '${superuser}'` });
  for (const argv of w.execArgv) assertNoSecrets(argv, secretValues());
  assert.ok(log.includes('warn: accessory db: its data directory was kept from an earlier environment; the superuser password was reset to the new credentials'));
  assertNoSecrets(log, secretValues());
  // Once only: a second auth failure fails the deploy (masked); other errors are not retried at all.
  w.provisionErrors = [authError(), authError()];
  w.execArgv.length = 0;
  await assert.rejects(accessories.ensure('shop', production, project([db()]), sink), (err) => isSlipwayError(err) && err.code === 'SLW_DEPLOY_FAILED' && /password authentication failed/.test(err.message));
  assert.equal(w.execArgv.filter((a) => a.join(' ').includes('psql')).length, 1);
  w.provisionErrors = [new SlipwayError('SLW_RUNTIME', 'postgres at 10.213.0.2:5432: connection refused')];
  w.execArgv.length = 0;
  await assert.rejects(accessories.ensure('shop', production, project([db()]), sink), /connection refused/);
  assert.equal(w.execArgv.filter((a) => a.join(' ').includes('psql')).length, 0);
  // A reset that fails says so, its output masked.
  w.provisionErrors = [authError()];
  w.execAnswer = (argv) => (argv[0] === 'sh' ? { exitCode: 2, timedOut: false, output: `psql: error: ${superuser} rejected` } : undefined);
  await assert.rejects(accessories.ensure('shop', production, project([db()]), sink), (err) => {
    assert.ok(isSlipwayError(err));
    assert.equal(err.code, 'SLW_DEPLOY_FAILED');
    assert.match(err.message, /resetting its password inside the container failed \(exit code 2: psql: error: \[secret\] rejected\)/);
    assertNoSecrets([err.message], secretValues());
    return true;
  });
});

test('an interrupted restore in place keeps its accessory stopped: heal skips it, a deploy refuses, a restart by hand starts it on its data', async () => {
  const { w, ctx, accessories, sink, log } = accessoryWorld();
  await accessories.ensure('shop', production, project([db(), cache()]), sink);
  // What a control plane that died mid-restore leaves: another process's mark, the container gone.
  await ctx.store.acquireLease(restoreMarkerKey(production.id, 'db'), 'restore:1:deadbeef:1796650000000', 3_600_000);
  w.containers = w.containers.filter((c) => c.labels.accessory !== 'db');
  assert.deepEqual(await accessories.heal(), []);
  assert.equal(w.containers.filter((c) => c.labels.accessory === 'db').length, 0, 'not started on data that may be half replaced');
  await assert.rejects(accessories.ensure('shop', production, project([db(), cache()]), sink), (err: unknown) => {
    assert.ok(isSlipwayError(err) && err.code === 'SLW_CONFLICT');
    assert.match(err.message, /accessory db: a restore in place \(started 2026-12-\d+T[\d:.]+Z\) was interrupted/);
    assert.match(err.message, /slipway restore db --backup ID --in-place --yes --env production/);
    assert.match(err.message, /slipway accessories restart db --env production/);
    return true;
  });
  await accessories.restart('shop', 'production', 'db', sink);
  assert.equal(w.containers.filter((c) => c.labels.accessory === 'db' && c.state === 'running').length, 1);
  assert.ok(log.some((l) => /the restore in place interrupted at .* is set aside/.test(l)), log.join('\n'));
  assert.equal(await ctx.store.getLease(restoreMarkerKey(production.id, 'db')), null);
  await accessories.ensure('shop', production, project([db(), cache()]), sink);
});
