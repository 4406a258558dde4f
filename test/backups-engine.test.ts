/**
 * Backups of a Postgres accessory (src/engine/backups.ts) against the real Docker engine, the
 * built-in Postgres image with pgBackRest, the SQLite store and the real keyring: a backup with
 * row counts at its restore point; verification by restoring it; a point-in-time restore that
 * holds exactly the rows committed before the moment; a restore of a backup into a new
 * accessory; a killed backup marked failed while earlier ones still restore; a corrupted
 * repository failing the next verification with a notification and a red status.
 *
 * Run: SLIPWAY_STRICT_RESPONSES=1 node --import tsx --test --test-concurrency=1 test/backups-engine.test.ts
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import Docker from 'dockerode';
import pg from 'pg';
import pino from 'pino';
import type { ProjectConfig } from '../src/core/config';
import { parseProjectConfig } from '../src/core/parse-config';
import type { Store } from '../src/core/ports/store';
import { DockerRuntime } from '../src/drivers/docker/docker-runtime';
import { Accessories } from '../src/engine/accessories';
import { Backups } from '../src/engine/backups';
import type { EngineContext } from '../src/engine/engine-context';
import { asPostgres } from '../src/engine/pg-in-container';
import { parsePgBackRestInfo } from '../src/core/pgbackrest-output';
import { removeTestContainers } from './support/docker-cleanup';
import { ensureAccessoryImage } from './support/accessory-image';
import { openBackupWorld } from './support/backup-world';

const suffix = randomBytes(4).toString('hex');
const network = `slipway-test-bk-${suffix}`;
const project = `bk${suffix}`;
const logger = pino({ level: 'silent' });
const runtime = new DockerRuntime({ network, logger });
const docker = new Docker();
const dataDir = mkdtempSync(path.join(tmpdir(), 'slipway-bk-'));
let store: Store;
let accessories: Accessories;
let backups: Backups;
let ctx: EngineContext;
let env: { id: number; name: string };
const ref = { project, env: 'production', accessory: 'db' };
const log = async () => undefined;

function config(retention = ''): ProjectConfig {
  const r = parseProjectConfig(`project: ${project}
services:
  web:
    image: slipway/static:latest
    port: 8080
    uses: [db]
accessories:
  db:
    kind: postgres
    # A data volume of its own name, and a server setting recovery must not demand of a restored copy.
    volumes: ["pgdata:/var/lib/postgresql/data"]
    command: [postgres, -c, max_connections=200]
    backup:
      schedule: false${retention}
      verify:
        sql: ["select count(*) from events", "select max(at) from events"]
`);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  return r.config;
}

/** A client for an accessory as the owner, reached from the host at its address. */
async function connect(accessory = 'db'): Promise<pg.Client> {
  const [c] = (await runtime.listAccessories({ project, env: 'production', accessory })).filter((x) => x.state === 'running' && x.labels.spec !== 'scratch');
  assert.ok(c?.address, `${accessory} runs`);
  const url = new URL((await accessories.connectionEnv(env.id, [{ accessory, kind: 'postgres', vars: { url: 'DATABASE_URL' } }], 'owner')).env.DATABASE_URL!);
  url.hostname = c.address;
  const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 5000 });
  await client.connect();
  return client;
}

async function sql<T extends pg.QueryResultRow>(q: string, params: unknown[] = [], accessory = 'db'): Promise<T[]> {
  const c = await connect(accessory);
  try {
    return (await c.query<T>(q, params)).rows;
  } finally {
    await c.end();
  }
}

before(async () => {
  await runtime.ping();
  await ensureAccessoryImage('postgres', '15');
  ({ store, env, ctx, accessories, backups } = await openBackupWorld({ runtime, dataDir, logger, project }));
  await accessories.ensure(project, env, config(), log);
  await sql('CREATE TABLE events (id bigserial PRIMARY KEY, batch int NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp(), note text)');
  // Any recovery empties an unlogged table: it is not counted, so it cannot fail a verification.
  await sql('CREATE UNLOGGED TABLE sessions (id int)');
  await sql('INSERT INTO sessions SELECT generate_series(1, 10)');
});

