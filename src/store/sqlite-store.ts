/** The embedded default store: SQLite through better-sqlite3 (WAL), one file in the data directory. */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Logger } from 'pino';
import type { Store } from '../core/ports/store';
import { KyselyStore } from './kysely-store';
import type { Database as Schema } from './schema';

export async function openSqliteStore(opts: { file: string; logger?: Logger }): Promise<Store> {
  if (opts.file !== ':memory:') mkdirSync(path.dirname(opts.file), { recursive: true });
  const sqlite = new Database(opts.file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('synchronous = NORMAL');
  const db = new Kysely<Schema>({
    dialect: new SqliteDialect({ database: sqlite }),
    log: (e) => {
      if (e.level === 'error') opts.logger?.error({ err: e.error, sql: e.query.sql }, 'store query failed');
    },
  });
  return new KyselyStore(db);
}
