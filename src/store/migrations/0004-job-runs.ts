import { type Kysely, type Migration } from 'kysely';

/** History of scheduled job runs (and skipped ticks), listed by `slipway jobs`. */
export const m0004JobRuns: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('job_runs')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('service_id', 'integer', (c) => c.notNull().references('services.id').onDelete('cascade'))
      .addColumn('environment_id', 'integer', (c) => c.notNull().references('environments.id').onDelete('cascade'))
      .addColumn('release_id', 'integer', (c) => c.notNull())
      .addColumn('scheduled_at', 'text', (c) => c.notNull())
      .addColumn('started_at', 'text')
      .addColumn('finished_at', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('exit_code', 'integer')
      .addColumn('note', 'text')
      .addColumn('output', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('job_runs_env_service').on('job_runs').columns(['environment_id', 'service_id', 'id']).execute();
  },
  async down() {
    throw new Error('migrations are forward-only');
  },
};
