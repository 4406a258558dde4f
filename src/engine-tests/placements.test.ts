/**
 * Which server each replica runs on, in the store (issue 22: servers in the ports): a deploy
 * records the replicas it starts and forgets the ones it retires; recovery squares the record
 * with the runtime after a crash left it behind.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { recoverAfterRestart } from '../engine/recovery';
import { engineWorld, names, type EngineWorld } from './engine-world.test-support';

const worlds: EngineWorld[] = [];
after(async () => {
  for (const w of worlds) await w.close();
});

async function placementsOf(w: EngineWorld): Promise<Array<[string, string, number]>> {
  const { serviceId, environmentId } = await w.ids();
  return (await w.store.listPlacements({ serviceId, environmentId })).map((p) => [p.replica, p.server, p.release]);
}

test('a deploy records the server of every replica it starts and forgets every replica it retires', async () => {
  const w = await engineWorld();
  worlds.push(w);
  assert.equal((await w.deploy({ tag: '1', replicas: 2 })).state, 'succeeded');
  const v1 = await w.replicas();
  assert.deepEqual(await placementsOf(w), v1.map((r) => [r.name, 'local', 1]));
  assert.equal((await w.deploy({ tag: '2', replicas: 2 })).state, 'succeeded');
  const v2 = await w.replicas();
  assert.deepEqual(names(v2).length, 2);
  assert.deepEqual(await placementsOf(w), v2.map((r) => [r.name, 'local', 2]), 'the v1 replicas are forgotten with their containers');
});

test('a replica that fails readiness is forgotten with it', async () => {
  const w = await engineWorld();
  worlds.push(w);
  assert.equal((await w.deploy({ tag: '1' })).state, 'succeeded');
  w.runtime.unhealthyStartsOf((spec) => 'release' in spec.labels && spec.labels.release === 2);
  const d = await w.deploy({ tag: '2', deadline: '50ms' });
  assert.equal(d.state, 'failed');
  assert.deepEqual((await placementsOf(w)).map(([, , release]) => release), [1], 'only the v1 replica is placed');
});

test('recovery records a replica started but never recorded, and forgets one that is gone', async () => {
  const w = await engineWorld();
  worlds.push(w);
  assert.equal((await w.deploy({ tag: '1', replicas: 2 })).state, 'succeeded');
  const [a, b] = await w.replicas();
  // As if the control plane died right after starting `a` (no record), and `b` was removed while it was down.
  await w.store.forgetPlacements([a!.name]);
  await w.store.recordPlacement({ replica: 'shop-web-production-v1-gone', server: 'local', serviceId: (await w.ids()).serviceId, environmentId: (await w.ids()).environmentId, release: 1, deploymentId: 'd0', placedAt: new Date().toISOString() });
  const report = await recoverAfterRestart(w.ctx, w.engine.events);
  assert.deepEqual(report.placements, { recorded: 1, forgotten: 1 });
  assert.deepEqual((await placementsOf(w)).map(([name]) => name), [a!.name, b!.name].sort());
});
