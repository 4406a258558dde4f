/**
 * Snapshot backups of redis, nats and container accessories (src/engine/snapshot-backups.ts)
 * against the real Docker engine, the built-in redis and nats images, the SQLite store, the
 * host backup folder and the real JetStream API: each kind backed up with what it holds
 * counted, verified by restoring into a scratch container, restored into a new accessory and
 * in place (the state after the backup gone, a safety backup of it taken); a damaged file
 * fails the next verification with an event and a red status; retention keeps the newest
 * `retention.full`; a backup interrupted by a restart is failed and its files removed.
 *
 * Run: node --import tsx --test --test-concurrency=1 test/backups-snapshots.test.ts
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { connect, StringCodec } from 'nats';
import pino from 'pino';
import type { ProjectConfig } from '../src/core/config';
import { parseProjectConfig } from '../src/core/parse-config';
import type { Store } from '../src/core/ports/store';
import { DockerRuntime } from '../src/drivers/docker/docker-runtime';
import { HostBackupFiles } from '../src/drivers/backup-files/host-backup-files';
import { NatsJetStreamAdmin } from '../src/drivers/nats/jetstream-admin';
import { Accessories } from '../src/engine/accessories';
import { Backups } from '../src/engine/backups';
import type { EngineContext } from '../src/engine/engine-context';
import { restoreMarkerKey } from '../src/engine/restore-marker';
import { removeTestContainers } from './support/docker-cleanup';
import { ensureAccessoryImage } from './support/accessory-image';
import { openBackupWorld } from './support/backup-world';

const suffix = randomBytes(4).toString('hex');
const network = `slipway-test-snap-${suffix}`;
const project = `sn${suffix}`;
const logger = pino({ level: 'silent' });
const runtime = new DockerRuntime({ network, logger });
const dataDir = mkdtempSync(path.join(tmpdir(), 'slipway-snap-'));
const backupRoot = path.join(dataDir, 'backups');
const files = new HostBackupFiles(backupRoot);
const jetstream = new NatsJetStreamAdmin();
let store: Store;
let accessories: Accessories;
let backups: Backups;
let ctx: EngineContext;
let env: { id: number; name: string };
const log = async () => undefined;
const at = (accessory: string) => ({ project, env: 'production', accessory });

function config(cacheBackup = '{ schedule: false, retention: { full: 2 } }'): ProjectConfig {
  const r = parseProjectConfig(`project: ${project}
services:
  web:
    image: slipway/static:latest
    port: 8080
accessories:
  cache:
    kind: redis
    backup: ${cacheBackup}
  queue:
    kind: nats
    backup: { schedule: false }
  files:
    kind: container
    image: slipway/redis:7
    command: [sh, -c, "mkdir -p /srv/files && trap 'exit 0' TERM && while true; do sleep 1; done"]
    volumes: ["files:/srv/files"]
    stop_timeout: 5s
    backup: { schedule: false }
`);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  return r.config;
}

async function live(accessory: string) {
  const [c] = (await runtime.listAccessories({ project, env: 'production', accessory })).filter((x) => x.state === 'running' && x.labels.spec !== 'scratch');
  assert.ok(c, `${accessory} runs`);
  return c;
}

async function sh(accessory: string, script: string, extraEnv: Record<string, string> = {}): Promise<string> {
  const c = await live(accessory);
  const r = await runtime.exec(c.id, ['sh', '-c', script], { timeoutMs: 120_000, env: extraEnv });
  assert.equal(r.exitCode, 0, r.output);
  return r.output.trim();
}

/** The password every redis (and nats) copy shares: the source's credentials. */
async function password(accessory: 'cache' | 'queue'): Promise<string> {
  const vars = (await accessories.connectionEnv(env.id, [{ accessory, kind: accessory === 'cache' ? 'redis' : 'nats', vars: { url: 'URL' } }], 'app')).env;
  return decodeURIComponent(new URL(vars.URL!).password);
}

async function redis(accessory: string, script: string): Promise<string> {
  return sh(accessory, script, { REDISCLI_AUTH: await password('cache') });
}
const dbsize = (accessory: string) => redis(accessory, 'redis-cli -h 127.0.0.1 dbsize').then(Number);

async function nats(accessory: string) {
  const c = await live(accessory);
  return connect({ servers: `${c.address}:4222`, user: 'slipway', pass: await password('queue'), timeout: 5000 });
}

