/**
 * The PostgresAdmin driver against a REAL Postgres: the built-in accessory image
 * (slipway/postgres:15) run with the env core/accessory-kinds.ts gives it, on a test network,
 * reached from the host at its address as the control plane does. The two-user model: the
 * owner migrates (CREATE/ALTER/DROP), the app role reads and writes rows of tables created
 * before and after provisioning (serial sequences included) and is refused everything else;
 * provisioning is idempotent, changes passwords, and no password reaches its answers, its
 * errors or the server's log. Container, volume and network are removed even on failure.
 *
 * Run: SLIPWAY_STRICT_RESPONSES=1 node --import tsx --test --test-concurrency=1 test/postgres-admin.test.ts
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import pg from 'pg';
import { ACCESSORY_KINDS, accessoryContainerEnv, generateCredentials, postgresProvisioning, type AccessoryCredentials } from '../src/core/accessory-kinds';
import type { AccessoryConfig } from '../src/core/config';
import { isSlipwayError } from '../src/core/errors';
import type { PostgresProvisioning, PostgresTarget } from '../src/core/ports/postgres-admin';
import { PgPostgresAdmin } from '../src/drivers/postgres/postgres-admin';
import { ensureAccessoryImage } from './support/accessory-image';

const suffix = randomBytes(4).toString('hex');
const name = `slipway-test-pgadmin-${suffix}`;
const docker = new Docker();
const admin = new PgPostgresAdmin({ connectTimeoutMs: 5000, statementTimeoutMs: 20_000 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cfg: AccessoryConfig = {
  name: 'db',
  kind: 'postgres',
  image: 'slipway/postgres:15',
  builtIn: true,
  version: '15',
  port: 5432,
  volumes: [{ volume: 'data', path: ACCESSORY_KINDS.postgres.dataDir, readOnly: false }],
  env: {},
  command: null,
  health: null,
  resources: { memoryBytes: null, cpus: null },
  stopTimeoutMs: 10_000,
  database: 'shop',
};
const creds: AccessoryCredentials = generateCredentials('postgres');
const plan: PostgresProvisioning = postgresProvisioning(cfg, creds);
/** Every password this test ever uses: none may appear in an answer, an error or the server log. */
const passwords: string[] = [creds.superuser!, creds.owner!, creds.app!];
let host = '';
let superuser: PostgresTarget;

/** A connected client as `user` to `database`, ended after `fn`. */
async function as<T>(user: string, password: string, database: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ host, port: 5432, user, password, database, connectionTimeoutMillis: 5000, statement_timeout: 20_000 });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}
const asOwner = <T>(fn: (c: pg.Client) => Promise<T>, password = plan.owner.password) => as(plan.owner.name, password, plan.database, fn);
const asApp = <T>(fn: (c: pg.Client) => Promise<T>, password = plan.app.password) => as(plan.app.name, password, plan.database, fn);

async function refused(c: pg.Client, sql: string, message: RegExp): Promise<void> {
  await assert.rejects(c.query(sql), (err: Error) => {
    assert.match(err.message, message, `${sql}: ${err.message}`);
    return true;
  });
}

before(async () => {
  await ensureAccessoryImage('postgres', '15');
  // A subnet outside Docker's default pools and Slipway's (10.213.0.0/16): tests of other parts run at the same time.
  for (let attempt = 0; ; attempt++) {
    const subnet = `10.199.${Math.floor(Math.random() * 250) + 1}.0/24`;
    try {
      await docker.createNetwork({ Name: name, Driver: 'bridge', CheckDuplicate: true, IPAM: { Config: [{ Subnet: subnet }] }, Labels: { 'slipway.test': name } });
      break;
    } catch (err) {
      if (attempt >= 10 || !/overlap/i.test(String(err))) throw err;
    }
  }
  await docker.createVolume({ Name: name, Labels: { 'slipway.test': name } });
  const container = await docker.createContainer({
    name,
    Image: cfg.image,
    Env: Object.entries(accessoryContainerEnv(cfg, creds)).map(([k, v]) => `${k}=${v}`),
    Labels: { 'slipway.test': name },
    HostConfig: { NetworkMode: name, Init: true, Mounts: [{ Type: 'volume', Source: name, Target: ACCESSORY_KINDS.postgres.dataDir }] },
  });
  await container.start();
  const info = await container.inspect();
  host = info.NetworkSettings.Networks[name]!.IPAddress;
  assert.ok(host, 'the container has an address on the test network');
  superuser = { host, port: 5432, user: 'postgres', password: creds.superuser! };
  // Ready once the real server accepts the superuser over TCP (the init-time server listens on the socket only).
  const deadline = Date.now() + 180_000;
  for (;;) {
    const ok = await as('postgres', creds.superuser!, 'postgres', async (c) => (await c.query('SELECT 1')).rowCount === 1).catch(() => false);
    if (ok) break;
    const state = (await container.inspect()).State;
    if (!state.Running) throw new Error(`postgres exited (${state.ExitCode}) before it was ready`);
    if (Date.now() > deadline) throw new Error('postgres was not ready within 180 s');
    await sleep(500);
  }
});

