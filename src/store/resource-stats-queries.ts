/**
 * The resource-stats role of the Store port (migration 0009), as functions over the
 * Kysely instance the store holds. Query-builder only, so a Postgres opener can
 * reuse it; bigint columns may come back as strings there, hence the Number() in mappers.
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import { MINUTE_MS, type HostSample, type ReplicaSample } from '../core/resource-stats';
import type { ResourceStatsStore } from '../core/ports/store';
import type { Database } from './schema';

type Db = Kysely<Database>;

/** The role as createKyselyStore composes it: the functions below, bound to one Kysely instance. */
export function resourceStatsQueries(db: Db): ResourceStatsStore {
  return {
    addResourceSamples: (replicas, hosts) => addResourceSamples(db, replicas, hosts),
    latestReplicaSamples: (replicas) => latestReplicaSamples(db, replicas),
    latestHostSample: (server) => latestHostSample(db, server),
    listReplicaSamples: (q) => listReplicaSamples(db, q),
    listHostSamples: (server, since) => listHostSamples(db, server, since),
    compactResourceSamples: (c) => compactResourceSamples(db, c),
  };
}

export async function addResourceSamples(db: Db, replicas: ReplicaSample[], hosts: HostSample[]): Promise<void> {
  if (replicas.length === 0 && hosts.length === 0) return;
  await db.transaction().execute(async (trx) => {
    for (const r of replicas) {
      const series = await trx
        .insertInto('replica_series')
        .values({ replica: r.replica, project: r.project, service: r.service, env: r.env, release: r.release, last_at: r.at })
        .onConflict((oc) => oc.column('replica').doUpdateSet((eb) => ({ last_at: eb.ref('excluded.last_at') })))
        .returning('id')
        .executeTakeFirstOrThrow();
      await trx
        .insertInto('replica_stats')
        .values({ series_id: series.id, at: r.at, span_ms: r.spanMs, cpu_percent: r.cpuPercent, memory_used: r.memoryUsedBytes, memory_limit: r.memoryLimitBytes, restarts: r.restarts })
        .onConflict((oc) => oc.columns(['series_id', 'at']).doNothing())
        .execute();
    }
    if (hosts.length > 0) {
      await trx
        .insertInto('host_stats')
        .values(hosts.map(hostRow))
        .onConflict((oc) => oc.columns(['server', 'at']).doNothing())
        .execute();
    }
  });
}

const replicaColumns = ['s.replica', 's.project', 's.service', 's.env', 's.release', 'r.at', 'r.span_ms', 'r.cpu_percent', 'r.memory_used', 'r.memory_limit', 'r.restarts'] as const;

export async function latestReplicaSamples(db: Db, replicas: string[]): Promise<ReplicaSample[]> {
  if (replicas.length === 0) return [];
  const rows = await db
    .selectFrom('replica_series as s')
    .innerJoin('replica_stats as r', (j) => j.onRef('r.series_id', '=', 's.id').onRef('r.at', '=', 's.last_at'))
    .select(replicaColumns)
    .where('s.replica', 'in', replicas)
    .orderBy('s.replica')
    .execute();
  return rows.map(toReplicaSample);
}

export async function latestHostSample(db: Db, server: string): Promise<HostSample | null> {
  const row = await db.selectFrom('host_stats').selectAll().where('server', '=', server).orderBy('at', 'desc').limit(1).executeTakeFirst();
  return row ? toHostSample(row) : null;
}

export async function listReplicaSamples(db: Db, q: { project: string; service: string; env: string; since: number }): Promise<ReplicaSample[]> {
  const rows = await db
    .selectFrom('replica_series as s')
    .innerJoin('replica_stats as r', 'r.series_id', 's.id')
    .select(replicaColumns)
    .where('s.project', '=', q.project)
    .where('s.service', '=', q.service)
    .where('s.env', '=', q.env)
    .where('s.last_at', '>=', q.since)
    .where('r.at', '>=', q.since)
    .orderBy('s.replica')
    .orderBy('r.at')
    .execute();
  return rows.map(toReplicaSample);
}

export async function listHostSamples(db: Db, server: string, since: number): Promise<HostSample[]> {
  const rows = await db.selectFrom('host_stats').selectAll().where('server', '=', server).where('at', '>=', since).orderBy('at').execute();
  return rows.map(toHostSample);
}

/**
 * Averages are computed by the database, read back (one row per series and minute: small)
 * and written after the raw rows are deleted, so a raw sample taken exactly on a minute
 * boundary cannot collide with its minute's average.
 */
