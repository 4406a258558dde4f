/**
 * The real DeployEngine's blue-green strategy on in-memory ports (issue 22): the flip (the whole
 * new set on standby, then one edge command moves every request), the warm set (the previous
 * set kept running out of rotation for keep_warm), a rollback inside the window that only
 * switches back (no container starts) and one that cannot (a warm replica stopped answering),
 * the warm-set retirer at and before keep_warm's end (its `now` is injected: no waiting), a
 * restart that keeps the warm set, deploys refused while it is retired, keep_warm 0s, a new
 * deployment ending the window early, and a new set failing readiness (the live set untouched).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { StartSpec } from '../testing/memory-runtime';
import { DeployEngine } from '../engine/deploy-engine';
import { recoverAfterRestart } from '../engine/recovery';
import { serviceLeaseKey } from '../engine/service-lease';
import { WarmSetRetirer } from '../engine/warm-set-retirer';
import { readWarmSet } from '../engine/warm-sets';
import { isSlipwayError } from '../core/errors';
import type { WarmSet } from '../core/warm-set';
import { BACKEND, ENV, HOST, PORT, PROJECT, SERVICE, engineWorld, names, waitFor, type EngineWorld, type ServiceShape } from './engine-world.test-support';

const worlds: EngineWorld[] = [];
after(async () => {
  for (const w of worlds) await w.close();
});

const BG: ServiceShape = { strategy: 'blue-green', replicas: 2, keepWarm: '5m' };
const ofRelease = (n: number) => (spec: StartSpec) => 'release' in spec.labels && spec.labels.release === n;
const SERVICE_REF = { project: PROJECT, service: SERVICE, env: ENV };

/** A world serving v1 of `shape`, watched by the Monitor from there on. */
async function serving(shape: ServiceShape = BG): Promise<{ w: EngineWorld; v1: string[] }> {
  const w = await engineWorld();
  worlds.push(w);
  const d = await w.deploy({ ...shape, tag: '1' });
  assert.equal(d.state, 'succeeded', `v1 deploy: ${d.error}`);
  const v1 = await assertLive(w, 1, shape.replicas ?? 1);
  await w.monitor.reset();
  return { w, v1 };
}

/** v1 live, then v2 deployed over it (flipped); the Monitor watches from the flip's end. */
async function flipped(shape: ServiceShape = BG): Promise<{ w: EngineWorld; v1: string[]; v2: string[]; d2: string }> {
  const { w, v1 } = await serving(shape);
  const d = await w.deploy({ ...shape, tag: '2' });
  assert.equal(d.state, 'succeeded', `v2 deploy: ${d.error}`);
  const v2 = await assertLive(w, 2, shape.replicas ?? 1);
  await w.monitor.reset();
  return { w, v1, v2, d2: d.id };
}

/**
 * `release` is live with exactly `replicas` running containers, each a ready server at weight 1
 * at its address, and every request goes to one of them (none to any other release).
 */
async function assertLive(w: EngineWorld, release: number, replicas: number): Promise<string[]> {
  const mine = (await w.replicas()).filter((r) => r.labels.release === release);
  assert.equal(mine.length, replicas, `v${release} has ${replicas} container(s)`);
  const servers = new Map((await w.servers()).map((s) => [s.name, s]));
  for (const r of mine) {
    assert.equal(r.state, 'running', `${r.name} runs`);
    const s = servers.get(r.name);
    assert.deepEqual(s && [s.state, s.weight, s.address, s.port], ['ready', 1, r.address, PORT], `server ${r.name} is in rotation at its address`);
  }
  const inRotation = [...servers.values()].filter((s) => s.state === 'ready' && s.weight > 0).map((s) => s.name).sort();
  assert.deepEqual(inRotation, names(mine), `only v${release} is in rotation`);
  const answered = Array.from({ length: replicas * 3 }, () => w.edge.route(HOST));
  assert.ok(answered.every((a) => a.status === 200 && names(mine).includes(a.server!)), `every request is answered by v${release}: ${JSON.stringify(answered)}`);
  assert.equal(await w.liveRelease(), release, 'live release in the store');
  return names(mine);
}

