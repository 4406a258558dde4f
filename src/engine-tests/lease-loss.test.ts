/**
 * Issue 22 item 4: a deployment or a repair that loses its service lease
 * stops at once and never touches the runtime or the edge again (lease-guard.ts; the warm-set
 * retirer runs under the same guard: src/engine/lease-guard.test.ts). The lease is
 * taken by another holder while the work waits on a replica's readiness (its deadline far
 * away, so only the lost lease can end the wait in time); the heartbeat runs every 10 ms here.
 */
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { StartSpec } from '../testing/memory-runtime';
import { LEASE_TTL_MS, serviceLeaseKey } from '../engine/service-lease';
import { engineWorld, waitFor, ENV, PROJECT, SERVICE, type EngineWorld } from './engine-world.test-support';

let w: EngineWorld;

beforeEach(async () => {
  w = await engineWorld();
  w.ctx.leaseHeartbeatMs = 10;
});

afterEach(async () => {
  await w.close();
});

const ofRelease = (n: number) => (spec: StartSpec) => 'release' in spec.labels && spec.labels.release === n;

/** Port calls from now on: the runtime's and the edge's logs grow only by what is made after. */
function callsFrom(): () => string[] {
  const runtimeAt = w.runtime.calls.length;
  const edgeAt = w.edge.calls.length;
  return () => [...w.runtime.calls.slice(runtimeAt), ...w.edge.calls.slice(edgeAt)];
}

/** Another holder takes the service's lease (as a new deployment would once it expired). */
async function stealLease(): Promise<void> {
  const { serviceId, environmentId } = await w.ids();
  const key = serviceLeaseKey(serviceId, environmentId);
  const current = await w.store.getLease(key);
  if (current) await w.store.releaseLease(key, current.holder);
  assert.ok(await w.store.acquireLease(key, 'intruder', LEASE_TTL_MS), 'the intruder takes the lease');
}

test('a deployment that loses its lease while waiting on readiness stops at once: failed SLW_INTERRUPTED, no undo, no port call after', { timeout: 10_000 }, async () => {
  assert.equal((await w.deploy({ tag: '1', replicas: 2, deadline: '60s' })).state, 'succeeded');
  const v1 = (await w.servers()).map((s) => s.name);
  w.runtime.unhealthyStartsOf(ofRelease(2));
  const d = await w.start({ tag: '2', replicas: 2, deadline: '60s' });
  await waitFor('a v2 replica waiting on readiness', async () => (await w.replicas()).some((r) => r.labels.release === 2 && r.state === 'running'));
  await stealLease();
  const after = callsFrom();
  const ended = await w.settle(d.id);
  assert.equal(ended.state, 'failed');
  assert.equal(ended.errorCode, 'SLW_INTERRUPTED');
  assert.match(ended.error ?? '', /lost the lease of the service \(another holder took it after it expired\)/);
  // Readiness checks read the runtime (inspect, probes through MemoryProbe): nothing that changes anything.
  const changes = after().filter((c) => !/^(inspectReplica|listReplicas|listServers|replicaStats)\b/.test(c));
  assert.deepEqual(changes, [], 'no start, stop, edge add, drain or remove after the lease was lost');
  assert.ok((await w.logs(d.id)).some((l) => /not undoing: the service belongs to whoever holds its lease now/.test(l)));
  // v1 still serves: it was never drained; v2's replica is left to the lease's new holder.
  assert.deepEqual((await w.servers()).filter((s) => s.state === 'ready').map((s) => s.name), v1);
  assert.equal(await w.liveRelease(), 1);
  const { serviceId, environmentId } = await w.ids();
  assert.equal((await w.store.getLease(serviceLeaseKey(serviceId, environmentId)))?.holder, 'intruder', 'the lease stays with its new holder');
});

test('a repair that loses its lease stops before adding its replacement to the edge', { timeout: 10_000 }, async () => {
  assert.equal((await w.deploy({ tag: '1', replicas: 2, deadline: '60s' })).state, 'succeeded');
  const [dead] = await w.replicas();
  w.runtime.kill(dead!.id);
  w.runtime.unhealthyStartsOf(ofRelease(1));
  const repair = await w.engine.repair({ project: PROJECT, service: SERVICE, env: ENV }, 'test');
  assert.ok(repair, 'a repair starts');
  await waitFor('the replacement waiting on readiness', async () => (await w.replicas()).filter((r) => r.state === 'running').length === 2);
  await stealLease();
  const after = callsFrom();
  const ended = await w.settle(repair.id);
  assert.deepEqual([ended.state, ended.errorCode], ['failed', 'SLW_INTERRUPTED']);
  assert.deepEqual(after().filter((c) => !/^(inspectReplica|listReplicas|listServers|replicaStats)\b/.test(c)), []);
});
