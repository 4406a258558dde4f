import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { childrenOf, cpuTicks, memoryOf, memoryOfAll, parseKiB, pctOfCore } from './proc';
import { quantile } from './call-latency';

test('parseKiB reads the kB lines of /proc status and smaps_rollup, ignoring the rest', () => {
  const text = 'Name:\tnode\nVmHWM:\t  193600 kB\nVmRSS:\t  176776 kB\nThreads:\t12\n55d0-7ffd ---p 00000000 00:00 0 [rollup]\nPss:              130000 kB\n';
  const m = parseKiB(text);
  assert.equal(m.get('VmRSS'), 176776);
  assert.equal(m.get('VmHWM'), 193600);
  assert.equal(m.get('Pss'), 130000);
  assert.equal(m.has('Threads'), false);
});

test('memoryOf and cpuTicks read this process; exited pids count as nothing', () => {
  const m = memoryOf(process.pid);
  assert.ok(m.rssKiB > 10_000, `rss ${m.rssKiB} KiB`);
  assert.ok(m.pssKiB > 0 && m.pssKiB <= m.rssKiB);
  assert.ok(m.peakRssKiB >= m.rssKiB);
  assert.ok(cpuTicks(process.pid) >= 0);
  assert.equal(memoryOfAll([2 ** 22 + 1]).rssKiB, 0);
});

test('childrenOf finds a spawned child', async () => {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)'], { stdio: 'ignore' });
  try {
    await new Promise((r) => child.once('spawn', r));
    assert.ok(childrenOf(process.pid).includes(child.pid!));
  } finally {
    child.kill();
  }
});

test('pctOfCore and quantile', () => {
  assert.equal(pctOfCore(50, 10_000), 5); // 0.5 s of CPU in 10 s
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2);
  assert.equal(quantile([1, 2, 3, 4], 0.99), 4);
});
