import { type Kysely, type Migration } from 'kysely';

/**
 * Promotions and approvals: where a promoted image came from, and the plan a deployment
 * awaiting approval will run once approved (JSON, so a restart loses nothing).
 */
export const m0003Promotions: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('deployments').addColumn('source', 'text').execute();
    await db.schema.alterTable('deployments').addColumn('plan', 'text').execute();
  },
  async down() {
    throw new Error('migrations are forward-only');
  },
};