after(async () => {
  await removeTestContainers(network);
  rmSync(dataDir, { recursive: true, force: true });
});

/** 20 batches of 500 timestamped rows, each its own transaction; the commit time of each batch as the server saw it. */
async function writeBatches(from: number, count: number): Promise<Array<{ batch: number; committedBy: Date }>> {
  const c = await connect();
  const out: Array<{ batch: number; committedBy: Date }> = [];
  try {
    for (let b = from; b < from + count; b++) {
      await c.query('INSERT INTO events (batch, note) SELECT $1, repeat(md5(g::text), 4) FROM generate_series(1, 500) g', [b]);
      const [{ now }] = (await c.query<{ now: Date }>('SELECT clock_timestamp() AS now')).rows as [{ now: Date }];
      out.push({ batch: b, committedBy: now });
      await new Promise((r) => setTimeout(r, 150));
    }
  } finally {
    await c.end();
  }
  return out;
}

let first: string;
/** No procps in the image: every process whose argv[0] is pgbackrest, SIGKILLed. */
const KILL_PGBACKREST = 'for p in /proc/[0-9]*; do if head -c 11 "$p/cmdline" 2>/dev/null | grep -q "^pgbackrest"; then kill -9 "${p#/proc/}"; fi; done';

test('a backup: pgBackRest set, sizes, row counts at its restore point; verification restores it and passes every check', { timeout: 900_000 }, async () => {
  await writeBatches(0, 4);
  const [db] = await runtime.listAccessories({ project, env: 'production', accessory: 'db' });
  assert.equal((await docker.getContainer(db!.id).inspect()).HostConfig.ShmSize, 512 * 1024 * 1024, "/dev/shm beyond Docker's 64 MiB (parallel index builds)");
  const progress: string[] = [];
  const b = await backups.take(ref, { trigger: 'manual', triggeredBy: 'test', onProgress: (l) => progress.push(l) });
  first = b.id;
  assert.equal(b.state, 'succeeded', b.error ?? '');
  assert.equal(b.type, 'full', 'the first backup is full');
  assert.match(b.label ?? '', /^\d{8}-\d{6}F$/);
  assert.ok((b.sizeBytes ?? 0) > 1_000_000 && (b.storedBytes ?? 0) > 0, `sizes ${b.sizeBytes}/${b.storedBytes}`);
  assert.deepEqual([b.tables, b.rows], [1, 2000]);
  assert.ok(progress.some((l) => /backup: \d+%/.test(l)), `progress shown: ${progress.join('\n')}`);
  assert.ok(progress.some((l) => /succeeded/.test(l)));

  const v = await backups.verify(b.id, {});
  assert.equal(v.verification?.state, 'passed', JSON.stringify(v.verification, null, 1));
  assert.deepEqual(v.verification?.checks.map((c) => c.name), ['pgbackrest verify', 'restore and recovery', 'row counts', 'verify.sql[0]', 'verify.sql[1]']);
  assert.match(v.verification!.checks[2]!.detail, /1 tables, 2000 rows/);
  assert.deepEqual(await runtime.listAccessories({ project, env: 'production' }).then((cs) => cs.map((c) => c.labels.accessory)), ['db'], 'the scratch container is gone');
  assert.equal((await runtime.listVolumes({ project, env: 'production', sizes: false })).filter((x) => /verify/.test(x.owner)).length, 0, 'its volume too');
  assert.equal((await backups.health(env.id, 'db'))?.state, 'ok');

  const second = await backups.take(ref, { trigger: 'manual' });
  assert.equal(second.type, 'diff', 'within full_every: differential');
});

