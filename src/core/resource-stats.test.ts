import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compactionCutoffs, containerCpuPercent, diskUsePercent, hostCpuPercent, MINUTE_MS } from './resource-stats';

test('container CPU % is the share of host CPU time times the online CPUs (docker stats)', () => {
  // 2 CPUs, 5 s of wall time = 10 s of host CPU time; the container used 2.5 s: 1/4 of the host = 50 % of one core.
  const prev = { usageNs: 1_000_000_000, systemNs: 100_000_000_000_000, onlineCpus: 2 };
  const cur = { usageNs: 3_500_000_000, systemNs: 100_010_000_000_000, onlineCpus: 2 };
  assert.equal(containerCpuPercent(prev, cur), 50);
  // Two cores flat out on a 4-CPU host read 200.
  assert.equal(containerCpuPercent({ usageNs: 0, systemNs: 0, onlineCpus: 4 }, { usageNs: 10e9, systemNs: 20e9, onlineCpus: 4 }), 200);
});

test('container CPU % is null when readings cannot be compared', () => {
  const cur = { usageNs: 5e9, systemNs: 2e12, onlineCpus: 2 };
  assert.equal(containerCpuPercent(null, cur), null, 'first reading');
  assert.equal(containerCpuPercent({ usageNs: 9e9, systemNs: 1e12, onlineCpus: 2 }, cur), null, 'counter went back (container restarted)');
  assert.equal(containerCpuPercent({ usageNs: 1e9, systemNs: 2e12, onlineCpus: 2 }, cur), null, 'no host time elapsed');
});

test('host CPU % from busy/total tick deltas, capped at 100', () => {
  assert.equal(hostCpuPercent({ busy: 100, total: 1000 }, { busy: 130, total: 1200 }), 15);
  assert.equal(hostCpuPercent(undefined, { busy: 1, total: 2 }), null);
  assert.equal(hostCpuPercent({ busy: 1, total: 2 }, { busy: 1, total: 2 }), null);
});

test('compaction cutoffs: raw window ends on a minute boundary; retention is exact', () => {
  const now = Date.UTC(2026, 0, 1, 12, 30, 42, 500);
  const c = compactionCutoffs(now, { rawWindowMs: 15 * MINUTE_MS, retentionMs: 24 * 60 * MINUTE_MS });
  assert.equal(new Date(c.rollupBefore).toISOString(), '2026-01-01T12:15:00.000Z');
  assert.equal(new Date(c.deleteBefore).toISOString(), '2025-12-31T12:30:42.500Z');
});

test('disk use % like df: used / (used + available)', () => {
  assert.equal(diskUsePercent({ diskUsedBytes: 25, diskAvailableBytes: 75 }), 25);
  assert.equal(diskUsePercent({ diskUsedBytes: 0, diskAvailableBytes: 0 }), null);
});