async function streamMessages(accessory: string, stream: string): Promise<number | null> {
  const nc = await nats(accessory);
  try {
    const jsm = await nc.jetstreamManager();
    return (await jsm.streams.info(stream).catch(() => null))?.state.messages ?? null;
  } finally {
    await nc.close();
  }
}

before(async () => {
  await runtime.ping();
  await ensureAccessoryImage('redis', '7');
  await ensureAccessoryImage('nats', '2');
  ({ store, env, ctx, accessories, backups } = await openBackupWorld({ runtime, dataDir, logger, project, files, jetstream }));
  await accessories.ensure(project, env, config(), log);
});

after(async () => {
  await removeTestContainers(network);
  rmSync(dataDir, { recursive: true, force: true });
});

let redisBackup: string;
test('redis: an RDB snapshot with its keys counted, verified by loading it into a scratch server', { timeout: 600_000 }, async () => {
  await redis('cache', 'for i in $(seq 1 1000); do echo "SET key:$i value-$i"; done | redis-cli -h 127.0.0.1 >/dev/null; redis-cli -h 127.0.0.1 set session:1 x EX 3600 >/dev/null');
  const lines: string[] = [];
  const b = await backups.take(at('cache'), { trigger: 'manual', onProgress: (l) => lines.push(l) });
  redisBackup = b.id;
  assert.equal(b.state, 'succeeded', b.error ?? '');
  assert.equal(b.type, 'snapshot');
  assert.equal(b.rows, 1001, 'every key counted');
  assert.ok((b.storedBytes ?? 0) > 10_000, `stored ${b.storedBytes}`);
  assert.ok(lines.some((l) => /snapshot sound: 1001 keys/.test(l)), lines.join('\n'));
  assert.deepEqual(readdirSync(path.join(backupRoot, project, 'production', 'cache', b.id)), ['redis-rdb.tar']);
  assert.equal(await sh('cache', 'ls -A /data | grep -c slipway-backup || true'), '0', 'the temporary RDB is gone from the data volume');

  const v = await backups.verify(b.id, {});
  assert.equal(v.verification?.state, 'passed', JSON.stringify(v.verification));
  assert.deepEqual(v.verification?.checks.map((c) => c.name), ['checksums', 'redis-check-rdb', 'load']);
  assert.match(v.verification!.checks[2]!.detail, /loaded it: 1001 keys/);
  assert.equal((await runtime.listAccessories({ project })).filter((c) => c.labels.spec === 'scratch').length, 0, 'no scratch container left');
  assert.equal((await runtime.listVolumes({ project, sizes: false })).filter((x) => /-verify-/.test(x.owner)).length, 0, 'no scratch volume left');
});

test('redis: restored into a new accessory and in place; the keys written after the backup are gone, a safety backup holds them', { timeout: 600_000 }, async () => {
  await redis('cache', 'for i in $(seq 1001 1500); do echo "SET key:$i late"; done | redis-cli -h 127.0.0.1 >/dev/null');
  assert.equal(await dbsize('cache'), 1501);
  const copy = await backups.restore(at('cache'), { backupId: redisBackup, inPlace: false });
  assert.match(copy.accessory, /^cache-restored-\d{12}$/);
  assert.equal(await dbsize(copy.accessory), 1001, 'the copy holds the backup, rebuilt as its append-only file');
  assert.equal(await redis(copy.accessory, 'redis-cli -h 127.0.0.1 get key:7'), 'value-7');
  assert.equal(await dbsize('cache'), 1501, 'the live one is untouched');
  // The copy starts again from its append-only file: the data survives a restart.
  await accessories.restart(project, 'production', copy.accessory);
  assert.equal(await dbsize(copy.accessory), 1001);

  const lines: string[] = [];
  const inPlace = await backups.restore(at('cache'), { backupId: redisBackup, inPlace: true, onProgress: (l) => lines.push(l) });
  assert.equal(inPlace.inPlace, true);
  assert.ok(inPlace.safetyBackup, lines.join('\n'));
  assert.equal(inPlace.safetyBackup.rows, 1501, 'the replaced state was backed up first');
  assert.equal(await dbsize('cache'), 1001);
  assert.equal(await redis('cache', 'redis-cli -h 127.0.0.1 exists key:1200'), '0');
});