test('restore --to-time: exactly the rows committed before the moment, in a new accessory', { timeout: 900_000 }, async () => {
  const batches = await writeBatches(100, 16);
  const total = (await sql<{ n: string }>('SELECT count(*) AS n FROM events'))[0]!.n;
  assert.equal(Number(total), 10_000, 'sanity: 4 + 16 batches of 500 rows');
  // A moment between batch 107 and 108.
  const before = batches[7]!.committedBy.getTime();
  const after = batches[8]!.committedBy.getTime();
  const t = new Date(Math.floor((before + after) / 2)).toISOString();
  const out = await backups.restore(ref, { toTime: t, inPlace: false, onProgress: () => undefined });
  assert.match(out.accessory, /^db-restored-\d{12}$/);
  assert.equal(out.inPlace, false);
  assert.ok(out.next.some((l) => l.includes('--in-place --yes')), out.next.join('\n'));
  assert.ok(out.next.includes(`inspect it: slipway db shell ${out.accessory} --env production -p ${project} -c 'select count(*) from <table>'   (the services still use db)`), out.next.join('\n'));
  const restored = await sql<{ batch: number; n: string }>('SELECT batch, count(*) AS n FROM events GROUP BY batch ORDER BY batch', [], out.accessory);
  assert.deepEqual(restored.map((r) => [r.batch, Number(r.n)]), [0, 1, 2, 3, ...Array.from({ length: 8 }, (_, i) => 100 + i)].map((b) => [b, 500]), 'batches 0–3 and 100–107, nothing after the moment');
  const views = await accessories.list(project, 'production');
  assert.deepEqual(views.map((v) => [v.name, v.state, v.ready]), [['db', 'running', true], [out.accessory, 'running', true]]);
  assert.equal(views.find((v) => v.name === out.accessory)!.backup, undefined, 'a restored copy has no backups of its own');
  const removed = await accessories.remove(project, 'production', out.accessory, { deleteVolumes: true });
  assert.equal(removed.volumesDeleted.length, 1);
});

test('restore a backup into a new accessory: its rows as they were at its restore point', { timeout: 900_000 }, async () => {
  const out = await backups.restore(ref, { backupId: first, inPlace: false });
  const [{ n }] = (await sql<{ n: string }>('SELECT count(*) AS n FROM events', [], out.accessory)) as [{ n: string }];
  assert.equal(Number(n), 2000);
  await accessories.remove(project, 'production', out.accessory, { deleteVolumes: true });
});

test('a backup whose pgBackRest is killed is failed and never listed as good; earlier backups still verify', { timeout: 900_000 }, async () => {
  await sql("INSERT INTO events (batch, note) SELECT 999, repeat(md5(g::text), 30) FROM generate_series(1, 60000) g");
  const [c] = await runtime.listAccessories({ project, env: 'production', accessory: 'db' });
  let killed = false;
  const taking = backups.take(ref, {
    trigger: 'manual',
    type: 'full',
    onProgress: (line) => {
      // Once the copy has started (pgBackRest copies the largest files first: percentages jump).
      if (!killed && /backup start archive/.test(line)) {
        killed = true;
        void runtime.exec(c!.id, ['sh', '-c', KILL_PGBACKREST], { timeoutMs: 10_000 });
      }
    },
  });
  await assert.rejects(taking, /backup of db .* failed/);
  assert.ok(killed, 'killed mid-backup');
  const [newest] = await backups.list(project, 'production', { accessory: 'db', limit: 1, expired: false });
  assert.equal(newest!.state, 'failed');
  assert.equal((await backups.health(env.id, 'db'))?.state, 'failed', 'status is red');
  // A control plane that died mid-backup: its record is failed at the next start.
  const running = await store.createBackup({ id: randomUUID(), environmentId: env.id, accessory: 'db', type: 'full', trigger: 'schedule', deploymentId: null, triggeredBy: null });
  const recovered = await new Backups({ ctx, accessories }).recoverInterrupted();
  assert.equal(recovered.backups, 1);
  assert.equal((await store.getBackup(running.id))?.state, 'failed');
  const v = await backups.verify(first, {});
  assert.equal(v.verification?.state, 'passed', JSON.stringify(v.verification?.checks));
  // The next backup works again.
  assert.equal((await backups.take(ref, { trigger: 'manual' })).state, 'succeeded');
  assert.equal((await backups.health(env.id, 'db'))?.state, 'ok');
});

