import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Issue 18: a token records the token that created it (parent_token_id), so removing a user
 * or revoking a token can revoke every token made from it down the chain; older rows get it
 * from created_by (`token:<name> (<id>)`). Audit rows get a count: repeated refusals from one
 * IP on one route within a minute are one row, so a flood cannot bury the log.
 */
export const m0013TokenCreatorsAuditCounts: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('api_tokens').addColumn('parent_token_id', 'text').execute();
    await sql`UPDATE api_tokens SET parent_token_id = (SELECT p.id FROM api_tokens p WHERE api_tokens.created_by LIKE '%(' || p.id || ')' ORDER BY length(p.id) DESC LIMIT 1) WHERE created_by LIKE 'token:%'`.execute(db);
    await db.schema.createIndex('api_tokens_parent').on('api_tokens').column('parent_token_id').execute();
    await db.schema.alterTable('audit_log').addColumn('count', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  },
  async down() {
    throw new Error('migrations are forward-only');
  },
};
