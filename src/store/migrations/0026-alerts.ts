import { type Kysely, type Migration } from 'kysely';

/** Alerts (one row per firing) and their silences (issue 23: alert rules). */
export const m0026Alerts: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('alerts')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('rule', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('project', 'text')
      .addColumn('env', 'text')
      .addColumn('service', 'text')
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('started_at', 'text', (c) => c.notNull())
      .addColumn('ended_at', 'text')
      .addColumn('value', 'real')
      .addColumn('summary', 'text', (c) => c.notNull())
      .addColumn('link', 'text')
      .addColumn('explain', 'text')
      .addColumn('silenced', 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('alerts_state').on('alerts').columns(['state', 'started_at']).execute();
    await db.schema
      .createTable('alert_silences')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('rule', 'text', (c) => c.notNull())
      .addColumn('subject', 'text')
      .addColumn('project', 'text')
      .addColumn('until', 'text', (c) => c.notNull())
      .addColumn('reason', 'text')
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
  },
  async down() {
    throw new Error('migrations are forward-only');
  },
};
