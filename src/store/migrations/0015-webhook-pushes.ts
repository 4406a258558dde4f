import { type Kysely, type Migration } from 'kysely';

/**
 * Accepted webhook pushes keyed by what was signed, not by the sender's delivery id: GitHub
 * signs the body only, so a captured push replayed under a new `X-GitHub-Delivery` is the
 * same (project, ref, commit, hash of the signed bytes) and is refused. Both delivery
 * tables are pruned by age (`received_at` indexes).
 */
export const m0015WebhookPushes: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('webhook_pushes')
      .addColumn('project', 'text', (c) => c.notNull())
      .addColumn('ref', 'text', (c) => c.notNull())
      .addColumn('commit_sha', 'text', (c) => c.notNull())
      .addColumn('body_sha256', 'text', (c) => c.notNull())
      .addColumn('delivery_id', 'text', (c) => c.notNull())
      .addColumn('received_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('webhook_pushes_pk', ['project', 'ref', 'commit_sha', 'body_sha256'])
      .execute();
    await db.schema.createIndex('webhook_pushes_received_at').on('webhook_pushes').column('received_at').execute();
    await db.schema.createIndex('webhook_deliveries_received_at').on('webhook_deliveries').column('received_at').execute();
  },
  async down() {
    throw new Error('migrations are forward-only');
  },
};
