/**
 * Restarts as Slipway counts them (issue 23; core/replica-restarts.ts) on the real DeployEngine,
 * reconciler and in-memory ports: every replica of a release has a slot, a repair's replacement
 * takes the slot of the replica it replaces, and each replacement is one restart of that slot
 * (reason exited / oom_killed / removed / unhealthy). `slipway status` (Queries), the stats API
 * (ResourceStats, with the sampler's points) show them per replica and per service; deploys,
 * roll-outs and scale are never restarts.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import pino from 'pino';
import type { HostProbe } from '../core/ports/host-probe';
import type { Replica } from '../core/ports/runtime';
import { Queries } from '../engine/queries';
import { Reconciler } from '../engine/reconciler';
import { ResourceStats } from '../engine/resource-stats';
import { ResourceSampler } from '../observe/resource-sampler';
import { BACKEND, ENV, PROJECT, SERVICE, engineWorld, type EngineWorld, type ServiceShape } from './engine-world.test-support';

const worlds: EngineWorld[] = [];
after(async () => {
  for (const w of worlds) await w.close();
});

const logger = pino({ level: 'silent' });
const ref = { project: PROJECT, env: ENV, service: SERVICE };

async function serving(shape: ServiceShape): Promise<EngineWorld> {
  const w = await engineWorld();
  worlds.push(w);
  const d = await w.deploy({ ...shape, tag: '1' });
  assert.equal(d.state, 'succeeded', `v1 deploy: ${d.error}`);
  return w;
}

/** A reconciler on a clock the test moves (past the repair backoff), and one pass with its repairs run to their end. */
function reconcilerOf(w: EngineWorld) {
  const clock = { now: 1_000_000 };
  const reconciler = new Reconciler(w.ctx, w.engine, { intervalMs: 60_000, logger, now: () => clock.now });
  return {
    async pass(): Promise<number> {
      const p = await reconciler.pass();
      await w.engine.idle();
      return p.repairsStarted;
    },
    /** Past any backoff (15 s doubling to 10 min). */
    later(): void {
      clock.now += 700_000;
    },
  };
}

const running = async (w: EngineWorld) => (await w.replicas()).filter((r) => r.state === 'running');
const slotsOf = (rs: Replica[]) => rs.map((r) => r.labels.slot).sort();
const inSlot = async (w: EngineWorld, slot: number) => (await running(w)).find((r) => r.labels.slot === slot)!;

async function status(w: EngineWorld) {
  const s = (await new Queries(w.ctx).projectStatus(PROJECT, ENV)).services.find((x) => x.service === SERVICE)!;
  return { service: s.restarts, replicas: Object.fromEntries(s.replicas.filter((r) => r.state === 'running').map((r) => [r.slot, r.restarts])) };
}

test('every replica of a deploy has a slot (0..n-1), and so does every release after it', async () => {
  const w = await serving({ replicas: 3 });
  assert.deepEqual(slotsOf(await running(w)), [0, 1, 2]);
  assert.equal((await w.deploy({ replicas: 3, tag: '2' })).state, 'succeeded');
  assert.deepEqual(slotsOf(await running(w)), [0, 1, 2]);
  assert.ok((await running(w)).every((r) => r.labels.release === 2));
  assert.equal((await w.deploy({ replicas: 2, tag: '3', strategy: 'blue-green' })).state, 'succeeded');
  assert.deepEqual(slotsOf((await running(w)).filter((r) => r.labels.release === 3)), [0, 1]);
});