/** These replicas of `release` run, each on standby at the edge (weight 0): warm, out of rotation. */
async function assertWarm(w: EngineWorld, release: number, warm: string[]): Promise<void> {
  const mine = (await w.replicas()).filter((r) => r.labels.release === release);
  assert.deepEqual(names(mine), warm, `the warm set is the same v${release} containers`);
  const servers = new Map((await w.servers()).map((s) => [s.name, s]));
  for (const r of mine) {
    assert.equal(r.state, 'running', `warm ${r.name} runs`);
    const s = servers.get(r.name);
    assert.deepEqual(s && [s.state, s.weight, s.address], ['standby', 0, r.address], `warm ${r.name} is on standby at the edge`);
  }
}

async function warmSet(w: EngineWorld): Promise<WarmSet | null> {
  const { serviceId, environmentId } = await w.ids();
  return readWarmSet(w.store, serviceId, environmentId);
}

/** The edge's changes since `from`: the calls that move traffic or servers. */
const edgeChanges = (w: EngineWorld, from: number) => w.edge.calls.slice(from).filter((c) => /^(addServer|setWeights|drainServer|removeServer)/.test(c));
const runtimeChanges = (w: EngineWorld, from: number) => w.runtime.calls.slice(from).filter((c) => /^(startReplica|stopReplica|runOnce)/.test(c));
/** An edge call as a comparable value: a setWeights line as `{ server: weight }` (its order aside), others as they are. */
const parsed = (call: string): string | Record<string, number> => {
  const m = new RegExp(`^setWeights ${BACKEND} (.*)$`).exec(call);
  return m ? Object.fromEntries(m[1]!.split(',').map((p) => p.split('=')).map(([n, wt]) => [n!, Number(wt)]).sort()) : call;
};
/** The weights of a flip: `up` to 1, `down` to 0. */
const flip = (up: string[], down: string[]) => Object.fromEntries([...up.map((n) => [n, 1] as const), ...down.map((n) => [n, 0] as const)].sort());

function assertClean(w: EngineWorld): void {
  assert.deepEqual(w.monitor.violations, [], 'no replica in rotation without passing readiness, none stopped while in rotation');
}

test('the flip: the whole v2 set waits on standby, one edge command moves every request, v1 stays warm out of rotation', async () => {
  const { w, v1 } = await serving();
  const edgeFrom = w.edge.calls.length;
  const runtimeFrom = w.runtime.calls.length;
  const d = await w.deploy({ ...BG, tag: '2' });
  assert.equal(d.state, 'succeeded', d.error ?? '');
  const v2 = await assertLive(w, 2, 2);
  await assertWarm(w, 1, v1);

  // v2 joined at weight 0 (after readiness), then ONE setWeights: v2 up, v1 down; nothing drained or removed.
  const changes = edgeChanges(w, edgeFrom);
  assert.deepEqual(changes.filter((c) => c.startsWith('addServer')).map((c) => [c.split(' ')[1]!.split('/')[1], c.endsWith('weight=0')]).sort(), v2.map((n) => [n, true]));
  assert.deepEqual(changes.filter((c) => !c.startsWith('addServer')).map(parsed), [flip(v2, v1)], 'then one setWeights, nothing drained or removed');
  assert.deepEqual(runtimeChanges(w, runtimeFrom).map((c) => c.split(' ')[0]), ['startReplica', 'startReplica'], 'two v2 starts, no v1 stop');
  // Every moment, exactly one whole set was in rotation: v1 until the flip, v2 from it.
  assert.deepEqual(w.monitor.samples.map((s) => s.ready), [v1, v1, v1, v2]);
  assert.equal(w.monitor.peakRunning, 4, 'both sets ran at once');
  assertClean(w);

  const warm = await warmSet(w);
  assert.ok(warm, 'the warm set is recorded');
  assert.equal(warm.release, 1);
  assert.equal(warm.deploymentId, d.id);
  assert.equal(Date.parse(warm.retireAt) - Date.parse(warm.since), 5 * 60_000, 'kept for keep_warm');
  const log = await w.logs(d.id);
  assert.ok(log.some((l) => l.startsWith('v1 stays warm: 2 replica(s) running out of rotation until')), log.join('\n'));
  const steps = await w.store.listSteps(d.id);
  assert.ok(steps.some((s) => s.name === 'flip traffic to v2' && s.status === 'done'), JSON.stringify(steps));
});

