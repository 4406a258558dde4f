import { type Kysely, type Migration } from 'kysely';

/**
 * Restarts of replica slots (issue 23): one row each time a repair replaces a replica of the
 * live release (core/replica-restarts.ts). Docker's RestartCount stays 0 under restart policy
 * `no`, so this is what `restarts` counts in status, the stats API and the dashboard. Keyed by
 * names, like the other time series (request metrics, resource stats); times are epoch ms.
 */
export const m0025ReplicaRestarts: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('replica_restarts')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('project', 'text', (c) => c.notNull())
      .addColumn('env', 'text', (c) => c.notNull())
      .addColumn('service', 'text', (c) => c.notNull())
      .addColumn('release', 'integer', (c) => c.notNull())
      .addColumn('slot', 'integer', (c) => c.notNull())
      .addColumn('at', 'integer', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('exit_code', 'integer')
      .addColumn('replica', 'text')
      .addColumn('deployment_id', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('replica_restarts_service').on('replica_restarts').columns(['project', 'env', 'service', 'at']).execute();
    await db.schema.createIndex('replica_restarts_at').on('replica_restarts').column('at').execute();
  },
  async down() {
    throw new Error('migrations are forward-only');
  },
};
