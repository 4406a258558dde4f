import { type Kysely, type Migration } from 'kysely';

/**
 * Accessories (issue 20): what was applied per environment and name (the resolved config as
 * JSON, the image it runs, the hash of the desired container, the current credentials
 * version), and their generated credentials, versioned and sealed under the master key like
 * secrets. Deleting an environment deletes both (the store deletes them explicitly too).
 */
export const m0020Accessories: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('accessories')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('environment_id', 'integer', (c) => c.notNull().references('environments.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('config', 'text', (c) => c.notNull())
      .addColumn('image_digest', 'text', (c) => c.notNull())
      .addColumn('spec_hash', 'text', (c) => c.notNull())
      .addColumn('credentials_version', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('accessories_environment_name', ['environment_id', 'name'])
      .execute();
    await db.schema
      .createTable('accessory_credentials')
      .addColumn('accessory_id', 'integer', (c) => c.notNull().references('accessories.id').onDelete('cascade'))
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('key_id', 'text', (c) => c.notNull())
      .addColumn('sealed', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('accessory_credentials_pk', ['accessory_id', 'version'])
      .execute();
  },
  async down() {
    throw new Error('migrations are forward-only');
  },
};
