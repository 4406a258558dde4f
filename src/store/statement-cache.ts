/**
 * A better-sqlite3 database as Kysely's SQLite dialect sees it, with prepared statements
 * kept by SQL text. Kysely prepares every query it runs; preparing costs more than running
 * most of our queries (a status page of 50 services runs a few hundred), and the store's
 * queries are a small fixed set of texts, so each is prepared once. A statement still
 * iterating (a streamed query) is busy: a concurrent use of the same text gets a fresh one.
 * SQLite re-prepares a cached statement by itself after a schema change (a migration).
 */
import type Database from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/** Enough for every query text the store builds; `in (…)` lists of many lengths rotate out oldest first. */
export const STATEMENT_CACHE_SIZE = 500;

export function cachingDatabase(db: Database.Database, size = STATEMENT_CACHE_SIZE): SqliteDatabase & { readonly cached: number } {
  const cache = new Map<string, Database.Statement>();
  return {
    get cached() {
      return cache.size;
    },
    close: () => {
      cache.clear();
      db.close();
    },
    prepare(sql: string): SqliteStatement {
      const hit = cache.get(sql);
      if (hit && !hit.busy) {
        // Most recently used last, so eviction takes the least recently used.
        cache.delete(sql);
        cache.set(sql, hit);
        return hit;
      }
      const stmt = db.prepare(sql);
      if (!hit) {
        cache.set(sql, stmt);
        if (cache.size > size) cache.delete(cache.keys().next().value!);
      }
      return stmt;
    },
  };
}