test('a rollback inside keep_warm switches back to the warm set in one edge command, starting no container; v2 becomes warm', async () => {
  const { w, v1, v2 } = await flipped();
  const edgeFrom = w.edge.calls.length;
  const runtimeFrom = w.runtime.calls.length;
  const rb = await w.settle((await w.engine.rollback({ ...SERVICE_REF, triggeredBy: 'test' })).id);
  assert.equal(rb.state, 'succeeded', rb.error ?? '');
  assert.equal(rb.kind, 'rollback');
  assert.deepEqual(await assertLive(w, 1, 2), v1, 'the same v1 containers serve again');
  await assertWarm(w, 2, v2);
  assert.deepEqual(runtimeChanges(w, runtimeFrom), [], 'no container started or stopped');
  assert.deepEqual(edgeChanges(w, edgeFrom).map(parsed), [flip(v1, v2)], 'one edge command');
  assert.deepEqual(w.monitor.samples.map((s) => s.ready), [v2, v1]);
  assertClean(w);
  const warm = await warmSet(w);
  assert.deepEqual(warm && [warm.release, warm.deploymentId], [2, rb.id], 'v2 is the warm set now, left by the rollback');
  assert.ok((await w.logs(rb.id)).some((l) => /^v1 is the warm set .*: switching traffic back, no container starts$/.test(l)));

  // And forward again: v2 is warm, so a rollback to it is a switch too.
  const fwd = await w.settle((await w.engine.rollback({ ...SERVICE_REF, release: 2 })).id);
  assert.equal(fwd.state, 'succeeded', fwd.error ?? '');
  assert.deepEqual(await assertLive(w, 2, 2), v2);
  await assertWarm(w, 1, v1);
  assert.deepEqual(runtimeChanges(w, runtimeFrom), [], 'still no container started or stopped');
  assert.deepEqual(edgeChanges(w, edgeFrom).map(parsed), [flip(v1, v2), flip(v2, v1)]);
  assertClean(w);
});

test('a rollback whose warm set has a replica that stopped answering is a normal one: that replica is replaced, the log says why', async () => {
  const shape: ServiceShape = { ...BG, deadline: '150ms' };
  const { w, v1, v2 } = await flipped(shape);
  w.runtime.setHealthy(v1[0]!, false);
  const runtimeFrom = w.runtime.calls.length;
  const rb = await w.settle((await w.engine.rollback(SERVICE_REF)).id);
  assert.equal(rb.state, 'succeeded', rb.error ?? '');
  const log = await w.logs(rb.id);
  assert.ok(log.some((l) => l.startsWith(`warm replica ${v1[0]} does not answer /health (HTTP 503): rolling v1 out as a deployment`)), log.join('\n'));
  const live = await assertLive(w, 1, 2);
  assert.ok(live.includes(v1[1]!), 'the answering warm replica serves again');
  assert.ok(!live.includes(v1[0]!), 'the silent one does not');
  assert.equal(w.runtime.containerInfo(v1[0]!), null, 'the silent warm replica is removed');
  assert.deepEqual(runtimeChanges(w, runtimeFrom).map((c) => c.split(' ')[0]).sort(), ['startReplica', 'stopReplica'], 'one v1 replica started to replace it');
  await assertWarm(w, 2, v2);
  assertClean(w);
});

