import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, formatCpu, formatMemory, hostLine } from './stats-format';

test('bytes in binary units, cpu with one decimal, "-" before a sample', () => {
  assert.deepEqual([formatBytes(512), formatBytes(1536), formatBytes(64 * 1024 ** 2), formatBytes(25_276_063_744)], ['512 B', '1.5 KiB', '64 MiB', '24 GiB']);
  assert.deepEqual([formatCpu(null), formatCpu(0.123), formatCpu(150)], ['-', '0.1%', '150.0%']);
  assert.equal(formatMemory(null), '-');
  assert.equal(formatMemory({ at: '', cpuPercent: 1, memoryUsedBytes: 8 * 1024 ** 2, memoryLimitBytes: 512 * 1024 ** 2 }), '8.0 MiB / 512 MiB');
});

test('the host line', () => {
  assert.equal(hostLine(null), 'host: no sample yet');
  assert.equal(
    hostLine({ server: 'local', at: '', cpuPercent: 12.34, cpus: 2, memoryUsedBytes: 2 * 1024 ** 3, memoryTotalBytes: 24 * 1024 ** 3, diskUsedBytes: 25 * 1024 ** 3, diskTotalBytes: 252 * 1024 ** 3, diskAvailableBytes: 78 * 1024 ** 3, diskUsePercent: 24.27 }),
    'host local: cpu 12.3% of 2 CPUs, memory 2.0 GiB / 24 GiB, disk 25 GiB / 252 GiB (24%)',
  );
});
