import { type Kysely, type Migration } from 'kysely';

/**
 * Which server each replica runs on (issue 22: servers in the ports), written when the engine
 * starts one and dropped when it retires it; recovery squares it with what the runtimes list.
 * Several servers will read it to reach a replica whose server stopped answering.
 */
export const m0024ReplicaPlacements: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('replica_placements')
      .addColumn('replica', 'text', (c) => c.primaryKey())
      .addColumn('server', 'text', (c) => c.notNull())
      .addColumn('service_id', 'integer', (c) => c.notNull())
      .addColumn('environment_id', 'integer', (c) => c.notNull())
      .addColumn('release', 'integer', (c) => c.notNull())
      .addColumn('deployment_id', 'text', (c) => c.notNull())
      .addColumn('placed_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('replica_placements_service').on('replica_placements').columns(['service_id', 'environment_id']).execute();
  },
  async down() {
    throw new Error('migrations are forward-only');
  },
};
