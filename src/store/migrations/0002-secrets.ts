import { type Kysely, type Migration } from 'kysely';

/** Sealed, versioned secrets per environment; releases pin the version they run with. */
export const m0002Secrets: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('secrets')
      .addColumn('environment_id', 'integer', (c) => c.notNull().references('environments.id').onDelete('cascade'))
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('key_id', 'text', (c) => c.notNull())
      .addColumn('sealed', 'text', (c) => c.notNull())
      .addColumn('names', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('secrets_pk', ['environment_id', 'version'])
      .execute();
    await db.schema.alterTable('releases').addColumn('secrets_version', 'integer').execute();
  },
  async down() {
    throw new Error('migrations are forward-only');
  },
};