test('redis: a damaged backup file fails the next verification (checksums), with an event and a red status; restore refuses it', { timeout: 600_000 }, async () => {
  appendFileSync(path.join(backupRoot, project, 'production', 'cache', redisBackup, 'redis-rdb.tar'), 'garbage');
  const v = await backups.verify(redisBackup, {});
  assert.equal(v.verification?.state, 'failed');
  assert.equal(v.verification?.checks[0]?.name, 'checksums');
  assert.match(v.verification?.error ?? '', /redis-rdb\.tar: \d+ bytes, \d+ written/);
  const events = await store.listOutbox(0, 1000);
  assert.ok(events.some((e) => e.type === 'backup.verify_failed' && e.payload.backup === redisBackup), 'backup.verify_failed in the outbox');
  assert.equal((await backups.health(env.id, 'cache'))?.state, 'verify_failed');
  await assert.rejects(backups.restore(at('cache'), { backupId: redisBackup, inPlace: false }), /its files are damaged/);
});

test('redis: retention keeps the newest two snapshots; older folders are removed', { timeout: 600_000 }, async () => {
  const taken = [];
  for (let i = 0; i < 2; i++) taken.push(await backups.take(at('cache'), { trigger: 'manual' }));
  const all = await backups.list(project, 'production', { accessory: 'cache', limit: 50, expired: true });
  const kept = all.filter((b) => b.state === 'succeeded' && !b.expired).map((b) => b.id);
  assert.deepEqual(kept.sort(), taken.map((b) => b.id).sort());
  for (const b of all.filter((x) => x.expired)) assert.equal(existsSync(path.join(backupRoot, project, 'production', 'cache', b.id)), false, `${b.id} removed`);
  await assert.rejects(backups.take(at('cache'), { trigger: 'manual', type: 'full' }), /whole snapshots/);
});

test('redis: a scheduled snapshot is taken when its cron comes due, then verified', { timeout: 600_000 }, async () => {
  const r = (await store.getAccessory(env.id, 'cache'))!;
  await store.saveAccessory({ environmentId: env.id, name: 'cache', kind: r.kind, config: { ...r.config, backup: { ...r.config.backup!, schedule: '* * * * *' } }, imageDigest: r.imageDigest, specHash: r.specHash });
  try {
    // Two minutes on: the cron has come due since the accessory was recorded.
    await new Backups({ ctx, accessories, files, jetstream, now: () => new Date(Date.now() + 120_000) }).tick();
    const [newest] = await backups.list(project, 'production', { accessory: 'cache', limit: 1, expired: false });
    assert.equal(newest?.trigger, 'schedule');
    assert.equal(newest?.type, 'snapshot');
    assert.equal(newest?.state, 'succeeded', newest?.error ?? '');
    assert.equal(newest?.verification?.state, 'passed', JSON.stringify(newest?.verification));
  } finally {
    await store.saveAccessory({ environmentId: env.id, name: 'cache', kind: r.kind, config: r.config, imageDigest: r.imageDigest, specHash: r.specHash });
  }
});

test('redis: verify.every 1h without a schedule: the tick verifies the newest snapshot once the hour has passed, not again within it', { timeout: 600_000 }, async () => {
  const policy = config('{ schedule: false, retention: { full: 2 }, verify: { every: 1h } }').accessories!.cache!.backup!;
  assert.deepEqual([policy.schedule, policy.verify.everyMs], [null, 3_600_000]);
  const r = (await store.getAccessory(env.id, 'cache'))!;
  await store.saveAccessory({ environmentId: env.id, name: 'cache', kind: r.kind, config: { ...r.config, backup: policy }, imageDigest: r.imageDigest, specHash: r.specHash });
  const tickAt = (aheadMs: number) => new Backups({ ctx, accessories, files, jetstream, now: () => new Date(Date.now() + aheadMs) }).tick();
  try {
    // The last verification (the scheduled one above) started moments ago: two hours on, one is due.
    const b = await backups.take(at('cache'), { trigger: 'manual' });
    assert.equal(b.verification, null);
    await tickAt(2 * 3_600_000);
    const verified = await backups.get(b.id);
    assert.equal(verified.verification?.state, 'passed', JSON.stringify(verified.verification));
    assert.deepEqual(verified.verification?.checks.map((c) => c.name), ['checksums', 'redis-check-rdb', 'load']);
    assert.equal((await backups.list(project, 'production', { accessory: 'cache', limit: 50, expired: false }))[0]?.id, b.id, 'no backup taken: there is no schedule');
    // Half an hour after that verification: a newer snapshot stays unverified, nothing else is verified again.
    const later = await backups.take(at('cache'), { trigger: 'manual' });
    const before = (await backups.list(project, 'production', { accessory: 'cache', limit: 50, expired: true })).map((x) => [x.id, x.verification?.startedAt ?? null]);
    await tickAt(30 * 60_000);
    assert.equal((await backups.get(later.id)).verification, null, 'not verified within the hour');
    assert.deepEqual((await backups.list(project, 'production', { accessory: 'cache', limit: 50, expired: true })).map((x) => [x.id, x.verification?.startedAt ?? null]), before, 'no verification ran');
  } finally {
    await store.saveAccessory({ environmentId: env.id, name: 'cache', kind: r.kind, config: r.config, imageDigest: r.imageDigest, specHash: r.specHash });
  }
});

