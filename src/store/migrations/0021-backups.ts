import { type Kysely, type Migration } from 'kysely';

/**
 * Backups of accessories (issue 21): one row per backup Slipway took (the pgBackRest set it
 * made, its sizes and WAL range, the per-table row counts recorded with its restore point) and
 * the outcome of its latest verification. Keyed by environment and accessory name, so a record
 * outlives its accessory's container (the repository volume does too); deleted with the environment.
 */
export const m0021Backups: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('backups')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('environment_id', 'integer', (c) => c.notNull().references('environments.id').onDelete('cascade'))
      .addColumn('accessory', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('trigger', 'text', (c) => c.notNull())
      .addColumn('deployment_id', 'text')
      .addColumn('triggered_by', 'text')
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('label', 'text')
      .addColumn('restore_point', 'text')
      .addColumn('size_bytes', 'integer')
      .addColumn('stored_bytes', 'integer')
      .addColumn('wal_start', 'text')
      .addColumn('wal_stop', 'text')
      .addColumn('table_counts', 'text')
      .addColumn('error', 'text')
      .addColumn('verify', 'text')
      .addColumn('started_at', 'text', (c) => c.notNull())
      .addColumn('finished_at', 'text')
      .addColumn('expired_at', 'text')
      .execute();
    await db.schema.createIndex('backups_environment_accessory').on('backups').columns(['environment_id', 'accessory', 'started_at']).execute();
    await db.schema.createIndex('backups_deployment').on('backups').column('deployment_id').execute();
  },
  async down() {
    throw new Error('migrations are forward-only');
  },
};
