import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { AuditEntry } from '../core/domain';
import type { Store } from '../core/ports/store';
import { AuditLog } from './audit-log';

/** The two Store calls the audit log makes, in memory (the store's own side is in store-contract.ts). */
function memoryStore() {
  const rows: AuditEntry[] = [];
  const store = {
    appendAudit: async (e: Omit<AuditEntry, 'seq' | 'at' | 'count'> & { count?: number }) => {
      const row = { ...e, seq: rows.length + 1, at: new Date().toISOString(), count: e.count ?? 1 };
      rows.push(row);
      return row;
    },
    listAudit: async () => [...rows].reverse(),
    close: async () => undefined,
    migrate: async () => undefined,
  };
  return store as unknown as Store;
}

const refusal = { actor: 'anonymous', action: 'GET /api/v1/projects', project: null, target: null, clientIp: '203.0.113.5', outcome: 'denied' as const, status: 401, detail: null };

test('repeated refusals are one entry with a count per IP, route and minute; counts add up across minutes', async () => {
  const store = memoryStore();
  await store.migrate();
  let now = Date.UTC(2026, 0, 1, 12, 0, 10);
  const audit = new AuditLog(store, pino({ level: 'silent' }), () => now);
  try {
    for (let i = 0; i < 500; i++) await audit.record(refusal);
    await audit.record({ ...refusal, clientIp: '203.0.113.6' });
    await audit.record({ ...refusal, action: 'POST /api/v1/deployments', outcome: 'ok', status: 202, actor: 'user:a' });
    await audit.record({ ...refusal, action: 'POST /api/v1/deployments', outcome: 'ok', status: 202, actor: 'user:a' });
    assert.equal((await store.listAudit({})).length, 4, 'first refusals and every non-refusal are written at once; repeats wait');
    now += 60_000; // the next minute
    for (let i = 0; i < 20; i++) await audit.record(refusal);
    const entries = await audit.list({});
    const flood = entries.filter((e) => e.clientIp === '203.0.113.5' && e.outcome === 'denied');
    // Minute one: its first refusal and 499 repeats; minute two: its first and 19 repeats.
    assert.deepEqual(flood.map((e) => e.count).sort((a, b) => a - b), [1, 1, 19, 499]);
    assert.equal(entries.filter((e) => e.outcome === 'ok').length, 2, 'changes are never aggregated');
    for (let i = 0; i < 5; i++) await audit.record(refusal);
    await audit.stop();
    const all = (await store.listAudit({})).filter((e) => e.clientIp === '203.0.113.5' && e.outcome === 'denied');
    assert.equal(all.reduce((n, e) => n + e.count, 0), 525, 'nothing counted is lost at shutdown');
    assert.ok(all.length <= 5, `bounded: ${all.length} entries for 525 refusals`);
  } finally {
    await store.close();
  }
});

test('repeats that differ in target keep no target', async () => {
  const store = memoryStore();
  await store.migrate();
  const audit = new AuditLog(store, pino({ level: 'silent' }));
  try {
    for (const target of ['a', 'b', 'c']) await audit.record({ ...refusal, target });
    const [aggregated, first] = await audit.list({});
    assert.deepEqual([first?.target, first?.count], ['a', 1]);
    assert.deepEqual([aggregated?.target, aggregated?.count], [null, 2]);
  } finally {
    await audit.stop();
    await store.close();
  }
});
