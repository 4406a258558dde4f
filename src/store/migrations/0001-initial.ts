import { type Kysely, type Migration } from 'kysely';

/** The walking skeleton's schema: projects, environments, services, releases, deployments, leases. */
export const m0001Initial: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('projects')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('environments')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('environments_project_name', ['project_id', 'name'])
      .execute();
    await db.schema
      .createTable('services')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('services_project_name', ['project_id', 'name'])
      .execute();
    await db.schema
      .createTable('releases')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('service_id', 'integer', (c) => c.notNull().references('services.id').onDelete('cascade'))
      .addColumn('environment_id', 'integer', (c) => c.notNull().references('environments.id').onDelete('cascade'))
      .addColumn('number', 'integer', (c) => c.notNull())
      .addColumn('image_ref', 'text', (c) => c.notNull())
      .addColumn('image_digest', 'text', (c) => c.notNull())
      .addColumn('config', 'text', (c) => c.notNull())
      .addColumn('source_ref', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('releases_service_env_number', ['service_id', 'environment_id', 'number'])
      .execute();
    await db.schema
      .createTable('current_releases')
      .addColumn('service_id', 'integer', (c) => c.notNull().references('services.id').onDelete('cascade'))
      .addColumn('environment_id', 'integer', (c) => c.notNull().references('environments.id').onDelete('cascade'))
      .addColumn('release_id', 'integer', (c) => c.references('releases.id'))
      .addPrimaryKeyConstraint('current_releases_pk', ['service_id', 'environment_id'])
      .execute();
    await db.schema
      .createTable('deployments')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('service_id', 'integer', (c) => c.notNull().references('services.id').onDelete('cascade'))
      .addColumn('environment_id', 'integer', (c) => c.notNull().references('environments.id').onDelete('cascade'))
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('release_id', 'integer', (c) => c.references('releases.id'))
      .addColumn('previous_release_id', 'integer', (c) => c.references('releases.id'))
      .addColumn('error_code', 'text')
      .addColumn('error', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('started_at', 'text')
      .addColumn('finished_at', 'text')
      .execute();
    await db.schema.createIndex('deployments_service_env_state').on('deployments').columns(['service_id', 'environment_id', 'state']).execute();
    await db.schema.createIndex('deployments_state').on('deployments').column('state').execute();
    await db.schema
      .createTable('deployment_steps')
      .addColumn('deployment_id', 'text', (c) => c.notNull().references('deployments.id').onDelete('cascade'))
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('detail', 'text')
      .addColumn('started_at', 'text', (c) => c.notNull())
      .addColumn('finished_at', 'text')
      .addPrimaryKeyConstraint('deployment_steps_pk', ['deployment_id', 'seq'])
      .execute();
    await db.schema
      .createTable('deployment_logs')
      .addColumn('deployment_id', 'text', (c) => c.notNull().references('deployments.id').onDelete('cascade'))
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('level', 'text', (c) => c.notNull())
      .addColumn('message', 'text', (c) => c.notNull())
      .addColumn('at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('deployment_logs_pk', ['deployment_id', 'seq'])
      .execute();
    await db.schema
      .createTable('leases')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('holder', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('settings')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .execute();
  },
  async down() {
    throw new Error('migrations are forward-only');
  },
};
