/**
 * The resource-stats part of the Store contract (migration 0009); registered by
 * runStoreContract, so every Store implementation runs it.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../core/ports/store';
import { MINUTE_MS, type HostSample, type ReplicaSample } from '../core/resource-stats';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

const replica = (name: string, at: number, o: Partial<ReplicaSample> = {}): ReplicaSample => ({
  replica: name,
  project: 'shop',
  service: 'web',
  env: 'production',
  release: 1,
  at,
  spanMs: 5000,
  cpuPercent: 10,
  memoryUsedBytes: 100_000_000,
  memoryLimitBytes: 8_000_000_000,
  restarts: 0,
  ...o,
});

const host = (at: number, o: Partial<HostSample> = {}): HostSample => ({
  server: 'local',
  at,
  spanMs: 5000,
  cpuPercent: 20,
  cpus: 2,
  memoryUsedBytes: 1_000_000_000,
  memoryTotalBytes: 4_000_000_000,
  diskUsedBytes: 10_000_000_000,
  diskTotalBytes: 100_000_000_000,
  diskAvailableBytes: 85_000_000_000,
  ...o,
});

export function runResourceStatsContract(open: () => Promise<Store>): void {
  describe('resource stats', () => {
    async function fresh(t: TestContext): Promise<Store> {
      const store = await open();
      t.after(() => store.close());
      await store.migrate();
      return store;
    }

    test('the latest sample per replica and per server; never-sampled replicas are absent', async (t) => {
      const store = await fresh(t);
      await store.addResourceSamples([replica('a', T0), replica('b', T0, { cpuPercent: null })], [host(T0)]);
      await store.addResourceSamples([replica('a', T0 + 5000, { cpuPercent: 42.5, restarts: 1 })], [host(T0 + 5000, { cpuPercent: 33 })]);
      const latest = await store.latestReplicaSamples(['a', 'b', 'never']);
      assert.deepEqual(latest, [replica('a', T0 + 5000, { cpuPercent: 42.5, restarts: 1 }), replica('b', T0, { cpuPercent: null })]);
      assert.deepEqual(await store.latestHostSample('local'), host(T0 + 5000, { cpuPercent: 33 }));
      assert.equal(await store.latestHostSample('elsewhere'), null);
      assert.deepEqual(await store.latestReplicaSamples([]), []);
      // A repeated round (same replica, same time) is ignored, not an error.
      await store.addResourceSamples([replica('a', T0 + 5000, { cpuPercent: 1 })], [host(T0 + 5000)]);
      assert.equal((await store.latestReplicaSamples(['a']))[0]?.cpuPercent, 42.5);
    });

    test('history of one service in one environment since a time, by replica then time', async (t) => {
      const store = await fresh(t);
      await store.addResourceSamples(
        [
          replica('b', T0),
          replica('a', T0 + 5000),
          replica('a', T0),
          replica('other-env', T0, { env: 'staging' }),
          replica('other-service', T0, { service: 'api' }),
          replica('other-project', T0, { project: 'blog' }),
        ],
        [host(T0), host(T0 + 5000), host(T0 - 5000)],
      );
      await store.addResourceSamples([replica('a', T0 + 10_000)], []);
      const rows = await store.listReplicaSamples({ project: 'shop', service: 'web', env: 'production', since: T0 });
      assert.deepEqual(rows.map((r) => [r.replica, r.at - T0]), [['a', 0], ['a', 5000], ['a', 10_000], ['b', 0]]);
      const later = await store.listReplicaSamples({ project: 'shop', service: 'web', env: 'production', since: T0 + 1 });
      assert.deepEqual(later.map((r) => [r.replica, r.at - T0]), [['a', 5000], ['a', 10_000]]);
      assert.deepEqual((await store.listHostSamples('local', T0)).map((h) => h.at - T0), [0, 5000]);
    });

    test('compaction: raw samples before the cut become per-minute averages; older ones are deleted', async (t) => {
      const store = await fresh(t);
      // Minute 0: three raw samples of `a` (one with no CPU yet, one exactly on the minute).
      await store.addResourceSamples(
        [
          replica('a', T0, { cpuPercent: null, memoryUsedBytes: 100 }),
          replica('a', T0 + 20_000, { cpuPercent: 10, memoryUsedBytes: 200, restarts: 1 }),
          replica('a', T0 + 40_000, { cpuPercent: 21, memoryUsedBytes: 301, memoryLimitBytes: 9_000_000_000 }),
          // Minute 1 of `a`, and `gone`, which stopped being sampled in minute 1.
          replica('a', T0 + MINUTE_MS, { cpuPercent: 50 }),
          replica('gone', T0 + MINUTE_MS + 5000, { cpuPercent: 7 }),
          // After the cut: stays raw.
          replica('a', T0 + 2 * MINUTE_MS, { cpuPercent: 90 }),
        ],
        [host(T0, { cpuPercent: 10, diskUsedBytes: 1 }), host(T0 + 5000, { cpuPercent: 30, diskUsedBytes: 2 }), host(T0 + 2 * MINUTE_MS)],
      );
      const result = await store.compactResourceSamples({ rollupBefore: T0 + 2 * MINUTE_MS, deleteBefore: T0 - MINUTE_MS });
      assert.deepEqual(result, { averaged: 5 + 2, deleted: 0 });
      const a = await store.listReplicaSamples({ project: 'shop', service: 'web', env: 'production', since: 0 });
      assert.deepEqual(
        a.map((r) => ({ replica: r.replica, at: r.at - T0, span: r.spanMs, cpu: r.cpuPercent, mem: r.memoryUsedBytes, limit: r.memoryLimitBytes, restarts: r.restarts })),
        [
          // CPU averages the samples that have one; memory rounds; limit and restarts take the maximum.
          { replica: 'a', at: 0, span: MINUTE_MS, cpu: 15.5, mem: 200, limit: 9_000_000_000, restarts: 1 },
          { replica: 'a', at: MINUTE_MS, span: MINUTE_MS, cpu: 50, mem: 100_000_000, limit: 8_000_000_000, restarts: 0 },
          { replica: 'a', at: 2 * MINUTE_MS, span: 5000, cpu: 90, mem: 100_000_000, limit: 8_000_000_000, restarts: 0 },
          { replica: 'gone', at: MINUTE_MS, span: MINUTE_MS, cpu: 7, mem: 100_000_000, limit: 8_000_000_000, restarts: 0 },
        ],
      );
      // The latest of a replica whose last raw sample was averaged is that average.
      assert.deepEqual((await store.latestReplicaSamples(['gone'])).map((r) => [r.at - T0, r.spanMs]), [[MINUTE_MS, MINUTE_MS]]);
      const hosts = await store.listHostSamples('local', 0);
      assert.deepEqual(hosts.map((h) => [h.at - T0, h.spanMs, h.cpuPercent, h.diskUsedBytes]), [[0, MINUTE_MS, 20, 2], [2 * MINUTE_MS, 5000, 20, 10_000_000_000]]);

      // Compacting again changes nothing; then the retention cut removes the first two minutes and `gone` entirely.
      assert.deepEqual(await store.compactResourceSamples({ rollupBefore: T0 + 2 * MINUTE_MS, deleteBefore: T0 - MINUTE_MS }), { averaged: 0, deleted: 0 });
      assert.deepEqual(await store.compactResourceSamples({ rollupBefore: T0 + 2 * MINUTE_MS, deleteBefore: T0 + 2 * MINUTE_MS }), { averaged: 0, deleted: 4 });
      assert.deepEqual((await store.listReplicaSamples({ project: 'shop', service: 'web', env: 'production', since: 0 })).map((r) => [r.replica, r.at - T0]), [['a', 2 * MINUTE_MS]]);
      assert.deepEqual(await store.latestReplicaSamples(['gone']), []);
      // The series of `gone` was removed: sampling it again starts a fresh one.
      await store.addResourceSamples([replica('gone', T0 + 3 * MINUTE_MS)], []);
      assert.deepEqual((await store.latestReplicaSamples(['gone'])).map((r) => r.at - T0), [3 * MINUTE_MS]);
    });
  });
}
