/** The embedded default store: SQLite through better-sqlite3 (WAL), one file in the data directory. */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import { SlipwayError, errorMessage } from '../core/errors';
import type { Store } from '../core/ports/store';
import { createKyselyStore } from './kysely-store';
import type { Database as Schema } from './schema';
import { ImmediateSqliteDialect } from './sqlite-dialect';
import { cachingDatabase } from './statement-cache';

export interface SqliteStoreOptions {
  /** Path of the database file (parent directories are created), or ':memory:'. Slipway uses `<dataDir>/slipway.db`. */
  file: string;
  logger?: Logger;
}

/** Opens (creating if needed) the SQLite store. Call `migrate()` before use. */
export async function openSqliteStore(opts: SqliteStoreOptions): Promise<Store> {
  const memory = opts.file === ':memory:';
  let sqlite: Database.Database;
  try {
    if (!memory) mkdirSync(path.dirname(path.resolve(opts.file)), { recursive: true });
    sqlite = new Database(opts.file);
  } catch (err) {
    throw new SlipwayError('SLW_INTERNAL', `cannot open the store at ${opts.file}: ${errorMessage(err)}`);
  }
  try {
    const journal = sqlite.pragma('journal_mode = WAL', { simple: true });
    if (!memory && journal !== 'wal') opts.logger?.warn({ file: opts.file, journal }, 'store: WAL journal mode unavailable; writers will block readers');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('synchronous = NORMAL');
  } catch (err) {
    sqlite.close();
    throw new SlipwayError('SLW_INTERNAL', `cannot open the store at ${opts.file}: ${errorMessage(err)}`);
  }
  const db = new Kysely<Schema>({
    dialect: new ImmediateSqliteDialect({ database: cachingDatabase(sqlite) }),
    log: (e) => {
      if (e.level === 'error') opts.logger?.error({ err: e.error, sql: e.query.sql }, 'store query failed');
    },
  });
  opts.logger?.debug({ file: opts.file }, 'store opened');
  return createKyselyStore(db, { logger: opts.logger, insertionOrder: sql`rowid` });
}
