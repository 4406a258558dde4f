import { type Kysely, type Migration } from 'kysely';

/**
 * Certificates the edge serves, one per domain: where it comes from (ACME, the user's own, the
 * local development CA), the chain, the private key sealed under the master key, its validity,
 * and the state of obtaining or renewing it (last error, failures, next attempt).
 */
export const m0012Certificates: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('certificates')
      .addColumn('domain', 'text', (c) => c.primaryKey())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('cert_pem', 'text')
      .addColumn('key_id', 'text')
      .addColumn('sealed_key', 'text')
      .addColumn('domains', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('not_before', 'text')
      .addColumn('not_after', 'text')
      .addColumn('issuer', 'text')
      .addColumn('fingerprint256', 'text')
      .addColumn('renew_at', 'text')
      .addColumn('issued_at', 'text')
      .addColumn('last_error', 'text')
      .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
  },
  async down() {
    throw new Error('migrations are forward-only');
  },
};
