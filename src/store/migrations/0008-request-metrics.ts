import { type Kysely, type Migration } from 'kysely';

/**
 * Request metrics from the edge's request log: one row per
 * project+env+service+release+route and bucket (span 60 = a minute, 3600 = the hourly rollup
 * long queries read); route `*` holds a service+release's totals over its routes, what
 * queries not grouped by route read. `release` 0 = no replica answered; `histogram` is the latency
 * histogram as little-endian uint32 counts (src/observe/latency-histogram.ts bounds).
 */
export const m0008RequestMetrics: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('request_metrics')
      .addColumn('project', 'text', (c) => c.notNull())
      .addColumn('env', 'text', (c) => c.notNull())
      .addColumn('service', 'text', (c) => c.notNull())
      .addColumn('span', 'integer', (c) => c.notNull())
      .addColumn('start', 'integer', (c) => c.notNull())
      .addColumn('release', 'integer', (c) => c.notNull())
      .addColumn('route', 'text', (c) => c.notNull())
      .addColumn('requests', 'integer', (c) => c.notNull())
      .addColumn('s1xx', 'integer', (c) => c.notNull())
      .addColumn('s2xx', 'integer', (c) => c.notNull())
      .addColumn('s3xx', 'integer', (c) => c.notNull())
      .addColumn('s4xx', 'integer', (c) => c.notNull())
      .addColumn('s5xx', 'integer', (c) => c.notNull())
      .addColumn('bytes', 'integer', (c) => c.notNull())
      .addColumn('duration_ms', 'integer', (c) => c.notNull())
      .addColumn('histogram', 'blob', (c) => c.notNull())
      // One service's range: a prefix scan of the key.
      .addPrimaryKeyConstraint('request_metrics_pk', ['project', 'env', 'service', 'span', 'start', 'release', 'route'])
      .execute();
    // Every service of a project and environment (the overview): the per-service totals (route `*`) of a range.
    await db.schema.createIndex('request_metrics_overview').on('request_metrics').columns(['project', 'env', 'route', 'span', 'start']).execute();
    // Retention.
    await db.schema.createIndex('request_metrics_start').on('request_metrics').column('start').execute();
  },
  async down() {
    throw new Error('migrations are forward-only');
  },
};
