/**
 * Kysely's SQLite dialect with two changes that make one database file safe to share
 * between processes (a second Slipway, the `sqlite3` shell, a backup job):
 *
 * 1. Transactions start with `BEGIN IMMEDIATE`. A plain (deferred) `BEGIN` takes the write
 *    lock only at the first write. Every transaction in the store reads before it writes
 *    (max+1 numbering, existence checks, migrations), so with another writer on the file a
 *    deferred transaction can find its snapshot stale at its first write and fail at once
 *    with SQLITE_BUSY ("database is locked") instead of waiting. IMMEDIATE takes the write
 *    lock up front, so writers queue on `busy_timeout` and each sees the last committed state.
 * 2. The adapter reports transactional DDL (SQLite has it; Kysely's adapter says no), so the
 *    Migrator runs pending migrations inside one such transaction: two processes migrating
 *    the same file serialize instead of both trying to create the tables, and a failing
 *    migration leaves no half-applied schema.
 */
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type SqliteDialectConfig,
} from 'kysely';

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

export class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}
