/**
 * The accessories, credentials and backups part of the Store contract (the AccessoryStore role
 * of the port); registered by runStoreContract, so every Store implementation runs it.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { AccessoryConfig } from '../core/config';
import type { AccessoryWrite, NewBackup } from '../core/ports/store';
import { freshStore, ISO_UTC, sleep, range, rejectsWithCode, type OpenStore } from './test-support/contract-fixture';

export function runAccessoryContract(open: OpenStore): void {
  const fresh = (t: TestContext) => freshStore(open, t);

  describe('accessories', () => {
    const dbConfig = (over: Partial<AccessoryConfig> = {}): AccessoryConfig => ({
      name: 'db',
      kind: 'postgres',
      image: 'slipway/postgres:15',
      builtIn: true,
      version: '15',
      port: 5432,
      volumes: [{ volume: 'data', path: '/var/lib/postgresql/data', readOnly: false }],
      env: { TZ: 'UTC', QUOTES: 'it\'s "quoted" \u00e9' },
      command: null,
      health: { kind: 'exec', path: null, port: null, command: ['pg_isready', '-q'], intervalMs: 500, timeoutMs: 5000, deadlineMs: 120_000 },
      resources: { memoryBytes: 512 * 1024 * 1024, cpus: 0.5 },
      stopTimeoutMs: 10_000,
      database: 'shop',
      ...over,
    });
    const write = (environmentId: number, over: Partial<AccessoryWrite> = {}): AccessoryWrite => ({
      environmentId,
      name: 'db',
      kind: 'postgres',
      config: dbConfig(),
      imageDigest: 'sha256:pg1',
      specHash: 'hash-1',
      ...over,
    });

    test('save creates, then updates by environment and name keeping id, created_at and the credentials version', async (t) => {
      const { store, env } = await fresh(t);
      assert.deepEqual(await store.listAccessories(env.id), []);
      assert.equal(await store.getAccessory(env.id, 'db'), null);
      const created = await store.saveAccessory(write(env.id));
      assert.equal(created.environmentId, env.id);
      assert.equal(created.name, 'db');
      assert.equal(created.kind, 'postgres');
      assert.deepEqual(created.config, dbConfig(), 'the JSON config round-trips');
      assert.equal(created.imageDigest, 'sha256:pg1');
      assert.equal(created.specHash, 'hash-1');
      assert.equal(created.credentialsVersion, 0);
      assert.match(created.createdAt, ISO_UTC);
      assert.equal(created.updatedAt, created.createdAt);
      assert.deepEqual(await store.getAccessory(env.id, 'db'), created);

      await store.addAccessoryCredentials(created.id, { keyId: 'k1', sealed: 'creds-1' });
      await sleep(2);
      const changed = dbConfig({ version: '16', image: 'postgres:16', builtIn: false });
      const updated = await store.saveAccessory(write(env.id, { config: changed, imageDigest: 'sha256:pg2', specHash: 'hash-2' }));
      assert.equal(updated.id, created.id);
      assert.equal(updated.createdAt, created.createdAt);
      assert.ok(updated.updatedAt > created.updatedAt, 'updated_at moves');
      assert.deepEqual(updated.config, changed);
      assert.equal(updated.imageDigest, 'sha256:pg2');
      assert.equal(updated.specHash, 'hash-2');
      assert.equal(updated.credentialsVersion, 1, 'saving keeps the credentials version');
      assert.equal((await store.listAccessories(env.id)).length, 1);
    });

    test('listed by name per environment, or all of them; saving for a missing environment is SLW_NOT_FOUND', async (t) => {
      const { store, project, env } = await fresh(t);
      const staging = await store.ensureEnvironment(project.id, 'staging');
      await store.saveAccessory(write(env.id, { name: 'cache', kind: 'redis', config: dbConfig({ name: 'cache', kind: 'redis' }) }));
      await store.saveAccessory(write(env.id));
      await store.saveAccessory(write(staging.id));
      assert.deepEqual((await store.listAccessories(env.id)).map((a) => a.name), ['cache', 'db']);
      assert.deepEqual((await store.listAccessories(staging.id)).map((a) => [a.environmentId, a.name]), [[staging.id, 'db']]);
      assert.notEqual((await store.getAccessory(staging.id, 'db'))?.id, (await store.getAccessory(env.id, 'db'))?.id, 'one record per environment');
      const all = await store.listAccessories();
      assert.equal(all.length, 3);
      assert.deepEqual(new Set(all.map((a) => a.environmentId)), new Set([env.id, staging.id]));
      await rejectsWithCode(store.saveAccessory(write(999_999)), 'SLW_NOT_FOUND');
    });

    test('credentials: versions count per accessory, each add becomes current; given or current version; none is null', async (t) => {
      const { store, project, env } = await fresh(t);
      const db = await store.saveAccessory(write(env.id));
      const staging = await store.ensureEnvironment(project.id, 'staging');
      const other = await store.saveAccessory(write(staging.id));
      assert.equal(await store.getAccessoryCredentials(db.id), null, 'no credentials yet');
      assert.equal(await store.getAccessoryCredentials(db.id, 1), null);
      const v1 = await store.addAccessoryCredentials(db.id, { keyId: 'k1', sealed: 'one' });
      assert.deepEqual({ ...v1, createdAt: '' }, { accessoryId: db.id, version: 1, keyId: 'k1', sealed: 'one', createdAt: '' });
      assert.match(v1.createdAt, ISO_UTC);
      assert.equal((await store.getAccessory(env.id, 'db'))?.credentialsVersion, 1);
      const v2 = await store.addAccessoryCredentials(db.id, { keyId: 'k1', sealed: 'two' });
      assert.equal(v2.version, 2);
      assert.equal((await store.getAccessory(env.id, 'db'))?.credentialsVersion, 2);
      assert.equal((await store.getAccessoryCredentials(db.id))?.sealed, 'two');
      assert.equal((await store.getAccessoryCredentials(db.id, 1))?.sealed, 'one', 'older versions stay readable (pinned releases)');
      assert.equal(await store.getAccessoryCredentials(db.id, 3), null);
      assert.equal((await store.addAccessoryCredentials(other.id, { keyId: 'k1', sealed: 'staging' })).version, 1, 'versions are per accessory');
      assert.equal(await store.getAccessoryCredentials(999_999), null);
      await rejectsWithCode(store.addAccessoryCredentials(999_999, { keyId: 'k1', sealed: 'x' }), 'SLW_NOT_FOUND');
      assert.deepEqual((await store.listAllAccessoryCredentials()).map((c) => [c.accessoryId, c.version, c.sealed]), [[db.id, 1, 'one'], [db.id, 2, 'two'], [other.id, 1, 'staging']]);
    });

    test('concurrent credential adds get distinct consecutive versions; the current one is the last', async (t) => {
      const { store, env } = await fresh(t);
      const db = await store.saveAccessory(write(env.id));
      const added = await Promise.all(range(1, 10).map((i) => store.addAccessoryCredentials(db.id, { keyId: 'k', sealed: `s${i}` })));
      assert.deepEqual(added.map((c) => c.version).sort((a, b) => a - b), range(1, 10));
      assert.equal((await store.getAccessory(env.id, 'db'))?.credentialsVersion, 10);
      assert.equal((await store.getAccessoryCredentials(db.id))?.version, 10);
    });

    test('reseal replaces seals atomically; a missing version rolls the whole batch back', async (t) => {
      const { store, env } = await fresh(t);
      const db = await store.saveAccessory(write(env.id));
      await store.addAccessoryCredentials(db.id, { keyId: 'old', sealed: 'a' });
      await store.addAccessoryCredentials(db.id, { keyId: 'old', sealed: 'b' });
      await rejectsWithCode(
        store.resealAccessoryCredentials([
          { accessoryId: db.id, version: 1, keyId: 'new', sealed: 'A' },
          { accessoryId: db.id, version: 9, keyId: 'new', sealed: 'X' },
        ]),
        'SLW_NOT_FOUND',
      );
      assert.equal((await store.getAccessoryCredentials(db.id, 1))?.keyId, 'old');
      await store.resealAccessoryCredentials([
        { accessoryId: db.id, version: 1, keyId: 'new', sealed: 'A' },
        { accessoryId: db.id, version: 2, keyId: 'new', sealed: 'B' },
      ]);
      assert.deepEqual((await store.listAllAccessoryCredentials()).map((c) => [c.version, c.keyId, c.sealed]), [[1, 'new', 'A'], [2, 'new', 'B']]);
      assert.equal((await store.getAccessory(env.id, 'db'))?.credentialsVersion, 2, 'resealing keeps the current version');
    });

    test('delete removes the record and its credentials only; deleting again is a no-op', async (t) => {
      const { store, env } = await fresh(t);
      const db = await store.saveAccessory(write(env.id));
      const cache = await store.saveAccessory(write(env.id, { name: 'cache' }));
      await store.addAccessoryCredentials(db.id, { keyId: 'k', sealed: 'db' });
      await store.addAccessoryCredentials(cache.id, { keyId: 'k', sealed: 'cache' });
      await store.deleteAccessory(db.id);
      assert.equal(await store.getAccessory(env.id, 'db'), null);
      assert.equal(await store.getAccessoryCredentials(db.id, 1), null);
      assert.deepEqual((await store.listAllAccessoryCredentials()).map((c) => c.sealed), ['cache']);
      await store.deleteAccessory(db.id);
      const again = await store.saveAccessory(write(env.id));
      assert.equal(again.credentialsVersion, 0, 'a new record starts without credentials');
      assert.equal((await store.addAccessoryCredentials(again.id, { keyId: 'k', sealed: 'x' })).version, 1);
    });

    test('destroying an environment or deleting the project deletes its accessories and their credentials, nothing else', async (t) => {
      const { store, project, env } = await fresh(t);
      const staging = await store.ensureEnvironment(project.id, 'staging');
      const other = await store.upsertProject('blog');
      const otherEnv = (await store.getEnvironment(other.id, 'production'))!;
      for (const e of [env, staging, otherEnv]) {
        const a = await store.saveAccessory(write(e.id));
        await store.addAccessoryCredentials(a.id, { keyId: 'k', sealed: `env-${e.id}` });
      }
      await store.deleteEnvironment(staging.id);
      assert.deepEqual(await store.listAccessories(staging.id), []);
      assert.deepEqual((await store.listAllAccessoryCredentials()).map((c) => c.sealed).sort(), [`env-${env.id}`, `env-${otherEnv.id}`].sort());
      await store.deleteProject(project.id);
      assert.deepEqual(await store.listAccessories(env.id), []);
      assert.deepEqual((await store.listAccessories()).map((a) => a.environmentId), [otherEnv.id]);
      assert.deepEqual((await store.listAllAccessoryCredentials()).map((c) => c.sealed), [`env-${otherEnv.id}`]);
    });
  });

  describe('backups', () => {
    const newBackup = (environmentId: number, id: string, over: Partial<NewBackup> = {}): NewBackup => ({
      id,
      environmentId,
      accessory: 'db',
      type: 'full',
      trigger: 'manual',
      deploymentId: null,
      triggeredBy: 'alice',
      ...over,
    });

    test('a backup starts running; its outcome, counts and verification round-trip', async (t) => {
      const { store, env } = await fresh(t);
      const b = await store.createBackup(newBackup(env.id, 'b1'));
      assert.equal(b.state, 'running');
      assert.match(b.startedAt, ISO_UTC);
      assert.deepEqual([b.label, b.finishedAt, b.tableCounts, b.verification, b.expiredAt], [null, null, null, null, null]);
      const verification = { state: 'passed' as const, startedAt: new Date().toISOString(), finishedAt: new Date().toISOString(), durationMs: 1200, checks: [{ name: 'rows', ok: true, detail: 'public.orders 10000' }], error: null };
      const done = await store.updateBackup('b1', { state: 'succeeded', label: '20261207-102339F', restorePoint: 'slipway-b1', sizeBytes: 2 ** 40, storedBytes: 3_077_615, walStart: '000000010000000000000002', walStop: '000000010000000000000002', tableCounts: { 'public.orders': 10_000 }, finishedAt: new Date().toISOString(), verification });
      assert.equal(done.state, 'succeeded');
      assert.equal(done.sizeBytes, 2 ** 40, 'sizes beyond 32 bits');
      assert.deepEqual(done.tableCounts, { 'public.orders': 10_000 });
      assert.deepEqual(done.verification, verification);
      assert.deepEqual(await store.getBackup('b1'), done);
      await rejectsWithCode(store.updateBackup('nope', { state: 'failed' }), 'SLW_NOT_FOUND');
      await rejectsWithCode(store.createBackup(newBackup(9999, 'b2')), 'SLW_NOT_FOUND');
    });

    test('listing: newest first, by accessory, state and deployment; expired ones only when asked; deleted with the environment', async (t) => {
      const { store, env } = await fresh(t);
      await store.createBackup(newBackup(env.id, 'a'));
      await new Promise((r) => setTimeout(r, 5));
      await store.createBackup(newBackup(env.id, 'b', { accessory: 'other', trigger: 'release', deploymentId: 'd1' }));
      await new Promise((r) => setTimeout(r, 5));
      await store.createBackup(newBackup(env.id, 'c'));
      await store.updateBackup('c', { state: 'failed', error: 'boom' });
      assert.deepEqual((await store.listBackups({ environmentId: env.id })).map((b) => b.id), ['c', 'b', 'a']);
      assert.deepEqual((await store.listBackups({ environmentId: env.id, accessory: 'db' })).map((b) => b.id), ['c', 'a']);
      assert.deepEqual((await store.listBackups({ states: ['running'] })).map((b) => b.id), ['b', 'a']);
      assert.deepEqual((await store.listBackups({ deploymentId: 'd1' })).map((b) => b.id), ['b']);
      assert.deepEqual((await store.listBackups({ environmentId: env.id, limit: 1 })).map((b) => b.id), ['c']);
      await store.updateBackup('a', { expiredAt: new Date().toISOString() });
      assert.deepEqual((await store.listBackups({ environmentId: env.id })).map((b) => b.id), ['c', 'b']);
      assert.deepEqual((await store.listBackups({ environmentId: env.id, expired: true })).map((b) => b.id), ['c', 'b', 'a']);
      await store.deleteEnvironment(env.id);
      assert.deepEqual(await store.listBackups({ expired: true }), []);
    });
  });
}