after(async () => {
  await docker.getContainer(name).remove({ force: true, v: true }).catch(() => undefined);
  await docker.getVolume(name).remove().catch(() => undefined);
  await docker.getNetwork(name).remove().catch(() => undefined);
});

test('a database that already has a table (made before Slipway provisioned it): provisioning adopts it', async () => {
  // The owner role and database exist (with a table and a serial) before the first provisioning, under another password.
  const early = `early-${randomBytes(8).toString('hex')}`;
  passwords.push(early);
  await as('postgres', creds.superuser!, 'postgres', async (c) => {
    await c.query(`CREATE ROLE owner LOGIN PASSWORD '${early}'`);
    await c.query('CREATE DATABASE shop OWNER owner');
  });
  await asOwner(async (c) => {
    await c.query('CREATE TABLE legacy (id serial PRIMARY KEY, note text NOT NULL)');
    await c.query("INSERT INTO legacy (note) VALUES ('before slipway')");
  }, early);

  const { changes } = await admin.provision(superuser, plan);
  assert.deepEqual(changes.slice(0, 2), ['changed the password of role owner', 'created role app']);
  assert.ok(changes.includes('limited connecting to database shop to owner and app'), changes.join('\n'));
  assert.ok(changes.some((c) => /^granted app SELECT, INSERT, UPDATE, DELETE on 1 existing table\(s\)$/.test(c)), changes.join('\n'));
  assert.ok(changes.some((c) => /^granted app USAGE, SELECT, UPDATE on 1 existing sequence\(s\)$/.test(c)), changes.join('\n'));
  assert.ok(!changes.some((c) => /created database/.test(c)), 'the database was kept');
  for (const p of passwords) assert.ok(!changes.join('\n').includes(p));

  // The app role uses the table made before: rows and its serial sequence.
  await asApp(async (c) => {
    assert.deepEqual((await c.query('SELECT note FROM legacy')).rows, [{ note: 'before slipway' }]);
    const inserted = await c.query("INSERT INTO legacy (note) VALUES ('from app') RETURNING id");
    assert.equal(inserted.rows[0].id, 2);
    await c.query("UPDATE legacy SET note = 'updated' WHERE id = 2");
    await c.query('DELETE FROM legacy WHERE id = 2');
    await refused(c, 'DROP TABLE legacy', /must be owner/);
  });
  await assert.rejects(asOwner(async () => undefined, early), /password authentication failed/, 'the earlier owner password is refused');
});

test('provisioning an empty server creates roles and database; again is idempotent and reports nothing', async () => {
  // A second database on the same server, from scratch.
  const fresh: PostgresProvisioning = { database: 'fresh_db', owner: { name: 'fresh_owner', password: randomBytes(16).toString('hex') }, app: { name: 'fresh_app', password: randomBytes(16).toString('hex') } };
  passwords.push(fresh.owner.password, fresh.app.password);
  const first = await admin.provision(superuser, fresh);
  assert.deepEqual(first.changes.slice(0, 4), ['created role fresh_owner', 'created role fresh_app', 'created database fresh_db owned by fresh_owner', 'limited connecting to database fresh_db to fresh_owner and fresh_app']);
  assert.ok(first.changes.some((c) => c.startsWith('set default privileges')), first.changes.join('\n'));
  assert.deepEqual(await admin.provision(superuser, fresh), { changes: [] }, 'nothing left to change');
  // The other database's app role cannot even connect here.
  await assert.rejects(as(plan.app.name, plan.app.password, 'fresh_db', async () => undefined), /permission denied for database "fresh_db"/);
});

