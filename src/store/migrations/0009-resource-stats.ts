import { sql, type Kysely, type Migration } from 'kysely';

// Not imported from core: a shipped migration must not change when the code around it does.
const MINUTE_MS = 60_000;

/**
 * Container and host resource samples (the stats sampler, 24 h). Times are epoch ms
 * integers, not ISO text like the rest of the store: rows are many and small, and minutes
 * are bucketed arithmetically (`at / 60000`). Each replica is a series row, so the samples
 * themselves carry only numbers: ~100 replicas for 24 h stay a few MB.
 */
export const m0009ResourceStats: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('replica_series')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('replica', 'text', (c) => c.notNull().unique())
      .addColumn('project', 'text', (c) => c.notNull())
      .addColumn('service', 'text', (c) => c.notNull())
      .addColumn('env', 'text', (c) => c.notNull())
      .addColumn('release', 'integer', (c) => c.notNull())
      .addColumn('last_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('replica_series_service').on('replica_series').columns(['project', 'service', 'env']).execute();
    await db.schema
      .createTable('replica_stats')
      .addColumn('series_id', 'integer', (c) => c.notNull().references('replica_series.id').onDelete('cascade'))
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('span_ms', 'integer', (c) => c.notNull())
      .addColumn('cpu_percent', 'real')
      .addColumn('memory_used', 'bigint', (c) => c.notNull())
      .addColumn('memory_limit', 'bigint', (c) => c.notNull())
      .addColumn('restarts', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('replica_stats_pk', ['series_id', 'at'])
      .execute();
    // Compaction reads only raw rows (the last ~15 min): a partial index keeps that read small.
    await db.schema.createIndex('replica_stats_raw').on('replica_stats').column('at').where(sql.ref('span_ms'), '<', MINUTE_MS).execute();
    await db.schema
      .createTable('host_stats')
      .addColumn('server', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('span_ms', 'integer', (c) => c.notNull())
      .addColumn('cpu_percent', 'real')
      .addColumn('cpus', 'integer', (c) => c.notNull())
      .addColumn('memory_used', 'bigint', (c) => c.notNull())
      .addColumn('memory_total', 'bigint', (c) => c.notNull())
      .addColumn('disk_used', 'bigint', (c) => c.notNull())
      .addColumn('disk_total', 'bigint', (c) => c.notNull())
      .addColumn('disk_available', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('host_stats_pk', ['server', 'at'])
      .execute();
  },
  async down() {
    throw new Error('migrations are forward-only');
  },
};
