import { type Kysely, type Migration } from 'kysely';

/**
 * An environment's approval policy (`approval: required` in slipway.yml), recorded by each
 * deploy or promotion that resolves it, so a redeploy (which carries no slipway.yml) can
 * honour it. Existing environments start at 'none' until their next deploy.
 */
export const m0010EnvironmentApproval: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('environments').addColumn('approval', 'text', (c) => c.notNull().defaultTo('none')).execute();
  },
  async down() {
    throw new Error('migrations are forward-only');
  },
};