test('the owner migrates; the app role gets rows only of what the owner creates after provisioning', async () => {
  await asOwner(async (c) => {
    await c.query('CREATE TABLE orders (id bigserial PRIMARY KEY, item text NOT NULL)');
    await c.query('ALTER TABLE orders ADD COLUMN qty integer NOT NULL DEFAULT 1');
    await c.query('CREATE INDEX orders_item ON orders (item)');
    await c.query('CREATE TABLE scratch (x int)');
    await c.query('DROP TABLE scratch');
    await c.query('CREATE SCHEMA audit');
    await c.query('CREATE TABLE audit.events (id serial PRIMARY KEY, what text)');
  });
  await asApp(async (c) => {
    const a = await c.query("INSERT INTO orders (item, qty) VALUES ('tea', 2), ('cake', 1) RETURNING id");
    assert.deepEqual(a.rows.map((r: { id: string }) => Number(r.id)), [1, 2], 'the bigserial sequence is usable');
    await c.query("UPDATE orders SET qty = 3 WHERE item = 'tea'");
    await c.query("DELETE FROM orders WHERE item = 'cake'");
    assert.deepEqual((await c.query('SELECT item, qty FROM orders')).rows, [{ item: 'tea', qty: 3 }]);
    await c.query("INSERT INTO audit.events (what) VALUES ('a schema the owner made later')");
    await c.query("SELECT setval('orders_id_seq', 10)");

    await refused(c, 'CREATE TABLE evil (x int)', /permission denied for schema public/);
    await refused(c, 'CREATE TABLE audit.evil (x int)', /permission denied for schema audit/);
    await refused(c, 'DROP TABLE orders', /must be owner of table orders/);
    await refused(c, 'ALTER TABLE orders ADD COLUMN evil text', /must be owner of table orders/);
    await refused(c, 'ALTER TABLE orders DROP COLUMN qty', /must be owner of table orders/);
    await refused(c, 'TRUNCATE orders', /permission denied for table orders/);
    await refused(c, 'CREATE INDEX evil ON orders (qty)', /must be owner of table orders/);
    await refused(c, 'DROP SCHEMA audit CASCADE', /must be owner of schema audit/);
    await refused(c, 'CREATE SCHEMA evil', /permission denied for database shop/);
    await refused(c, 'CREATE TEMP TABLE t (x int)', /permission denied to create temporary tables in database "shop"/);
  });
  assert.deepEqual(await admin.provision(superuser, plan), { changes: [] }, 'nothing to change after migrations: default privileges covered them');
});

test('tableRowCounts counts every user table exactly', async () => {
  await asApp((c) => c.query("INSERT INTO audit.events (what) VALUES ('two')"));
  assert.deepEqual(await admin.tableRowCounts(superuser, 'shop'), { 'audit.events': 2, 'public.legacy': 1, 'public.orders': 1 });
  assert.deepEqual(await admin.tableRowCounts(superuser, 'fresh_db'), {});
});

test('new passwords: provisioning changes them; the old ones are refused, the new ones work', async () => {
  const next = { ...plan, owner: { ...plan.owner, password: randomBytes(16).toString('hex') }, app: { ...plan.app, password: randomBytes(16).toString('hex') } };
  passwords.push(next.owner.password, next.app.password);
  const { changes } = await admin.provision(superuser, next);
  assert.deepEqual(changes, ['changed the password of role owner', 'changed the password of role app']);
  await assert.rejects(asOwner(async () => undefined), /password authentication failed for user "owner"/);
  await assert.rejects(asApp(async () => undefined), /password authentication failed for user "app"/);
  assert.equal(await asOwner(async (c) => (await c.query('SELECT count(*)::int AS n FROM orders')).rows[0].n, next.owner.password), 1);
  assert.equal(await asApp(async (c) => (await c.query('SELECT count(*)::int AS n FROM orders')).rows[0].n, next.app.password), 1);
  assert.deepEqual(await admin.provision(superuser, next), { changes: [] });
});

test('errors name the server and carry no password; the server log holds none either', async () => {
  const wrong = `wrong-${randomBytes(8).toString('hex')}`;
  await assert.rejects(admin.provision({ ...superuser, password: wrong }, plan), (err: unknown) => {
    assert.ok(isSlipwayError(err));
    assert.equal(err.code, 'SLW_RUNTIME');
    assert.match(err.message, new RegExp(`^postgres at ${host.replaceAll('.', '\\.')}:5432 \\(database postgres\\): password authentication failed for user "postgres"`));
    for (const p of [...passwords, wrong]) assert.ok(!err.message.includes(p));
    return true;
  });
  await assert.rejects(admin.tableRowCounts(superuser, 'nope'), /postgres at .*\(database nope\): database "nope" does not exist/);
  const log = (await docker.getContainer(name).logs({ stdout: true, stderr: true, follow: false })).toString('utf8');
  assert.match(log, /database system is ready to accept connections/, 'the log was read');
  for (const p of passwords) assert.ok(!log.includes(p), 'no password in the server log');
});
