import { type Kysely, type Migration } from 'kysely';

/**
 * The outbox: domain events written in the same transaction as the state change they
 * describe, notification targets, and one delivery record per (event, target), so the
 * notifier delivers at least once across crashes and shows what it did.
 */
export const m0007Outbox: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('outbox')
      .addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('event_id', 'text', (c) => c.notNull().unique())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('project', 'text')
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('notification_targets')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('key_id', 'text')
      .addColumn('sealed', 'text')
      .addColumn('project', 'text')
      .addColumn('events', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('notification_deliveries')
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('target_id', 'text', (c) => c.notNull().references('notification_targets.id').onDelete('cascade'))
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('next_attempt_at', 'text', (c) => c.notNull())
      .addColumn('last_error', 'text')
      .addColumn('delivered_at', 'text')
      .addPrimaryKeyConstraint('notification_deliveries_pk', ['event_id', 'target_id'])
      .execute();
    await db.schema.createIndex('notification_deliveries_due').on('notification_deliveries').columns(['status', 'next_attempt_at']).execute();
  },
  async down() {
    throw new Error('migrations are forward-only');
  },
};