test('a corrupted repository file fails the next verification: the check names it, an event is sent, the status is red', { timeout: 900_000 }, async () => {
  const [c] = await runtime.listAccessories({ project, env: 'production', accessory: 'db' });
  const b = await backups.get(first);
  const damage = await runtime.exec(c!.id, ['sh', '-c', `f=$(find /var/lib/pgbackrest/backup/main/${b.label}/pg_data/base -name '*.gz' -size +1k | head -n 1); printf 'garbage' >> "$f"; echo "$f"`], { timeoutMs: 10_000 });
  assert.equal(damage.exitCode, 0, damage.output);
  const v = await backups.verify(first, {});
  assert.equal(v.verification?.state, 'failed');
  assert.equal(v.verification?.checks[0]?.name, 'pgbackrest verify');
  assert.match(v.verification?.error ?? '', /checksum invalid 1 file/);
  const events = await store.listOutbox(0, 1000);
  assert.ok(events.some((e) => e.type === 'backup.verify_failed' && e.payload.backup === first), 'backup.verify_failed in the outbox');
  assert.equal((await backups.health(env.id, 'db'))?.state, 'verify_failed');
});

test('retention { full: 1, pitr: 1s }: each new full backup expires the one before (state, listing, pgBackRest\'s repository); the kept one verifies', { timeout: 900_000 }, async () => {
  const policy = config('\n      retention: { full: 1, pitr: 1s }').accessories!.db!.backup!;
  assert.deepEqual(policy.retention, { full: 1, pitrMs: 1000 });
  const r = (await store.getAccessory(env.id, 'db'))!;
  await store.saveAccessory({ environmentId: env.id, name: 'db', kind: r.kind, config: { ...r.config, backup: policy }, imageDigest: r.imageDigest, specHash: r.specHash });
  // A minute on: the 1 s window opens after both sets stopped, whatever the (whole-second) stop times pgBackRest records.
  const later = new Backups({ ctx, accessories, now: () => new Date(Date.now() + 60_000) });
  try {
    await writeBatches(500, 1);
    const progress: string[] = [];
    const a = await later.take(ref, { trigger: 'manual', type: 'full' });
    const b = await later.take(ref, { trigger: 'manual', type: 'full', onProgress: (l) => progress.push(l) });
    assert.deepEqual([a.state, b.state, a.type, b.type], ['succeeded', 'succeeded', 'full', 'full']);
    assert.ok(progress.includes(`retention: removed full backup ${a.label} and the backups that depend on it`), progress.join('\n'));
    const all = await backups.list(project, 'production', { accessory: 'db', limit: 100, expired: true });
    assert.equal(all.find((x) => x.id === a.id)?.expired, true, 'the first is expired');
    assert.deepEqual(all.filter((x) => x.state === 'succeeded' && !x.expired).map((x) => x.id), [b.id], 'only the newest full backup is kept (the earlier sets and their differentials went before it)');
    assert.ok(!(await backups.list(project, 'production', { accessory: 'db', limit: 100, expired: false })).some((x) => x.id === a.id), 'not listed without --all');
    const [c] = await runtime.listAccessories({ project, env: 'production', accessory: 'db' });
    const info = await asPostgres(runtime, c!.id, ['pgbackrest', 'info', '--output=json', '--log-level-console=warn'], { timeoutMs: 60_000 });
    assert.equal(info.exitCode, 0, info.output);
    assert.deepEqual(parsePgBackRestInfo(info.output, 'main').sets.map((s) => s.label), [b.label], 'pgbackrest info lists the kept set only');
    await assert.rejects(backups.verify(a.id, {}), /removed from the repository by retention/);
    const v = await backups.verify(b.id, {});
    assert.equal(v.verification?.state, 'passed', JSON.stringify(v.verification?.checks));
  } finally {
    await store.saveAccessory({ environmentId: env.id, name: 'db', kind: r.kind, config: r.config, imageDigest: r.imageDigest, specHash: r.specHash });
  }
});