test('nats: every stream snapshotted through JetStream; verified in a scratch server; restored in place and into a new accessory', { timeout: 600_000 }, async () => {
  const sc = StringCodec();
  let nc = await nats('queue');
  const js = nc.jetstream();
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'] });
  for (let i = 0; i < 2000; i++) await js.publish(`orders.${i % 7}`, sc.encode(`order ${i} ${'x'.repeat(i % 300)}`));
  await jsm.consumers.add('ORDERS', { durable_name: 'billing', ack_policy: 'explicit' as never });
  const kv = await js.views.kv('settings');
  await kv.put('theme', sc.encode('dark'));
  await nc.close();

  const b = await backups.take(at('queue'), { trigger: 'manual' });
  assert.equal(b.state, 'succeeded', b.error ?? '');
  assert.equal(b.tables, 2, 'two streams: ORDERS and KV_settings');
  assert.equal(b.rows, 2001);
  const v = await backups.verify(b.id, {});
  assert.equal(v.verification?.state, 'passed', JSON.stringify(v.verification));
  assert.deepEqual(v.verification?.checks.map((c) => c.name).sort(), ['checksums', 'stream KV_settings', 'stream ORDERS']);

  nc = await nats('queue');
  for (let i = 0; i < 100; i++) await nc.jetstream().publish('orders.late', sc.encode('late'));
  await (await nc.jetstreamManager()).streams.add({ name: 'LATER', subjects: ['later.>'] });
  await nc.close();
  assert.equal(await streamMessages('queue', 'ORDERS'), 2100);

  const inPlace = await backups.restore(at('queue'), { backupId: b.id, inPlace: true });
  assert.equal(inPlace.safetyBackup?.rows, 2101);
  assert.equal(await streamMessages('queue', 'ORDERS'), 2000, 'the messages after the backup are gone');
  assert.equal(await streamMessages('queue', 'LATER'), null, 'a stream made after the backup is gone');
  nc = await nats('queue');
  try {
    const consumer = await (await nc.jetstreamManager()).consumers.info('ORDERS', 'billing');
    assert.equal(consumer.name, 'billing', 'consumers come back with their stream');
    assert.equal(sc.decode((await (await nc.jetstream().views.kv('settings')).get('theme'))!.value), 'dark');
  } finally {
    await nc.close();
  }

  const copy = await backups.restore(at('queue'), { backupId: b.id, inPlace: false });
  assert.equal(await streamMessages(copy.accessory, 'ORDERS'), 2000);
});

