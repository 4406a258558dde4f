import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseContainerStats } from './container-stats';

// Trimmed from `GET /containers/:id/stats?stream=false&one-shot=true` on Docker 20.10, cgroup v1
// (the example app, idle, no memory limit: the limit is the host's memory).
const CGROUP_V1 = {
  read: '2026-11-23T13:45:46.913302578Z',
  preread: '0001-01-01T00:00:00Z',
  pids_stats: { current: 12 },
  cpu_stats: {
    cpu_usage: { total_usage: 142320983, percpu_usage: [53433994, 88886989], usage_in_kernelmode: 60000000, usage_in_usermode: 80000000 },
    system_cpu_usage: 61432830000000,
    online_cpus: 2,
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  },
  precpu_stats: { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
  memory_stats: {
    usage: 88465408,
    max_usage: 88465408,
    stats: { cache: 80437248, inactive_file: 80388096, rss: 6823936, total_cache: 80437248, total_inactive_file: 80388096, total_rss: 6823936 },
    limit: 25276063744,
  },
};

// The shape cgroup v2 hosts send: no total_* keys, inactive_file among the memory.stat fields.
const CGROUP_V2 = {
  cpu_stats: { cpu_usage: { total_usage: 5_000_000_000, usage_in_kernelmode: 1, usage_in_usermode: 2 }, system_cpu_usage: 9_000_000_000_000, online_cpus: 4 },
  memory_stats: { usage: 50_000_000, stats: { anon: 30_000_000, file: 18_000_000, inactive_file: 12_000_000, active_file: 6_000_000 }, limit: 268_435_456 },
};

// A container that stopped between the listing and the stats call.
const STOPPED = {
  read: '0001-01-01T00:00:00Z',
  cpu_stats: { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
  memory_stats: {},
};

test('cgroup v1: memory excludes total_inactive_file; CPU counters and online CPUs as sent', () => {
  assert.deepEqual(parseContainerStats(CGROUP_V1, 1000), {
    at: 1000,
    cpu: { usageNs: 142320983, systemNs: 61432830000000, onlineCpus: 2 },
    memoryUsedBytes: 88465408 - 80388096,
    memoryLimitBytes: 25276063744,
  });
});

test('cgroup v2: memory excludes inactive_file', () => {
  const s = parseContainerStats(CGROUP_V2, 5);
  assert.equal(s?.memoryUsedBytes, 38_000_000);
  assert.equal(s?.memoryLimitBytes, 268_435_456);
  assert.deepEqual(s?.cpu, { usageNs: 5_000_000_000, systemNs: 9_000_000_000_000, onlineCpus: 4 });
});

test('without online_cpus (old engines) the per-CPU usages are counted, as docker stats does', () => {
  const old = { ...CGROUP_V1, cpu_stats: { ...CGROUP_V1.cpu_stats, online_cpus: undefined } };
  assert.equal(parseContainerStats(old, 0)?.cpu.onlineCpus, 2);
});

test('a page cache larger than the usage (racy counters) leaves the usage as it is', () => {
  const racy = { ...CGROUP_V2, memory_stats: { usage: 10, limit: 100, stats: { inactive_file: 20 } } };
  assert.equal(parseContainerStats(racy, 0)?.memoryUsedBytes, 10);
});

test('a stopped container has no reading', () => {
  assert.equal(parseContainerStats(STOPPED, 0), null);
});

test('an answer that is not Docker stats is a clear SLW_RUNTIME error', () => {
  assert.throws(() => parseContainerStats({ message: 'nope' }, 0), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'SLW_RUNTIME');
    assert.match(err.message, /unexpected stats answer: cpu_stats/);
    return true;
  });
});
