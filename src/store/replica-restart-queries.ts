/**
 * The replica-restart role of the Store port (restarts of replica slots, migration 0025) over
 * Kysely. Query-builder only, so a Postgres opener can reuse it; counts and bigint columns may
 * come back as strings there, hence the Number() in mappers.
 */
import type { ReplicaRestart, SlotRestartCount } from '../core/replica-restarts';
import type { ReplicaRestartStore } from '../core/ports/store';
import type { Db, Row } from './query-support';

export function replicaRestartQueries(db: Db): ReplicaRestartStore {
  const counts = (since: number) =>
    db
      .selectFrom('replica_restarts')
      .select((eb) => ['project', 'env', 'service', 'release', 'slot', eb.fn.countAll<number>().as('count'), eb.fn.max('at').as('last_at')])
      .where('at', '>=', since)
      .groupBy(['project', 'env', 'service', 'release', 'slot'])
      .orderBy('project')
      .orderBy('env')
      .orderBy('service')
      .orderBy('release')
      .orderBy('slot');

  return {
    async recordReplicaRestart(r: ReplicaRestart): Promise<void> {
      await db
        .insertInto('replica_restarts')
        .values({ project: r.project, env: r.env, service: r.service, release: r.release, slot: r.slot, at: r.at, reason: r.reason, exit_code: r.exitCode, replica: r.replica, deployment_id: r.deploymentId })
        .execute();
    },

    async restartCounts(q: { project: string; env: string; service?: string; since: number }): Promise<SlotRestartCount[]> {
      let query = counts(q.since).where('project', '=', q.project).where('env', '=', q.env);
      if (q.service !== undefined) query = query.where('service', '=', q.service);
      return (await query.execute()).map(toCount);
    },

    async allRestartCounts(since: number): Promise<Array<SlotRestartCount & { project: string; env: string }>> {
      return (await counts(since).execute()).map((r) => ({ project: r.project, env: r.env, ...toCount(r) }));
    },

    async serviceRestartsSince(q: { project: string; env: string; service: string; since: number }): Promise<number> {
      const row = await db
        .selectFrom('replica_restarts')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('project', '=', q.project)
        .where('env', '=', q.env)
        .where('service', '=', q.service)
        .where('at', '>=', q.since)
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },

    async listReplicaRestarts(q: { project: string; env: string; service?: string; since: number; limit?: number }): Promise<ReplicaRestart[]> {
      let query = db.selectFrom('replica_restarts').selectAll().where('project', '=', q.project).where('env', '=', q.env).where('at', '>=', q.since);
      if (q.service !== undefined) query = query.where('service', '=', q.service);
      const rows = await query.orderBy('at', 'desc').orderBy('id', 'desc').limit(q.limit ?? 100).execute();
      return rows.map(toRestart);
    },

    async pruneReplicaRestarts(before: number): Promise<number> {
      const r = await db.deleteFrom('replica_restarts').where('at', '<', before).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}

function toCount(r: { service: string; release: number; slot: number; count: number | string; last_at: number | string | null }): SlotRestartCount {
  return { service: r.service, release: Number(r.release), slot: Number(r.slot), count: Number(r.count), lastAt: Number(r.last_at) };
}

function toRestart(r: Row<'replica_restarts'>): ReplicaRestart {
  return {
    project: r.project,
    env: r.env,
    service: r.service,
    release: Number(r.release),
    slot: Number(r.slot),
    at: Number(r.at),
    reason: r.reason,
    exitCode: r.exit_code === null ? null : Number(r.exit_code),
    replica: r.replica,
    deploymentId: r.deployment_id,
  };
}