test('keep_warm ends: the retirer leaves the warm set alone before retireAt, then drains and stops it and forgets it', async () => {
  const { w, v1, v2, d2 } = await flipped();
  const warm = (await warmSet(w))!;
  const retirer = new WarmSetRetirer(w.ctx, w.engine.events);
  const edgeFrom = w.edge.calls.length;
  const runtimeFrom = w.runtime.calls.length;

  await retirer.tick(new Date(Date.parse(warm.retireAt) - 1000));
  assert.deepEqual(edgeChanges(w, edgeFrom), [], 'a second before retireAt: the edge is not touched');
  assert.deepEqual(runtimeChanges(w, runtimeFrom), []);
  await assertWarm(w, 1, v1);
  assert.deepEqual(await warmSet(w), warm);

  await retirer.tick(new Date(Date.parse(warm.retireAt)));
  for (const n of v1) assert.equal(w.runtime.containerInfo(n), null, `${n} is stopped and removed`);
  assert.deepEqual(names(await w.servers()), v2, 'v1 servers are gone from the edge');
  assert.deepEqual(await assertLive(w, 2, 2), v2, 'v2 serves untouched');
  assert.equal(await warmSet(w), null, 'the record is cleared');
  const { serviceId, environmentId } = await w.ids();
  assert.equal(await w.store.getLease(serviceLeaseKey(serviceId, environmentId)), null, 'the lease is free again');
  assert.deepEqual(edgeChanges(w, edgeFrom).filter((c) => c.startsWith('drainServer')).sort(), v1.map((n) => `drainServer ${BACKEND}/${n}`), 'each drained first');
  assertClean(w);
  const log = await w.logs(d2);
  assert.ok(log.includes(`keep_warm of v1 ended at ${warm.retireAt}: draining and stopping 2 warm replica(s)`), log.join('\n'));
  assert.ok(log.includes('the warm set of v1 is retired'));

  // With no warm set a rollback starts v1 again (through the blue-green flip).
  const startsFrom = w.runtime.calls.length;
  const rb = await w.settle((await w.engine.rollback(SERVICE_REF)).id);
  assert.equal(rb.state, 'succeeded', rb.error ?? '');
  await assertLive(w, 1, 2);
  assert.equal(runtimeChanges(w, startsFrom).filter((c) => c.startsWith('startReplica shop-web-production-v1-')).length, 2);
  await assertWarm(w, 2, v2);
});

test('a control-plane restart keeps the warm set until keep_warm ends (recovery does not take it for an orphan)', async () => {
  const { w, v1, v2 } = await flipped();
  const warm = (await warmSet(w))!;
  const engine = new DeployEngine(w.ctx);
  const report = await recoverAfterRestart(w.ctx, engine.events);
  assert.deepEqual(report, { resolved: [], orphansRemoved: 0, placements: { recorded: 0, forgotten: 0 }, leasesReleased: 0 });
  await assertWarm(w, 1, v1);
  assert.deepEqual(await warmSet(w), warm);
  await new WarmSetRetirer(w.ctx, engine.events).tick(new Date(Date.parse(warm.retireAt)));
  assert.deepEqual(names(await w.replicas()), v2, 'retired on schedule by the new control plane');
  assert.equal(await warmSet(w), null);
});

test('while the warm set is being retired, deploys and rollbacks are refused with the reason; its drain waits for requests in flight', async () => {
  const shape: ServiceShape = { ...BG, drainTimeout: '5s' };
  const { w, v1 } = await flipped(shape);
  const warm = (await warmSet(w))!;
  // A request v1[0] took before the flip is still running.
  w.edge.inFlight(BACKEND, v1[0]!, 1);
  const retiring = new WarmSetRetirer(w.ctx, w.engine.events).tick(new Date(Date.parse(warm.retireAt)));
  await waitFor('the warm replica with a request in flight to be drained', () => w.edge.calls.includes(`drainServer ${BACKEND}/${v1[0]}`));
  const locked = (err: unknown) => isSlipwayError(err) && err.code === 'SLW_DEPLOY_LOCKED' && /is retiring its warm set \(keep_warm is over\)/.test(err.message);
  await assert.rejects(w.start({ ...shape, tag: '3' }), locked);
  await assert.rejects(w.engine.rollback(SERVICE_REF), locked);
  assert.notEqual(w.runtime.containerInfo(v1[0]!), null, 'not stopped while its request runs');
  const callsAtFinish = w.runtime.calls.length;
  w.edge.finishInFlight(BACKEND, v1[0]!);
  await retiring;
  assert.ok(w.runtime.calls.indexOf(`stopReplica ${v1[0]}`) >= callsAtFinish, 'stopped once its request ended');
  assert.equal(await warmSet(w), null);
  assertClean(w);
  const d3 = await w.deploy({ ...shape, tag: '3' });
  assert.equal(d3.state, 'succeeded', d3.error ?? '');
  await assertLive(w, 3, 2);
});