export async function compactResourceSamples(db: Db, c: { rollupBefore: number; deleteBefore: number }): Promise<{ averaged: number; deleted: number }> {
  // Literals, not parameters: better-sqlite3 binds numbers as REAL, which would make the division fractional.
  const minute = sql<number>`(at / ${sql.lit(MINUTE_MS)}) * ${sql.lit(MINUTE_MS)}`;
  return db.transaction().execute(async (trx) => {
    const replicaAverages = await trx
      .selectFrom('replica_stats')
      .select((eb) => [
        'series_id',
        minute.as('minute'),
        eb.fn.avg<number | null>('cpu_percent').as('cpu'),
        eb.fn.avg<number>('memory_used').as('memory_used'),
        eb.fn.max('memory_limit').as('memory_limit'),
        eb.fn.max('restarts').as('restarts'),
        eb.fn.countAll<number>().as('n'),
      ])
      .where('span_ms', '<', MINUTE_MS)
      .where('at', '<', c.rollupBefore)
      .groupBy(['series_id', minute])
      .execute();
    const hostAverages = await trx
      .selectFrom('host_stats')
      .select((eb) => [
        'server',
        minute.as('minute'),
        eb.fn.avg<number | null>('cpu_percent').as('cpu'),
        eb.fn.max('cpus').as('cpus'),
        eb.fn.avg<number>('memory_used').as('memory_used'),
        eb.fn.max('memory_total').as('memory_total'),
        eb.fn.avg<number>('disk_used').as('disk_used'),
        eb.fn.max('disk_total').as('disk_total'),
        eb.fn.avg<number>('disk_available').as('disk_available'),
        eb.fn.countAll<number>().as('n'),
      ])
      .where('span_ms', '<', MINUTE_MS)
      .where('at', '<', c.rollupBefore)
      .groupBy(['server', minute])
      .execute();

    const rawReplicas = await trx.deleteFrom('replica_stats').where('span_ms', '<', MINUTE_MS).where('at', '<', c.rollupBefore).executeTakeFirst();
    const rawHosts = await trx.deleteFrom('host_stats').where('span_ms', '<', MINUTE_MS).where('at', '<', c.rollupBefore).executeTakeFirst();
    const keep = (r: { minute: number }) => Number(r.minute) >= c.deleteBefore;
    const replicaRows = replicaAverages.filter(keep).map((r) => ({
      series_id: r.series_id,
      at: Number(r.minute),
      span_ms: MINUTE_MS,
      cpu_percent: r.cpu === null ? null : round2(Number(r.cpu)),
      memory_used: Math.round(Number(r.memory_used)),
      memory_limit: Number(r.memory_limit),
      restarts: Number(r.restarts),
    }));
    const hostRows = hostAverages.filter(keep).map((r) => ({
      server: r.server,
      at: Number(r.minute),
      span_ms: MINUTE_MS,
      cpu_percent: r.cpu === null ? null : round2(Number(r.cpu)),
      cpus: Number(r.cpus),
      memory_used: Math.round(Number(r.memory_used)),
      memory_total: Number(r.memory_total),
      disk_used: Math.round(Number(r.disk_used)),
      disk_total: Number(r.disk_total),
      disk_available: Math.round(Number(r.disk_available)),
    }));
    // Chunked: SQLite caps the number of bound parameters per statement.
    for (let i = 0; i < replicaRows.length; i += 100) await trx.insertInto('replica_stats').values(replicaRows.slice(i, i + 100)).execute();
    for (let i = 0; i < hostRows.length; i += 100) await trx.insertInto('host_stats').values(hostRows.slice(i, i + 100)).execute();

    // Per series (a range of the primary key each) rather than a scan of every row.
    const oldReplicas = await trx
      .deleteFrom('replica_stats')
      .where('series_id', 'in', (eb) => eb.selectFrom('replica_series').select('id'))
      .where('at', '<', c.deleteBefore)
      .executeTakeFirst();
    const oldHosts = await trx.deleteFrom('host_stats').where('at', '<', c.deleteBefore).executeTakeFirst();
    // last_at pointed at a raw sample if it was averaged away: point it at the series' newest row.
    await trx
      .updateTable('replica_series')
      .set((eb) => ({ last_at: eb.selectFrom('replica_stats').select((e) => e.fn.max('at').as('m')).whereRef('replica_stats.series_id', '=', 'replica_series.id') }))
      .where('last_at', '<', c.rollupBefore)
      .where((eb) => eb.exists(eb.selectFrom('replica_stats').select('replica_stats.at').whereRef('replica_stats.series_id', '=', 'replica_series.id')))
      .execute();
    await trx
      .deleteFrom('replica_series')
      .where('last_at', '<', c.rollupBefore)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('replica_stats').select('replica_stats.at').whereRef('replica_stats.series_id', '=', 'replica_series.id'))))
      .execute();
    return {
      averaged: Number(rawReplicas.numDeletedRows) + Number(rawHosts.numDeletedRows),
      deleted: Number(oldReplicas.numDeletedRows) + Number(oldHosts.numDeletedRows),
    };
  });
}

function hostRow(h: HostSample): Database['host_stats'] {
  return {
    server: h.server,
    at: h.at,
    span_ms: h.spanMs,
    cpu_percent: h.cpuPercent,
    cpus: h.cpus,
    memory_used: h.memoryUsedBytes,
    memory_total: h.memoryTotalBytes,
    disk_used: h.diskUsedBytes,
    disk_total: h.diskTotalBytes,
    disk_available: h.diskAvailableBytes,
  };
}

function toReplicaSample(r: {
  replica: string;
  project: string;
  service: string;
  env: string;
  release: number;
  at: number;
  span_ms: number;
  cpu_percent: number | null;
  memory_used: number;
  memory_limit: number;
  restarts: number;
}): ReplicaSample {
  return {
    replica: r.replica,
    project: r.project,
    service: r.service,
    env: r.env,
    release: Number(r.release),
    at: Number(r.at),
    spanMs: Number(r.span_ms),
    cpuPercent: r.cpu_percent === null ? null : Number(r.cpu_percent),
    memoryUsedBytes: Number(r.memory_used),
    memoryLimitBytes: Number(r.memory_limit),
    restarts: Number(r.restarts),
  };
}

function toHostSample(r: Selectable<Database['host_stats']>): HostSample {
  return {
    server: r.server,
    at: Number(r.at),
    spanMs: Number(r.span_ms),
    cpuPercent: r.cpu_percent === null ? null : Number(r.cpu_percent),
    cpus: Number(r.cpus),
    memoryUsedBytes: Number(r.memory_used),
    memoryTotalBytes: Number(r.memory_total),
    diskUsedBytes: Number(r.disk_used),
    diskTotalBytes: Number(r.disk_total),
    diskAvailableBytes: Number(r.disk_available),
  };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
