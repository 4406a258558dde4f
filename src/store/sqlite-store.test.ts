import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openSqliteStore } from './sqlite-store';
import { runStoreContract } from './store-contract';
import { MIGRATIONS } from './migrations';

const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const tmpFile = () => path.join(dir, `s${n++}.db`);

const persistentFile = tmpFile();
runStoreContract('sqlite file', () => openSqliteStore({ file: tmpFile() }), { openPersistent: () => openSqliteStore({ file: persistentFile }) });
runStoreContract('sqlite :memory:', () => openSqliteStore({ file: ':memory:' }));

describe('SQLite specifics', () => {
  test('creates parent directories, uses WAL, records the migrations', async () => {
    const file = path.join(dir, 'nested', 'deeper', 'slipway.db');
    const store = await openSqliteStore({ file });
    await store.migrate();
    await store.close();
    assert.ok(existsSync(file));
    const raw = new Database(file, { readonly: true });
    try {
      assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
      const applied = raw.prepare('select name from kysely_migration order by name').all() as { name: string }[];
      assert.deepEqual(applied.map((r) => r.name), Object.keys(MIGRATIONS).sort());
      const tables = (raw.prepare("select name from sqlite_master where type = 'table' and name not like 'kysely%' and name not like 'sqlite%' order by name").all() as { name: string }[]).map((r) => r.name);
      assert.deepEqual(tables, ['accessories', 'accessory_credentials', 'alert_silences', 'alerts', 'api_tokens', 'applied_migrations', 'audit_log', 'backups', 'certificates', 'current_releases', 'deployment_logs', 'deployment_steps', 'deployments', 'environments', 'host_stats', 'job_runs', 'leases', 'notification_deliveries', 'notification_targets', 'outbox', 'projects', 'releases', 'replica_placements', 'replica_restarts', 'replica_series', 'replica_stats', 'request_metrics', 'secrets', 'services', 'settings', 'users', 'webhook_deliveries', 'webhook_pushes', 'webhooks']);
    } finally {
      raw.close();
    }
  });

  test('foreign keys are enforced', async () => {
    const store = await openSqliteStore({ file: ':memory:' });
    await store.migrate();
    // current_releases has no existence pre-check: the foreign key must refuse an unknown service.
    await assert.rejects(store.setCurrentReleaseId(999_999, 999_999, null), /FOREIGN KEY/);
    await store.close();
  });

  test('an unopenable path is a clear SLW_INTERNAL error', async () => {
    const blocker = path.join(dir, 'a-file');
    await (await openSqliteStore({ file: blocker })).close();
    await assert.rejects(openSqliteStore({ file: path.join(blocker, 'x.db') }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'SLW_INTERNAL');
      assert.match(err.message, /cannot open the store at .*a-file/);
      return true;
    });
  });

  test('three processes migrating and appending to one file at once: seq 1..N, no "database is locked"', { timeout: 60_000 }, async (t) => {
    const file = tmpFile();
    const deploymentId = randomUUID();
    const perChild = 40;
    const writer = fileURLToPath(new URL('./test-support/concurrent-writer.ts', import.meta.url));
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const children = [1, 2, 3].map(() => {
      const child = spawn(process.execPath, ['--import', 'tsx', writer, file, deploymentId, String(perChild)], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
      t.after(() => child.kill());
      const exited = once(child, 'exit') as Promise<[number | null]>;
      const ready = new Promise<void>((resolve, reject) => {
        const check = () => (out.includes('ready\n') ? resolve() : undefined);
        child.stdout.on('data', check);
        void exited.then(([code]) => reject(new Error(`writer exited ${code} before ready: ${err}`)));
      });
      return { child, ready, exited, output: () => out, errors: () => err };
    });
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.child.stdin.end('go\n');
    const seqs: number[] = [];
    for (const c of children) {
      const [code] = await c.exited;
      assert.equal(code, 0, `writer failed: ${c.errors()}`);
      const last = c.output().trim().split('\n').at(-1)!;
      seqs.push(...(JSON.parse(last) as number[]));
    }
    assert.deepEqual(seqs.sort((a, b) => a - b), Array.from({ length: 3 * perChild }, (_, i) => i + 1));
    const store = await openSqliteStore({ file });
    assert.deepEqual((await store.listLogs(deploymentId)).map((l) => l.seq), Array.from({ length: 3 * perChild }, (_, i) => i + 1));
    await store.close();
  });
});
