import { type Kysely, type Migration } from 'kysely';

/**
 * The migration lint's memory (issue 21): per service and environment, the names of the
 * migration files (`migrations.dir`) that were in the release image when a release command
 * succeeded. Files not listed are the ones the next deployment lints. Deleted with the
 * environment or the project (the store deletes them explicitly too).
 */
export const m0022AppliedMigrations: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('applied_migrations')
      .addColumn('service_id', 'integer', (c) => c.notNull().references('services.id').onDelete('cascade'))
      .addColumn('environment_id', 'integer', (c) => c.notNull().references('environments.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('applied_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('applied_migrations_pk', ['service_id', 'environment_id', 'name'])
      .execute();
  },
  async down() {
    throw new Error('migrations are forward-only');
  },
};
