/** The placement role of the Store port (which server each replica runs on) over Kysely. */
import type { ReplicaPlacement } from '../core/domain';
import type { PlacementStore } from '../core/ports/store';
import type { Db } from './query-support';

/** Names per `in (…)`: well under SQLite's bound-parameter limit. */
const CHUNK = 500;

export function placementQueries(db: Db): PlacementStore {
  return {
    async recordPlacement(p: ReplicaPlacement): Promise<void> {
      const row = { replica: p.replica, server: p.server, service_id: p.serviceId, environment_id: p.environmentId, release: p.release, deployment_id: p.deploymentId, placed_at: p.placedAt };
      await db
        .insertInto('replica_placements')
        .values(row)
        .onConflict((oc) => oc.column('replica').doUpdateSet({ server: row.server, service_id: row.service_id, environment_id: row.environment_id, release: row.release, deployment_id: row.deployment_id, placed_at: row.placed_at }))
        .execute();
    },

    async listPlacements(filter: { serviceId?: number; environmentId?: number; server?: string }): Promise<ReplicaPlacement[]> {
      let q = db.selectFrom('replica_placements').selectAll();
      if (filter.serviceId !== undefined) q = q.where('service_id', '=', filter.serviceId);
      if (filter.environmentId !== undefined) q = q.where('environment_id', '=', filter.environmentId);
      if (filter.server !== undefined) q = q.where('server', '=', filter.server);
      const rows = await q.orderBy('replica').execute();
      return rows.map((r) => ({ replica: r.replica, server: r.server, serviceId: r.service_id, environmentId: r.environment_id, release: r.release, deploymentId: r.deployment_id, placedAt: r.placed_at }));
    },

    async forgetPlacements(replicas: string[]): Promise<void> {
      for (let i = 0; i < replicas.length; i += CHUNK) await db.deleteFrom('replica_placements').where('replica', 'in', replicas.slice(i, i + CHUNK)).execute();
    },
  };
}