test('a replica killed twice: its slot counts 2 restarts, the service 2, the other slot none; a deploy counts none and starts from 0', async () => {
  const w = await serving({ replicas: 2 });
  const r = reconcilerOf(w);
  const first = await inSlot(w, 1);
  const survivor = await inSlot(w, 0);
  assert.deepEqual(await status(w), { service: { lastHour: 0, last24h: 0 }, replicas: { 0: 0, 1: 0 } }, 'nothing restarted after a deploy');

  w.runtime.kill(first.name);
  assert.equal(await r.pass(), 1);
  const second = await inSlot(w, 1);
  assert.notEqual(second.name, first.name, 'a new container took slot 1');
  r.later();
  w.runtime.kill(second.name, 1);
  assert.equal(await r.pass(), 1);
  assert.equal((await inSlot(w, 0)).name, survivor.name, 'the other replica was not touched');

  assert.deepEqual(await status(w), { service: { lastHour: 2, last24h: 2 }, replicas: { 0: 0, 1: 2 } });
  assert.equal(await w.store.serviceRestartsSince({ ...ref, since: Date.now() - 60_000 }), 2);
  assert.deepEqual(
    (await w.store.listReplicaRestarts({ ...ref, since: 0 })).map((x) => [x.release, x.slot, x.reason, x.exitCode, x.replica]).reverse(),
    [[1, 1, 'exited', 137, first.name], [1, 1, 'exited', 1, second.name]],
  );

  // The stats API: the sampler's points and each series carry the slot's count, the service its totals.
  const host: HostProbe = {
    read: async () => ({ at: Date.now(), cpu: { busy: 1, total: 2 }, cpus: 1, memoryTotalBytes: 1e9, memoryAvailableBytes: 5e8, disk: { path: '/', usedBytes: 1, totalBytes: 2, availableBytes: 1 } }),
    disk: async (path) => ({ path, totalBytes: 2, availableBytes: 1 }),
  };
  await new ResourceSampler({ runtime: w.runtime, host, store: w.store, logger, intervalMs: 5000, concurrency: 2 }).sampleOnce();
  const stats = await new ResourceStats(w.ctx).service(PROJECT, SERVICE, ENV, Date.now() - 60_000);
  assert.deepEqual(stats.restarts, { lastHour: 2, last24h: 2 });
  assert.deepEqual(
    stats.replicas.map((s) => [s.slot, s.restarts, s.points.map((p) => p.restarts)]).sort(),
    [[0, 0, [0]], [1, 2, [2]]],
  );

  // A deploy is not a restart: v2's replicas start from none, and nothing was recorded.
  assert.equal((await w.deploy({ replicas: 2, tag: '2' })).state, 'succeeded');
  assert.deepEqual(await status(w), { service: { lastHour: 0, last24h: 0 }, replicas: { 0: 0, 1: 0 } });
  assert.equal(await w.store.serviceRestartsSince({ ...ref, since: 0 }), 2, 'still the two repairs of v1');
  assert.equal(await r.pass(), 0);
});

test('why a slot restarted: the OOM killer, a replica removed by hand, a sick replica replaced (it keeps its slot)', async () => {
  const w = await serving({ replicas: 3, replaceAfter: '0s' });
  const r = reconcilerOf(w);
  const [a, b, c] = [await inSlot(w, 0), await inSlot(w, 1), await inSlot(w, 2)];
  w.runtime.kill(a.name, 137, { oomKilled: true });
  await w.runtime.stopReplica(b.id, 0); // removed by hand: no container left
  assert.equal(await r.pass(), 1);
  assert.deepEqual(slotsOf(await running(w)), [0, 1, 2]);
  r.later();
  w.edge.setHealth(BACKEND, c.name, 'down');
  assert.equal(await r.pass(), 1);
  assert.deepEqual(slotsOf(await running(w)), [0, 1, 2], 'the replacement of the sick replica took its slot');
  assert.notEqual((await inSlot(w, 2)).name, c.name);

  const rows = (await w.store.listReplicaRestarts({ ...ref, since: 0 })).map((x) => [x.slot, x.reason, x.exitCode, x.replica]).sort();
  assert.deepEqual(rows, [[0, 'oom_killed', 137, a.name], [1, 'removed', null, null], [2, 'unhealthy', null, c.name]]);
  assert.deepEqual((await status(w)).replicas, { 0: 1, 1: 1, 2: 1 });
});

test('a scale roll-out and a restart roll-out are not restarts', async () => {
  const w = await serving({ replicas: 1 });
  const scaled = await w.engine.scale({ ...ref, replicas: 3, triggeredBy: 'test' });
  assert.equal((await w.settle(scaled.id)).state, 'succeeded', scaled.error ?? '');
  const restarted = await w.engine.restart({ ...ref, triggeredBy: 'test' });
  assert.equal((await w.settle(restarted.id)).state, 'succeeded', restarted.error ?? '');
  assert.deepEqual(slotsOf(await running(w)), [0, 1, 2]);
  assert.equal(await w.store.serviceRestartsSince({ ...ref, since: 0 }), 0);
});
