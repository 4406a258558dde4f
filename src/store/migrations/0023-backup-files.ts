import { type Kysely, type Migration } from 'kysely';

/**
 * Snapshot backups (redis, nats, container accessories; issue 21): the files a backup wrote to
 * the host's backup folder, each with its size and SHA-256 (JSON), so verification detects a
 * corrupted or missing file before it restores anything. Null for pgBackRest backups, whose
 * repository checksums itself.
 */
export const m0023BackupFiles: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('backups').addColumn('files', 'text').execute();
  },
  async down() {
    throw new Error('migrations are forward-only');
  },
};