test('container: its volumes copied while it is stopped (started again after), verified by extracting them, restored in place', { timeout: 600_000 }, async () => {
  await sh('files', 'mkdir -p /srv/files/docs && for i in $(seq 1 50); do echo "file $i" > /srv/files/docs/$i.txt; done && chown -R 1234:1234 /srv/files/docs');
  const before = (await live('files')).id;
  const lines: string[] = [];
  const b = await backups.take(at('files'), { trigger: 'manual', onProgress: (l) => lines.push(l) });
  assert.equal(b.state, 'succeeded', b.error ?? '');
  assert.equal(b.rows, 50);
  assert.ok(lines.some((l) => /stopped; copying its volumes/.test(l)), lines.join('\n'));
  assert.notEqual((await live('files')).id, before, 'stopped for the copy, then started again');
  const v = await backups.verify(b.id, {});
  assert.equal(v.verification?.state, 'passed', JSON.stringify(v.verification));
  assert.match(v.verification!.checks[1]!.detail, /50 files/);

  await sh('files', 'rm -rf /srv/files/docs/1*.txt && echo new > /srv/files/docs/new.txt');
  await backups.restore(at('files'), { backupId: b.id, inPlace: true });
  assert.equal(await sh('files', 'ls /srv/files/docs | wc -l'), '50');
  assert.equal(await sh('files', 'cat /srv/files/docs/17.txt'), 'file 17');
  assert.equal(await sh('files', 'stat -c %u:%g /srv/files/docs/17.txt'), '1234:1234', 'ownership kept');
  assert.equal(await sh('files', 'test -e /srv/files/docs/new.txt && echo yes || echo no'), 'no');
  await assert.rejects(backups.restore(at('files'), { toTime: new Date(Date.now() - 60_000).toISOString(), inPlace: false }), /no point-in-time recovery/);
});

test('a snapshot backup interrupted by a restart is failed and its files removed', { timeout: 120_000 }, async () => {
  const id = randomUUID();
  await store.createBackup({ id, environmentId: env.id, accessory: 'cache', type: 'snapshot', trigger: 'manual', deploymentId: null, triggeredBy: null });
  const folder = { project, env: 'production', accessory: 'cache', backupId: id };
  await files.write(folder, 'redis-rdb.tar', (async function* () { yield Buffer.from('partial'); })());
  const recovered = await new Backups({ ctx, accessories, files, jetstream }).recoverInterrupted();
  assert.equal(recovered.backups, 1);
  const b = await backups.get(id);
  assert.equal(b.state, 'failed');
  assert.match(b.error ?? '', /partial files were removed/);
  assert.equal(existsSync(files.describe(folder)), false);
});

test('a restore in place interrupted by a restart: reported at boot, kept stopped by heal and deploys, until a new restore in place takes over', { timeout: 600_000 }, async () => {
  const b = await backups.take(at('cache'), { trigger: 'manual' });
  const key = restoreMarkerKey(env.id, 'cache');
  // What a control plane that died mid-restore leaves: the mark of another process, the accessory stopped.
  await store.acquireLease(key, 'restore:1:deadbeef:1796650000000', 3_600_000);
  for (const c of await runtime.listAccessories({ project, env: 'production', accessory: 'cache' })) await runtime.stopAccessory(c.id, 5000);
  await accessories.heal();
  assert.deepEqual((await runtime.listAccessories({ project, env: 'production', accessory: 'cache' })).filter((c) => c.state === 'running'), [], 'heal does not start it on data that may be half replaced');
  await assert.rejects(accessories.ensure(project, env, config(), log), /accessory cache: a restore in place .* was interrupted/);
  await new Backups({ ctx, accessories, files, jetstream }).recoverInterrupted();
  const events = await store.listOutbox(0, 10_000);
  assert.ok(events.some((e) => e.type === 'accessory.failed' && /cache: a restore in place .* was interrupted/.test(String(e.payload.detail))), 'reported at boot');

  const lines: string[] = [];
  const r = await backups.restore(at('cache'), { backupId: b.id, inPlace: true, onProgress: (l) => lines.push(l) });
  assert.ok(lines.some((l) => /an earlier restore in place of cache was interrupted/.test(l)), lines.join('\n'));
  assert.equal(r.safetyBackup, null, 'nothing runs to back up first');
  assert.equal(await dbsize('cache'), b.rows);
  assert.equal(await store.getLease(key), null, 'the mark is cleared');
  await accessories.ensure(project, env, config(), log);
});

test('removing an accessory with its volumes expires its backups and deletes their files', { timeout: 300_000 }, async () => {
  const kept = (await backups.list(project, 'production', { accessory: 'files', limit: 50, expired: false })).filter((b) => b.state === 'succeeded');
  assert.ok(kept.length > 0);
  await accessories.remove(project, 'production', 'files', { deleteVolumes: true });
  assert.deepEqual(await backups.list(project, 'production', { accessory: 'files', limit: 50, expired: false }), []);
  for (const b of kept) assert.equal(existsSync(path.join(backupRoot, project, 'production', 'files', b.id)), false);
});
