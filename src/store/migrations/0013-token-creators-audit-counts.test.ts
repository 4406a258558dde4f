import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator } from 'kysely';
import { ImmediateSqliteDialect } from '../sqlite-dialect';
import { MIGRATIONS } from './index';

const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-m0013-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('0013: tokens made before it get their creator token from created_by; audit rows count 1', async () => {
  const file = path.join(dir, 'old.db');
  const db = new Kysely<unknown>({ dialect: new ImmediateSqliteDialect({ database: new Database(file) }) });
  const upTo = (last: string) => new Migrator({ db, provider: { getMigrations: async () => Object.fromEntries(Object.entries(MIGRATIONS).filter(([name]) => name <= last)) } }).migrateToLatest();
  try {
    assert.equal((await upTo('0012-certificates')).error, undefined);
    const raw = new Database(file);
    const insert = raw.prepare("INSERT INTO api_tokens (id, name, token_hash, scope, project, user_id, created_by, created_at) VALUES (?, ?, ?, 'admin', NULL, NULL, ?, '2026-01-01T00:00:00.000Z')");
    insert.run('tok_local_admin_ab12cd34', 'local admin (data directory)', 'h1', 'system');
    insert.run('tok_aaaaaaaaaaaa', 'ci', 'h2', 'token:local admin (data directory) (tok_local_admin_ab12cd34)');
    insert.run('tok_bbbbbbbbbbbb', 'child (tok_aaaaaaaaaaaa)', 'h3', 'token:ci (tok_aaaaaaaaaaaa)');
    insert.run('tok_cccccccccccc', 'by alice', 'h4', 'user:alice');
    raw.prepare("INSERT INTO audit_log (at, actor, action, client_ip, outcome, status) VALUES ('2026-01-01T00:00:00.000Z', 'anonymous', 'GET /x', '127.0.0.1', 'denied', 401)").run();
    raw.close();
    assert.equal((await upTo('0013-token-creators-audit-counts')).error, undefined);
    const check = new Database(file);
    try {
      const parents = Object.fromEntries((check.prepare('SELECT id, parent_token_id FROM api_tokens').all() as Array<{ id: string; parent_token_id: string | null }>).map((r) => [r.id, r.parent_token_id]));
      assert.deepEqual(parents, {
        tok_local_admin_ab12cd34: null,
        tok_aaaaaaaaaaaa: 'tok_local_admin_ab12cd34',
        tok_bbbbbbbbbbbb: 'tok_aaaaaaaaaaaa',
        tok_cccccccccccc: null,
      });
      assert.equal((check.prepare('SELECT count FROM audit_log').get() as { count: number }).count, 1);
    } finally {
      check.close();
    }
  } finally {
    await db.destroy();
  }
});
