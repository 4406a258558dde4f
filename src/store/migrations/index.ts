/** Versioned, forward-only migrations, applied in name order. Add a new file; never edit a shipped one. */
import type { Migration, MigrationProvider } from 'kysely';
import { m0001Initial } from './0001-initial';

export const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': m0001Initial,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
