/**
 * Backup and restore throughput of a Postgres accessory, against plain pg_dump/pg_restore in the
 * same run, on the real Docker engine with the built-in slipway/postgres:15 image (pgBackRest),
 * the engine classes the control plane uses (engine/accessories.ts, engine/backups.ts), the
 * SQLite store and the keyring:
 * - the database is filled to ~1 GB (`--mb`, or SLIPWAY_BENCH_DB_MB) with an orders table
 *   (bigint ids, timestamps, numbers, short text, two indexes), with `INSERT … SELECT
 *   generate_series` in chunks; WAL archiving is on the whole time (as in production), and the
 *   archiver catching up after the fill is timed apart;
 * - Slipway full backup (`Backups.take`, type full): wall time, MB/s, stored bytes;
 * - Slipway verification (`Backups.verify`): wall time and each check;
 * - Slipway restore of that backup into a new accessory (`Backups.restore`, not in place);
 * - baseline, in the live Postgres container as the postgres user: `pg_dump -Fc` to a file,
 *   then `createdb` + `pg_restore` into a fresh database of the same server;
 * - for reference, what one core does with the table's heap file alone (read, sha1sum, gzip -6
 *   and -1): the costs a single-process pgBackRest backup adds up.
 * Index builds (the fill's, pg_restore's) run with max_parallel_maintenance_workers = 0: a
 * parallel build needs more than the container's 64 MB /dev/shm.
 * MB are 2^20 bytes; MB/s is the database size (`pg_database_size`) over the wall time.
 *
 *   npm run bench -- backups [--mb 1024]     (SLIPWAY_BENCH_DB_MB=1024 works too)
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import Docker from 'dockerode';
import pg from 'pg';
import pino from 'pino';
import type { ProjectConfig } from '../src/core/config';
import { parseProjectConfig } from '../src/core/parse-config';
import { PGBACKREST_REPO_PATH } from '../src/core/backup-config';
import { ACCESSORY_KINDS } from '../src/core/accessory-kinds';
import { DockerRuntime } from '../src/drivers/docker/docker-runtime';
import { DockerAccessoryImages } from '../src/drivers/docker/accessory-images';
import { MasterKeyring } from '../src/drivers/keyring/master-keyring';
import { PgPostgresAdmin } from '../src/drivers/postgres/postgres-admin';
import { httpProbe } from '../src/drivers/probe/http-probe';
import { tcpProbe } from '../src/drivers/probe/tcp-probe';
import { openSqliteStore } from '../src/store/sqlite-store';
import { Accessories } from '../src/engine/accessories';
import { Backups } from '../src/engine/backups';
import type { EngineContext } from '../src/engine/engine-context';
import { asPostgres, psqlRows } from '../src/engine/pg-in-container';
import { removeTestContainers } from '../test/support/docker-cleanup';
import { ensureAccessoryImage } from '../test/support/accessory-image';
import { wholeNumber } from './lib/flags';
import { writeResult } from './lib/results';

const MB = 1_048_576;
const ROWS_PER_CHUNK = 500_000;
const HOUR_MS = 3_600_000;
const NO_PARALLEL_BUILD = 'max_parallel_maintenance_workers = 0';

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { mb: { type: 'string', default: process.env.SLIPWAY_BENCH_DB_MB ?? '1024' } } });
  const targetMb = wholeNumber('--mb', values.mb);
  const suffix = randomBytes(4).toString('hex');
  const network = `slipway-bench-bk-${suffix}`;
  const project = `benchbk${suffix}`;
  const envName = 'production';
  const ref = { project, env: envName, accessory: 'db' };
  const logger = pino({ level: 'silent' });
  const runtime = new DockerRuntime({ network, logger });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'slipway-bench-bk-'));
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '?', memGiB: Math.round(os.totalmem() / 2 ** 30), loadAvgStart: os.loadavg()[0]!.toFixed(2) };
  console.log(`machine: ${machine.cpus} cpus (${machine.cpuModel}), ${machine.memGiB} GiB, load average ${machine.loadAvgStart}; target database size ${targetMb} MB`);

  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await removeTestContainers(network).catch((err: unknown) => console.error(`cleanup: ${String(err)}`));
    rmSync(dataDir, { recursive: true, force: true });
  };
  const onSignal = () => void cleanup().then(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const t0 = performance.now();
  const stamp = () => `+${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s`;
  const say = (line: string) => console.log(`${stamp()}  ${line}`);

  try {
    await runtime.ping();
    await ensureAccessoryImage('postgres', '15');
    const store = await openSqliteStore({ file: ':memory:', logger });
    await store.migrate();
    const p = await store.upsertProject(project);
    const e = await store.ensureEnvironment(p.id, envName);
    const env = { id: e.id, name: e.name };
    const ctx = { store, runtime, cipher: new MasterKeyring({ dataDir, env: {} }), logger, probe: httpProbe, tcpProbe } as unknown as EngineContext;
    const accessories = new Accessories({ ctx, images: new DockerAccessoryImages(new Docker()), postgres: new PgPostgresAdmin({ logger }) });
    ctx.accessories = accessories;
    const backups = new Backups({ ctx, accessories });
    ctx.backups = backups;

    say('starting the Postgres accessory');
    await accessories.ensure(project, env, config(project), async () => undefined);
    const live = await liveContainer(runtime, project, envName, 'db');
    const ownerUrl = new URL((await accessories.connectionEnv(env.id, [{ accessory: 'db', kind: 'postgres', vars: { url: 'DATABASE_URL' } }], 'owner')).env.DATABASE_URL!);
    const database = decodeURIComponent(ownerUrl.pathname.slice(1)) || 'postgres';
    const connect = async (accessory = 'db') => {
      const c = await liveContainer(runtime, project, envName, accessory);
      const url = new URL(ownerUrl);
      url.hostname = c.address!;
      const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 10_000 });
      await client.connect();
      return client;
    };
    const superSql = (sql: string, db = database) => psqlRows(runtime, live.id, db, sql, HOUR_MS);

    // 1. Fill.
    say(`filling database "${database}" to ~${targetMb} MB (chunks of ${ROWS_PER_CHUNK.toLocaleString('en')} rows)`);
    const [walStart] = (await superSql('SELECT pg_current_wal_lsn();'))[0]!;
    const tFill = performance.now();
    let rows = 0;
    const client = await connect();
    try {
      await client.query(`CREATE TABLE orders (
        id bigserial PRIMARY KEY,
        account_id int NOT NULL,
        created_at timestamptz NOT NULL,
        status text NOT NULL,
        amount numeric(12,2) NOT NULL,
        quantity int NOT NULL,
        note text
      )`);
      // The secondary index is built at the end; it adds ~12 % to the heap and primary key.
      const fillTo = targetMb * MB * 0.88;
      for (;;) {
        await client.query(
          `INSERT INTO orders (account_id, created_at, status, amount, quantity, note)
           SELECT (random() * 100000)::int, now() - random() * interval '365 days',
                  (ARRAY['new','paid','shipped','delivered','refunded'])[1 + g % 5],
                  round((random() * 1000)::numeric, 2), 1 + g % 10,
                  md5(g::text) || ' ' || md5((g * 7)::text)
           FROM generate_series($1::bigint, $2::bigint) g`,
          [rows + 1, rows + ROWS_PER_CHUNK],
        );
        rows += ROWS_PER_CHUNK;
        const size = Number((await client.query<{ s: string }>('SELECT pg_database_size(current_database()) AS s')).rows[0]!.s);
        say(`  ${rows.toLocaleString('en')} rows, ${(size / MB).toFixed(0)} MB`);
        if (size >= fillTo) break;
      }
      // A parallel index build needs a dynamic shared memory segment of ~maintenance_work_mem in
      // /dev/shm, which is Docker's default 64 MB in the accessory container: on a ~1 GB table it
      // fails with "could not resize shared memory segment … No space left on device" (53100).
      say(`  CREATE INDEX orders_account_created ON orders (account_id, created_at); VACUUM ANALYZE (${NO_PARALLEL_BUILD}: the accessory's /dev/shm is 64 MB)`);
      await client.query(`SET ${NO_PARALLEL_BUILD}`);
      await client.query('CREATE INDEX orders_account_created ON orders (account_id, created_at)');
      await client.query('VACUUM ANALYZE orders');
    } finally {
      await client.end();
    }
    await superSql('CHECKPOINT;');
    const fillMs = performance.now() - tFill;
    const dbBytes = Number((await superSql('SELECT pg_database_size(current_database());'))[0]![0]);
    const clusterBytes = Number((await superSql('SELECT sum(pg_database_size(oid)) FROM pg_database;'))[0]![0]);
    const [walEnd, segment] = (await superSql('SELECT pg_current_wal_lsn(), pg_walfile_name(pg_current_wal_lsn());'))[0]!;
    const walBytes = Number((await superSql(`SELECT pg_wal_lsn_diff('${walEnd}', '${walStart}');`))[0]![0]);
    const [heapBytes, indexBytes, heapFile, checksums] = (await superSql("SELECT pg_relation_size('orders'), pg_indexes_size('orders'), pg_relation_filepath('orders'), current_setting('data_checksums');"))[0]!;
    say(`orders: heap ${mbs(Number(heapBytes))}, indexes ${mbs(Number(indexBytes))}; data_checksums ${checksums}`);
    say(`filled: ${rows.toLocaleString('en')} rows, pg_database_size ${mbs(dbBytes)} (cluster ${mbs(clusterBytes)}), ${mbs(walBytes)} of WAL written, in ${secs(fillMs)}`);

    // WAL archiving (archive_command = pgbackrest archive-push, one segment at a time) catching up.
    const tArchive = performance.now();
    await superSql('SELECT pg_switch_wal();');
    // Stuck (nothing archived for 3 minutes): fails with what pg_stat_archiver says.
    let progressAt = performance.now();
    let seen = '';
    for (;;) {
      const [last = '', failed, lastFailed] = (await superSql("SELECT coalesce(last_archived_wal, ''), failed_count, coalesce(last_failed_wal, '') FROM pg_stat_archiver;"))[0]!;
      if (last >= segment!) break;
      if (last !== seen) [seen, progressAt] = [last, performance.now()];
      if (performance.now() - progressAt > 180_000) {
        throw new Error(`WAL archiving stuck: nothing archived for 3 minutes (last archived "${last}", ${failed} failures, last failed "${lastFailed}"; waiting for ${segment}); the archive_command is pgbackrest archive-push, see the accessory's log`);
      }
      await sleep(1000);
    }
    const archiveLagMs = performance.now() - tArchive;
    const archiveBytes = await duBytes(runtime, live.id, `${PGBACKREST_REPO_PATH}/archive`);
    say(`WAL archive caught up ${secs(archiveLagMs)} after the fill; archive holds ${mbs(archiveBytes)} (compressed)`);

    // 2. Slipway full backup.
    say('Slipway: full backup (pgBackRest)');
    const backupPhases = new Phases(say);
    const tBackup = performance.now();
    const backup = await backups.take(ref, { type: 'full', trigger: 'manual', triggeredBy: 'bench', onProgress: (l) => backupPhases.line(l) });
    const backupMs = performance.now() - tBackup;
    if (backup.state !== 'succeeded') throw new Error(`backup ${backup.id} ${backup.state}: ${backup.error}`);
    const prepMs = backupPhases.between(/ started$/, /^backup: /);
    const copyMs = backupPhases.between(/^backup: /, /^backup \d{8}-\d{6}F: /);
    const markMs = backupPhases.between(/^backup \d{8}-\d{6}F: /, /^backup .* succeeded/);
    say(`backup ${backup.label}: ${secs(backupMs)} (${rate(dbBytes, backupMs)}); stanza-create + check ${secs(prepMs)}; pgBackRest backup ${secs(copyMs)}; row counts + restore point + archive ${secs(markMs)}; size ${mbs(backup.sizeBytes ?? 0)}, stored ${mbs(backup.storedBytes ?? 0)}`);

    // 3. Slipway verification.
    say('Slipway: verification (restore into a scratch container, recover, check)');
    const verifyPhases = new Phases(say);
    const tVerify = performance.now();
    const verified = await backups.verify(backup.id, { onProgress: (l) => verifyPhases.line(l) });
    const verifyMs = performance.now() - tVerify;
    if (verified.verification?.state !== 'passed') throw new Error(`verification ${verified.verification?.state}: ${verified.verification?.error}`);
    const checkMs = verifyPhases.checkDurations();
    const verifyRestoreCopyMs = verifyPhases.between(/^✓ pgbackrest verify/, /^recovery: replaying/);
    const verifyRecoveryMs = verifyPhases.between(/^recovery: replaying/, /^recovery: done/);
    say(`verification passed in ${secs(verifyMs)}: ${Object.entries(checkMs).map(([n, ms]) => `${n} ${secs(ms)}`).join(', ')}`);

    // 4. Slipway restore into a new accessory.
    say('Slipway: restore of the backup into a new accessory');
    const restorePhases = new Phases(say);
    const tRestore = performance.now();
    const restored = await backups.restore(ref, { backupId: backup.id, inPlace: false, triggeredBy: 'bench', onProgress: (l) => restorePhases.line(l) });
    const restoreMs = performance.now() - tRestore;
    const restoreCopyMs = restorePhases.between(/^restoring /, /^recovery: replaying/);
    const restoreRecoveryMs = restorePhases.between(/^recovery: replaying/, /^recovery: done/);
    const restoreStartMs = restorePhases.sinceLast(/^recovery: done/, tRestore + restoreMs);
    const restoredRows = await countRows(await connect(restored.accessory));
    if (restoredRows !== rows) throw new Error(`${restored.accessory} has ${restoredRows} rows, expected ${rows}`);
    say(`restored into ${restored.accessory} in ${secs(restoreMs)} (${rate(dbBytes, restoreMs)}): pgBackRest restore ${secs(restoreCopyMs)}, recovery ${secs(restoreRecoveryMs)}, start as an accessory ${secs(restoreStartMs)}; ${restoredRows.toLocaleString('en')} rows`);
    await accessories.remove(project, envName, restored.accessory, { deleteVolumes: true });

    // 5. Baseline: pg_dump / pg_restore in the live container, as the postgres user.
    say('baseline: pg_dump -Fc (a logical dump: one point in time, no WAL, no PITR)');
    const dumpFile = '/tmp/bench.dump';
    const tDump = performance.now();
    await mustRun(runtime, live.id, ['pg_dump', '-Fc', '-f', dumpFile, database]);
    const dumpMs = performance.now() - tDump;
    const dumpBytes = Number((await mustRun(runtime, live.id, ['stat', '-c', '%s', dumpFile])).trim());
    say(`pg_dump: ${secs(dumpMs)} (${rate(dbBytes, dumpMs)}), dump ${mbs(dumpBytes)}`);
    say('baseline: createdb + pg_restore into a fresh database of the same server');
    const tRestoreDb = performance.now();
    await mustRun(runtime, live.id, ['createdb', 'bench_restore']);
    const createdbMs = performance.now() - tRestoreDb;
    // Its index builds as well: serial, like the CREATE INDEX of the fill (the 64 MB /dev/shm).
    await mustRun(runtime, live.id, ['pg_restore', '-d', 'bench_restore', dumpFile], { PGOPTIONS: `-c ${NO_PARALLEL_BUILD.replace(/ /g, '')}` });
    const pgRestoreMs = performance.now() - tRestoreDb;
    const baselineRows = Number((await superSql('SELECT count(*) FROM orders;', 'bench_restore'))[0]![0]);
    if (baselineRows !== rows) throw new Error(`bench_restore has ${baselineRows} rows, expected ${rows}`);
    say(`pg_restore: ${secs(pgRestoreMs)} (${rate(dbBytes, pgRestoreMs)}; createdb ${secs(createdbMs)} of it); ${baselineRows.toLocaleString('en')} rows`);
    await mustRun(runtime, live.id, ['dropdb', 'bench_restore']);
    await mustRun(runtime, live.id, ['rm', '-f', dumpFile]);

    // What one core does with the table's heap file (its first 1 GB segment), alone: the costs a
    // single-process pgBackRest backup adds up (read, SHA-1 of every file, gzip level 6).
    const heapPath = `${ACCESSORY_KINDS.postgres.dataDir}/${heapFile}`;
    const segmentBytes = Number((await mustRun(runtime, live.id, ['stat', '-c', '%s', heapPath])).trim());
    const reference: Record<string, number> = {};
    for (const [what, cmd] of [
      ['read (cat)', `cat ${heapPath} > /dev/null`],
      ['sha1sum', `sha1sum ${heapPath} > /dev/null`],
      ['gzip -6', `gzip -6 -c ${heapPath} > /dev/null`],
      ['gzip -1', `gzip -1 -c ${heapPath} > /dev/null`],
    ] as const) {
      const t = performance.now();
      await mustRun(runtime, live.id, ['sh', '-c', cmd]);
      reference[what] = performance.now() - t;
      say(`reference, one core, the ${mbs(segmentBytes)} heap file: ${what} ${secs(reference[what])} (${rate(segmentBytes, reference[what])})`);
    }

    // 6. Summary.
    const r1 = (x: number) => (x / 1000).toFixed(1);
    const table: Array<[string, string, string]> = [
      ['database (pg_database_size)', mbs(dbBytes), mbs(dbBytes)],
      ['backup wall time', `${r1(backupMs)} s`, `${r1(dumpMs)} s`],
      ['backup throughput', rate(dbBytes, backupMs), rate(dbBytes, dumpMs)],
      ['  of which stanza-create + check (WAL archiving)', `${r1(prepMs)} s`, '–'],
      ['  of which the copy (pgbackrest backup, checkpoint to WAL archived)', `${r1(copyMs)} s (${rate(dbBytes, copyMs)})`, '–'],
      ['  of which row counts + restore point + archived', `${r1(markMs)} s`, '–'],
      ['stored size (ratio)', `${mbs(backup.storedBytes ?? 0)} (${ratio(backup.sizeBytes ?? 0, backup.storedBytes ?? 0)} of ${mbs(backup.sizeBytes ?? 0)})`, `${mbs(dumpBytes)} (${ratio(dbBytes, dumpBytes)} of ${mbs(dbBytes)})`],
      ['verification wall time', `${r1(verifyMs)} s`, 'none built in'],
      ...Object.entries(checkMs).map(([n, ms], i): [string, string, string] => [`  ${n}${i === 0 ? ' (scratch container start included)' : ''}`, `${r1(ms)} s`, '–']),
      ['restore wall time', `${r1(restoreMs)} s (new accessory)`, `${r1(pgRestoreMs)} s (new database)`],
      ['restore throughput', rate(dbBytes, restoreMs), rate(dbBytes, pgRestoreMs)],
      ['  of which pgBackRest restore / WAL recovery / accessory start', `${r1(restoreCopyMs)} / ${r1(restoreRecoveryMs)} / ${r1(restoreStartMs)} s`, '–'],
      ['point in time recovery', 'yes (WAL archive)', 'no (single point)'],
    ];
    console.log('');
    console.log(`${machine.cpus} cpus (os.cpus().length), ${machine.memGiB} GiB; load average ${machine.loadAvgStart} at the start, ${os.loadavg()[0]!.toFixed(2)} at the end`);
    console.log(`fill: ${rows.toLocaleString('en')} rows in ${r1(fillMs)} s, ${mbs(walBytes)} of WAL; archiver caught up ${r1(archiveLagMs)} s after, archive ${mbs(archiveBytes)}`);
    console.log(`orders: ${rows.toLocaleString('en')} rows, heap ${mbs(Number(heapBytes))}, indexes ${mbs(Number(indexBytes))}; data_checksums ${checksums}`);
    console.log(`one core on the ${mbs(segmentBytes)} heap file: ${Object.entries(reference).map(([w, ms]) => `${w} ${rate(segmentBytes, ms)}`).join(', ')}`);
    console.log('pg_dump is a logical dump (one point in time, no PITR); pgBackRest is a physical copy plus the WAL archive.\n');
    console.log('| metric | Slipway (pgBackRest) | pg_dump/pg_restore |');
    console.log('|---|---|---|');
    for (const [m, a, b] of table) console.log(`| ${m} | ${a} | ${b} |`);
    const file = writeResult('backups', {
      machine: { ...machine, loadAvgEnd: os.loadavg()[0]!.toFixed(2) },
      targetMb,
      rows,
      dbBytes,
      clusterBytes,
      fill: { ms: Math.round(fillMs), walBytes, archiveLagMs: Math.round(archiveLagMs), archiveBytes },
      relation: { heapBytes: Number(heapBytes), indexBytes: Number(indexBytes), dataChecksums: checksums },
      reference: { segmentBytes, ms: Object.fromEntries(Object.entries(reference).map(([w, ms]) => [w, Math.round(ms)])) },
      slipway: {
        backup: { ms: Math.round(backupMs), prepMs: Math.round(prepMs), copyMs: Math.round(copyMs), markMs: Math.round(markMs), label: backup.label, sizeBytes: backup.sizeBytes, storedBytes: backup.storedBytes, phases: backupPhases.lines },
        verify: { ms: Math.round(verifyMs), checks: verified.verification?.checks, checkMs, restoreCopyMs: Math.round(verifyRestoreCopyMs), recoveryMs: Math.round(verifyRecoveryMs) },
        restore: { ms: Math.round(restoreMs), copyMs: Math.round(restoreCopyMs), recoveryMs: Math.round(restoreRecoveryMs), startMs: Math.round(restoreStartMs), phases: restorePhases.lines },
      },
      baseline: { dumpMs: Math.round(dumpMs), dumpBytes, restoreMs: Math.round(pgRestoreMs), createdbMs: Math.round(createdbMs) },
    });
    console.log(`\nwritten to ${file}`);
  } finally {
    say('cleaning up');
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function config(project: string): ProjectConfig {
  const r = parseProjectConfig(`project: ${project}
services:
  web:
    image: slipway/static:latest
    port: 8080
    uses: [db]
accessories:
  db:
    kind: postgres
    backup:
      schedule: false
      verify:
        sql: ["select count(*) from orders", "select max(created_at) from orders"]
`);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

async function liveContainer(runtime: DockerRuntime, project: string, env: string, accessory: string) {
  const [c] = (await runtime.listAccessories({ project, env, accessory })).filter((x) => x.state === 'running' && x.labels.spec !== 'scratch');
  if (!c?.address) throw new Error(`accessory ${accessory} is not running`);
  return c;
}

async function countRows(client: pg.Client): Promise<number> {
  try {
    return Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM orders')).rows[0]!.n);
  } finally {
    await client.end();
  }
}

/** Runs argv as the postgres user in the container; its output, or an error with the command and its last lines. */
async function mustRun(runtime: DockerRuntime, id: string, argv: string[], env?: Record<string, string>): Promise<string> {
  const r = await asPostgres(runtime, id, argv, { timeoutMs: 6 * HOUR_MS, ...(env ? { env } : {}) });
  if (r.exitCode !== 0) throw new Error(`${argv.join(' ')} ${r.timedOut ? 'timed out' : `exited ${r.exitCode}`}: ${r.output.split('\n').slice(-10).join('\n')}`);
  return r.output;
}