test('keep_warm 0s retires the previous set right after the flip (drained first); a rollback then starts it again', async () => {
  const shape: ServiceShape = { ...BG, keepWarm: '0s' };
  const { w, v1, v2 } = await flipped(shape);
  for (const n of v1) assert.equal(w.runtime.containerInfo(n), null, `${n} is removed`);
  for (const n of v1) assert.ok(w.edge.calls.includes(`drainServer ${BACKEND}/${n}`), `${n} was drained`);
  assert.deepEqual(names(await w.servers()), v2);
  assert.equal(await warmSet(w), null, 'no warm set is recorded');
  const runtimeFrom = w.runtime.calls.length;
  const rb = await w.settle((await w.engine.rollback(SERVICE_REF)).id);
  assert.equal(rb.state, 'succeeded', rb.error ?? '');
  await assertLive(w, 1, 2);
  assert.equal(runtimeChanges(w, runtimeFrom).filter((c) => c.startsWith('startReplica shop-web-production-v1-')).length, 2, 'v1 started anew');
  assert.equal((await w.replicas()).filter((r) => r.labels.release === 2).length, 0, 'and v2 retired at once as well');
  assertClean(w);
});

test('a new deployment ends the warm window early: the warm v1 is retired before v3 starts, so at most two sets run', async () => {
  const { w, v1, v2 } = await flipped();
  const runtimeFrom = w.runtime.calls.length;
  const d3 = await w.deploy({ ...BG, tag: '3' });
  assert.equal(d3.state, 'succeeded', d3.error ?? '');
  await assertLive(w, 3, 2);
  await assertWarm(w, 2, v2);
  const calls = runtimeChanges(w, runtimeFrom);
  const lastV1Stop = Math.max(...v1.map((n) => calls.indexOf(`stopReplica ${n}`)));
  const firstV3Start = calls.findIndex((c) => c.startsWith('startReplica shop-web-production-v3-'));
  assert.ok(v1.every((n) => calls.includes(`stopReplica ${n}`)), 'v1 stopped');
  assert.ok(lastV1Stop < firstV3Start, `v1 stopped before v3 started: ${calls.join(', ')}`);
  assert.ok(w.monitor.peakRunning <= 4, `${w.monitor.peakRunning} replicas ran at once`);
  assert.ok((await w.logs(d3.id)).includes('ending the warm window of v1 early: this deployment replaces it'));
  const warm = await warmSet(w);
  assert.deepEqual(warm && [warm.release, warm.deploymentId], [2, d3.id]);
  assert.ok(w.monitor.minReady >= 2, 'v2 served until the flip');
  assertClean(w);
});

test('a v2 replica failing readiness fails the deployment before any flip: v1 stays live and untouched, nothing of v2 remains', async () => {
  const shape: ServiceShape = { ...BG, deadline: '150ms' };
  const { w, v1 } = await serving(shape);
  // One v2 replica passes readiness (and waits on standby), the other never does.
  let v2Starts = 0;
  w.runtime.unhealthyStartsOf((spec) => ofRelease(2)(spec) && ++v2Starts === 2);
  const edgeFrom = w.edge.calls.length;
  const d = await w.deploy({ ...shape, tag: '2' });
  assert.equal(d.state, 'failed');
  assert.equal(d.errorCode, 'SLW_HEALTH_FAILED', d.error ?? '');
  assert.match(d.error ?? '', /did not pass readiness on \/health/);
  assert.deepEqual(await assertLive(w, 1, 2), v1, 'the same v1 replicas serve');
  assert.equal((await w.replicas()).filter((r) => r.labels.release === 2).length, 0, 'no v2 container remains');
  const changes = edgeChanges(w, edgeFrom);
  assert.ok(!changes.some((c) => c.startsWith('setWeights')), `no flip: ${changes.join(', ')}`);
  assert.ok(changes.filter((c) => c.startsWith('addServer')).every((c) => c.endsWith('weight=0')), 'the ready v2 replica only ever stood by');
  assert.equal(changes.filter((c) => c.startsWith('addServer')).length, 1, 'the unready one never reached the edge');
  assert.ok(!v1.some((n) => w.runtime.calls.includes(`stopReplica ${n}`)), 'no v1 replica was stopped');
  assert.ok(w.monitor.samples.every((s) => JSON.stringify(s.ready) === JSON.stringify(v1)), 'v1 alone was in rotation at every moment');
  assert.equal(await warmSet(w), null);
  assertClean(w);
});
