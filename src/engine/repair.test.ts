import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Release } from '../core/domain';
import type { Replica } from '../core/ports/runtime';
import { describeDeath, memoryLimitMiB } from './repair';

const release = { number: 4, config: { resources: { memoryBytes: 64 * 1024 * 1024, cpus: null } } } as unknown as Release;
const dead = (over: Partial<Replica>) => ({ name: 'shop-worker-4-abc', state: 'exited', exitCode: 137, labels: { release: 4 }, ...over }) as unknown as Replica;

test('an OOM-killed replica is described as such, with its own memory limit in MiB', () => {
  const r = dead({ oomKilled: true, resources: { memoryBytes: 32 * 1024 * 1024, cpus: null } });
  assert.equal(describeDeath(r, release), "was killed by the kernel's OOM killer (memory limit 32 MiB)");
  assert.equal(memoryLimitMiB(r, release), 32);
});

test("without the container's limit, the release's applies to its own replicas only; no limit means the host ran out", () => {
  assert.equal(memoryLimitMiB(dead({ oomKilled: true }), release), 64);
  assert.equal(memoryLimitMiB(dead({ oomKilled: true, labels: { release: 3 } as Replica['labels'] }), release), null);
  assert.equal(describeDeath(dead({ oomKilled: true, labels: { release: 3 } as Replica['labels'] }), release), "was killed by the kernel's OOM killer (no memory limit: the host ran out of memory)");
  assert.equal(memoryLimitMiB(dead({ resources: { memoryBytes: 100_000_000, cpus: 1 } })), 95.4);
});

test('other deaths keep their exit-code description; 137 without the OOM flag is not called OOM', () => {
  assert.equal(describeDeath(dead({}), release), 'exited with code 137 (killed: SIGKILL or out of memory)');
  assert.equal(describeDeath(dead({ oomKilled: false, exitCode: 143 })), 'exited with code 143 (SIGTERM)');
});