async function duBytes(runtime: DockerRuntime, id: string, dir: string): Promise<number> {
  const out = await mustRun(runtime, id, ['du', '-sb', dir]);
  return Number(out.trim().split(/\s+/)[0]);
}

/** Progress lines with their arrival time: printed as they come, and the time between two of them. */
class Phases {
  readonly lines: Array<{ ms: number; line: string }> = [];
  private readonly t0 = performance.now();
  constructor(private readonly say: (line: string) => void) {}

  line(l: string): void {
    this.lines.push({ ms: Math.round(performance.now() - this.t0), line: l });
    this.say(`  ${l}`);
  }

  private at(re: RegExp): number | null {
    return this.lines.find((x) => re.test(x.line))?.ms ?? null;
  }

  /** From the first line matching `from` to the first matching `to` (0 when either is missing). */
  between(from: RegExp, to: RegExp): number {
    const a = this.at(from);
    const b = this.at(to);
    return a !== null && b !== null ? b - a : 0;
  }

  /** From the first line matching `from` to `end` (a performance.now() value). */
  sinceLast(from: RegExp, end: number): number {
    const a = this.at(from);
    return a !== null ? end - this.t0 - a : 0;
  }

  /** Verification: each check (`✓ name: …`) timed from the previous check's line (the first from the start, scratch container included). */
  checkDurations(): Record<string, number> {
    const out: Record<string, number> = {};
    let prev = 0;
    for (const x of this.lines) {
      const m = /^[✓✗] ([^:]+):/.exec(x.line);
      if (!m) continue;
      out[m[1]!] = x.ms - prev;
      prev = x.ms;
    }
    return out;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mbs = (bytes: number) => `${(bytes / MB).toFixed(0)} MB`;
const rate = (bytes: number, ms: number) => (ms > 0 ? `${(bytes / MB / (ms / 1000)).toFixed(1)} MB/s` : '–');
const ratio = (raw: number, stored: number) => (stored > 0 ? `${(raw / stored).toFixed(2)}×` : '–');
