/**
 * Repairs and the reconciler (engine/repair.ts, engine/reconciler.ts) on the real DeployEngine
 * and in-memory ports (issue 22): a replica that dies (or is OOM-killed) is replaced by a repair
 * deployment and the edge follows; a replacement that fails readiness fails the repair without
 * touching what serves, and the reconciler backs off (its clock is injected); live replicas
 * failing their edge checks or their liveness probe are replaced, new one first; a pass over a
 * service that matches its release (a blue-green warm set included) changes nothing; a service
 * whose deployment runs is left to it. And the release phase: a release command that exits
 * non-zero or times out fails the deployment before any replica of the new release starts,
 * whatever the strategy (a warm set stays warm).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import pino from 'pino';
import { Reconciler, type ReconcilePass } from '../engine/reconciler';
import { readWarmSet } from '../engine/warm-sets';
import { readCanary } from '../engine/canary-states';
import { figures } from '../core/canary-analysis';
import type { Deployment } from '../core/domain';
import { BACKEND, HOST, engineWorld, names, assertReleaseServes, assertRoundRobin, type EngineWorld, type ServiceShape } from './engine-world.test-support';

const worlds: EngineWorld[] = [];
after(async () => {
  for (const w of worlds) await w.close();
});

const logger = pino({ level: 'silent' });

async function serving(shape: ServiceShape, opts: Parameters<typeof engineWorld>[0] = {}): Promise<{ w: EngineWorld; v1: string[] }> {
  const w = await engineWorld(opts);
  worlds.push(w);
  const d = await w.deploy({ ...shape, tag: '1' });
  assert.equal(d.state, 'succeeded', `v1 deploy: ${d.error}`);
  const v1 = await assertServes(w, 1, shape.replicas ?? 1);
  await w.monitor.reset();
  return { w, v1 };
}

/** The release serves (engine-world's check) and requests reach all of its replicas. */
async function assertServes(w: EngineWorld, release: number, replicas: number): Promise<string[]> {
  const servers = await assertReleaseServes(w, release, replicas);
  assertRoundRobin(w, servers, replicas * 2);
  return servers;
}

/** A reconciler of the world's engine, on a clock the test moves. */
function reconcilerOf(w: EngineWorld): { reconciler: Reconciler; clock: { now: number } } {
  const clock = { now: 1_000_000 };
  return { clock, reconciler: new Reconciler(w.ctx, w.engine, { intervalMs: 60_000, logger, now: () => clock.now }) };
}

/** One pass, then the repairs it started run to their end. */
async function pass(w: EngineWorld, reconciler: Reconciler): Promise<ReconcilePass> {
  const p = await reconciler.pass();
  await w.engine.idle();
  await w.monitor.flush();
  return p;
}

async function repairs(w: EngineWorld): Promise<Deployment[]> {
  const { serviceId, environmentId } = await w.ids();
  return (await w.store.listDeployments({ serviceId, environmentId })).filter((d) => d.kind === 'repair');
}

const mutations = (w: EngineWorld, from: number) => w.runtime.calls.slice(from).filter((c) => /^(startReplica|stopReplica|runOnce)/.test(c));

function assertClean(w: EngineWorld): void {
  assert.deepEqual(w.monitor.violations, [], 'no replica in rotation without passing readiness, none stopped while in rotation');
}

test('a replica that dies is replaced by a repair of the live release; the edge drops the dead one and takes the new one', async () => {
  const { w, v1 } = await serving({ replicas: 2 });
  const { reconciler } = reconcilerOf(w);
  const { serviceId, environmentId } = await w.ids();
  const live = await w.store.getCurrentReleaseId(serviceId, environmentId);
  const releasesBefore = (await w.store.listReleases(serviceId, environmentId)).length;
  w.runtime.kill(v1[0]!);
  const runtimeFrom = w.runtime.calls.length;
  const p = await pass(w, reconciler);
  assert.equal(p.repairsStarted, 1);

  const [repair, ...more] = await repairs(w);
  assert.equal(more.length, 0);
  assert.equal(repair?.state, 'succeeded', repair?.error ?? '');
  assert.equal(repair.triggeredBy, 'reconciler');
  assert.deepEqual([repair.releaseId, repair.previousReleaseId], [live, live], 'the live release again');
  assert.equal((await w.store.listReleases(serviceId, environmentId)).length, releasesBefore, 'no new release');
  const now = await assertServes(w, 1, 2);
  assert.ok(now.includes(v1[1]!) && !now.includes(v1[0]!), `the survivor serves on, the dead one is gone: ${now.join(', ')}`);
  assert.equal(w.runtime.containerInfo(v1[0]!), null, 'the dead container is removed');
  assert.deepEqual(mutations(w, runtimeFrom).map((c) => c.split(' ').slice(0, 2).join(' ')).sort(), [`startReplica ${now.find((n) => n !== v1[1])}`, `stopReplica ${v1[0]}`].sort(), 'the survivor was not touched');
  const log = await w.logs(repair.id);
  assert.ok(log.includes(`replica ${v1[0]} (v1) exited with code 137 (killed: SIGKILL or out of memory): removing it`), log.join('\n'));
  assert.ok(log.includes('v1 serves with 2 replica(s) again'));
  assert.ok(w.monitor.minReady >= 1, 'the survivor served throughout');
  assertClean(w);

  // Nothing is left to do.
  const again = await pass(w, reconciler);
  assert.deepEqual([again.repairsStarted, again.edgeCorrections], [0, 0]);
  assert.equal((await repairs(w)).length, 1);
});

test('a replica the OOM killer ended is repaired and reported as such (replica.oom_killed)', async () => {
  const { w, v1 } = await serving({ replicas: 1 });
  const { reconciler } = reconcilerOf(w);
  w.runtime.kill(v1[0]!, 137, { oomKilled: true });
  assert.equal((await pass(w, reconciler)).repairsStarted, 1);
  const [repair] = await repairs(w);
  assert.equal(repair?.state, 'succeeded', repair?.error ?? '');
  await assertServes(w, 1, 1);
  assert.ok((await w.logs(repair.id)).includes(`replica ${v1[0]} (v1) was killed by the kernel's OOM killer (no memory limit: the host ran out of memory): removing it`));
  const event = (await w.store.listOutbox(0, 100)).find((e) => e.type === 'replica.oom_killed');
  assert.deepEqual(event && [event.payload.replica, event.payload.release, event.payload.deploymentId], [v1[0], 1, repair.id]);
});

test('a replacement that fails readiness fails the repair and never reaches the edge; the reconciler backs off, then repairs', async () => {
  const { w, v1 } = await serving({ replicas: 2, deadline: '150ms' });
  const { reconciler, clock } = reconcilerOf(w);
  let unhealthy = true;
  w.runtime.unhealthyStartsOf(() => unhealthy);
  w.runtime.kill(v1[0]!);
  const edgeFrom = w.edge.calls.length;
  assert.equal((await pass(w, reconciler)).repairsStarted, 1);
  const [failed] = await repairs(w);
  assert.equal(failed?.state, 'failed');
  assert.equal(failed.errorCode, 'SLW_HEALTH_FAILED', failed.error ?? '');
  assert.ok(!w.edge.calls.slice(edgeFrom).some((c) => c.startsWith('addServer')), 'the unready replacement never reached the edge');
  assert.deepEqual(names(await w.replicas()), [v1[1]], 'the replacement is removed; so is the dead container');
  assert.deepEqual(names(await w.servers()), [v1[1]], 'the survivor alone serves');
  assert.equal(w.edge.route(HOST).server, v1[1]);
  assertClean(w);

  // Still one short, but within the backoff (15 s after the first repair): no new repair.
  clock.now += 1000;
  assert.equal((await pass(w, reconciler)).repairsStarted, 0);
  assert.equal((await repairs(w)).length, 1);
  // Past it, with a replacement that can pass readiness now.
  unhealthy = false;
  clock.now += 15_000;
  assert.equal((await pass(w, reconciler)).repairsStarted, 1);
  const [second] = (await repairs(w)).filter((d) => d.id !== failed.id);
  assert.equal(second?.state, 'succeeded', second?.error ?? '');
  const now = await assertServes(w, 1, 2);
  assert.ok(now.includes(v1[1]!));
  assertClean(w);
});

test('a live replica failing its edge checks past replace_after is replaced: the new one is ready before the sick one is drained', async () => {
  const { w, v1 } = await serving({ replicas: 2, replaceAfter: '0s' });
  const { reconciler } = reconcilerOf(w);
  w.edge.setHealth(BACKEND, v1[0]!, 'down');
  assert.equal((await pass(w, reconciler)).repairsStarted, 1);
  const [repair] = await repairs(w);
  assert.equal(repair?.state, 'succeeded', repair?.error ?? '');
  const now = await assertServes(w, 1, 2);
  assert.ok(now.includes(v1[1]!) && !now.includes(v1[0]!), now.join(', '));
  assert.equal(w.runtime.containerInfo(v1[0]!), null, 'the sick replica is stopped and removed');
  assert.ok(w.edge.calls.includes(`drainServer ${BACKEND}/${v1[0]}`), 'after a drain');
  // Capacity never dropped: the replacement joined before the sick one left.
  assert.ok(w.monitor.minReady >= 2, JSON.stringify(w.monitor.samples));
  assert.equal(w.monitor.peakRunning, 3);
  assertClean(w);
  const events = (await w.store.listOutbox(0, 100)).map((e) => [e.type, e.payload.replica]);
  assert.deepEqual(events.filter(([t]) => t === 'replica.unhealthy' || t === 'replica.replaced'), [['replica.unhealthy', v1[0]], ['replica.replaced', v1[0]]]);
  assert.ok((await w.logs(repair.id)).some((l) => l.startsWith(`replica ${v1[0]} (v1) is failing its edge health checks on /health for 0 s`)));
});

test('a live replica failing its liveness probe (fall 1) is replaced; the healthy one is untouched', async () => {
  const { w, v1 } = await serving({ replicas: 2, liveness: '/live', fall: 1 });
  const { reconciler } = reconcilerOf(w);
  w.runtime.setHealthy(v1[0]!, false);
  assert.equal((await pass(w, reconciler)).repairsStarted, 1);
  const [repair] = await repairs(w);
  assert.equal(repair?.state, 'succeeded', repair?.error ?? '');
  const now = await assertServes(w, 1, 2);
  assert.ok(now.includes(v1[1]!) && !now.includes(v1[0]!), now.join(', '));
  assert.ok(!w.runtime.calls.includes(`stopReplica ${v1[1]}`));
  assert.ok(w.edge.calls.includes(`drainServer ${BACKEND}/${v1[0]}`), 'the sick one was drained before it stopped');
  assert.ok(w.monitor.minReady >= 2, 'capacity never dropped');
  // The sick replica itself was in rotation until its replacement was ready (the edge's checks would have taken it out): nothing else.
  assert.deepEqual(w.monitor.violations.filter((v) => !v.includes(v1[0]!)), []);
  assert.ok((await w.logs(repair.id)).some((l) => l === `replica ${v1[0]} (v1) is failing its liveness probe on /live (1 times in a row): replacing it`));
  assert.deepEqual([(await pass(w, reconciler)).repairsStarted], [0], 'the replacement passes its liveness probe');
});

test('a pass over services that match their release changes nothing (rolling, and blue-green with a warm set)', async () => {
  for (const shape of [{ replicas: 2 }, { replicas: 2, strategy: 'blue-green', keepWarm: '5m' }] satisfies ServiceShape[]) {
    const { w } = await serving(shape);
    if (shape.strategy === 'blue-green') assert.equal((await w.deploy({ ...shape, tag: '2' })).state, 'succeeded');
    const { serviceId, environmentId } = await w.ids();
    const warm = await readWarmSet(w.store, serviceId, environmentId);
    const containers = await w.replicas();
    const servers = await w.servers();
    const runtimeFrom = w.runtime.calls.length;
    const edgeFrom = w.edge.calls.length;
    const deployments = (await w.store.listDeployments({ serviceId, environmentId })).length;
    const outbox = (await w.store.listOutbox(0, 1000)).length;
    const { reconciler } = reconcilerOf(w);
    for (let i = 0; i < 2; i++) {
      const p = await pass(w, reconciler);
      assert.deepEqual([p.services, p.repairsStarted, p.edgeCorrections], [1, 0, 0], `${JSON.stringify(shape)}: pass ${i + 1}`);
    }
    assert.deepEqual(mutations(w, runtimeFrom), [], 'no container started or stopped');
    assert.deepEqual(w.edge.calls.slice(edgeFrom), [], 'the edge was not changed');
    assert.deepEqual(await w.replicas(), containers);
    assert.deepEqual(await w.servers(), servers);
    assert.equal((await w.store.listDeployments({ serviceId, environmentId })).length, deployments, 'no deployment recorded');
    assert.equal((await w.store.listOutbox(0, 1000)).length, outbox, 'no event');
    assert.deepEqual(await readWarmSet(w.store, serviceId, environmentId), warm, 'the warm set (if any) is kept');
    if (shape.strategy === 'blue-green') assert.equal(warm?.release, 1);
  }
});

test('a service whose deployment is running is left to it: a replica dying meanwhile is not repaired by the reconciler', async () => {
  const { w, v1 } = await serving({ replicas: 2 });
  const { reconciler } = reconcilerOf(w);
  // v2's release command takes 300 ms: the deployment is in progress meanwhile.
  w.runtime.scriptRun((spec) => spec.kind === 'release', { exitCode: 0, durationMs: 300 });
  const d = await w.start({ replicas: 2, tag: '2', releaseCommand: ['true'] });
  w.runtime.kill(v1[0]!);
  assert.equal((await reconciler.pass()).repairsStarted, 0);
  const done = await w.settle(d.id);
  assert.equal(done.state, 'succeeded', done.error ?? '');
  await assertServes(w, 2, 2);
  assert.equal(w.runtime.containerInfo(v1[0]!), null, "the deployment removed the dead v1 container");
  assert.equal((await repairs(w)).length, 0);
  assert.equal((await pass(w, reconciler)).repairsStarted, 0);
});

// The release phase (DESIGN.md "Release phase"), for each strategy: nothing of v2 starts and the edge is not touched.
for (const strategy of ['rolling', 'blue-green', 'canary'] as const) {
  test(`${strategy}: a release command exiting non-zero fails the deployment before any replica of the new release starts`, async () => {
    // Canary analysis needs request figures (they would all pass; the command fails first).
    const traffic = strategy === 'canary' ? { traffic: { window: (_: unknown, release: number) => figures(release === 1 ? 100 : 30, 0, 10) } } : {};
    const shape: ServiceShape = { replicas: 2, strategy, ...(strategy === 'canary' ? { steps: [{ weight: 50, pause: '100ms' }] } : {}) };
    const { w } = await serving(shape, traffic);
    const { serviceId, environmentId } = await w.ids();
    const containers = await w.replicas();
    const servers = await w.servers();
    await w.monitor.reset();
    w.runtime.scriptRun((spec) => spec.kind === 'release', { exitCode: 3, output: ['applying migration 0042'], stderr: ['relation "orders" already exists'] });
    const image = w.runtime.addImage('shop/web:2');
    const runtimeFrom = w.runtime.calls.length;
    const edgeFrom = w.edge.calls.length;
    const d = await w.deploy({ ...shape, tag: '2', releaseCommand: ['node', 'migrate.js'] });
    assert.equal(d.state, 'failed');
    assert.equal(d.errorCode, 'SLW_RELEASE_COMMAND_FAILED', d.error ?? '');
    assert.equal(d.error, 'release command ["node","migrate.js"] exited with code 3; no traffic moved');
    assert.deepEqual(mutations(w, runtimeFrom).map((c) => c.split(' ').slice(0, 2).join(' ')), ['runOnce release'], 'the release command ran once, and nothing else started or stopped');
    const oneOff = w.runtime.oneOffs.at(-1)!;
    assert.deepEqual([oneOff.argv, oneOff.image, oneOff.labels.release], [['node', 'migrate.js'], image.id, 2], 'in a one-off of the new release');
    assert.deepEqual(w.edge.calls.slice(edgeFrom), [], 'the edge was not touched');
    assert.deepEqual(await w.replicas(), containers, 'the same containers run');
    assert.deepEqual(await w.servers(), servers, 'the same servers, weights included');
    assert.equal(await w.liveRelease(), 1);
    assert.equal(await readWarmSet(w.store, serviceId, environmentId), null);
    if (strategy === 'canary') assert.equal(await readCanary(w.store, d.id), null, 'no canary was begun');
    const log = await w.logs(d.id);
    assert.ok(log.includes('  release | applying migration 0042') && log.includes('  release | relation "orders" already exists'), log.join('\n'));
    assert.equal(w.monitor.samples.length, 1, 'no edge change at all');
  });
}

test('a release command that outlives release_timeout is killed and fails the deployment; nothing of v2 starts', async () => {
  const { w, v1 } = await serving({ replicas: 2 });
  w.runtime.scriptRun((spec) => spec.kind === 'release', { exitCode: 0, durationMs: Number.POSITIVE_INFINITY });
  const runtimeFrom = w.runtime.calls.length;
  const d = await w.deploy({ replicas: 2, tag: '2', releaseCommand: ['sleep', 'forever'], releaseTimeout: '100ms' });
  assert.equal(d.state, 'failed');
  assert.equal(d.errorCode, 'SLW_RELEASE_COMMAND_FAILED', d.error ?? '');
  assert.match(d.error ?? '', /^release command \["sleep","forever"\] did not finish within release_timeout .*; it was killed and no traffic moved$/);
  assert.deepEqual(mutations(w, runtimeFrom).map((c) => c.split(' ').slice(0, 2).join(' ')), ['runOnce release']);
  assert.deepEqual(await assertServes(w, 1, 2), v1);
});

test(
  'blue-green: a release command failing leaves the warm set warm (no traffic moved, nothing else changed)',
  async () => {
    const shape: ServiceShape = { replicas: 2, strategy: 'blue-green', keepWarm: '5m' };
    const { w, v1 } = await serving(shape);
    assert.equal((await w.deploy({ ...shape, tag: '2' })).state, 'succeeded');
    const { serviceId, environmentId } = await w.ids();
    const warm = await readWarmSet(w.store, serviceId, environmentId);
    assert.equal(warm?.release, 1);
    const containers = await w.replicas();
    const servers = await w.servers();
    w.runtime.scriptRun((spec) => spec.kind === 'release', { exitCode: 3 });
    const runtimeFrom = w.runtime.calls.length;
    const edgeFrom = w.edge.calls.length;
    const d = await w.deploy({ ...shape, tag: '3', releaseCommand: ['node', 'migrate.js'] });
    assert.equal(d.errorCode, 'SLW_RELEASE_COMMAND_FAILED', d.error ?? '');
    // What the undo did instead, for the report: the warm replicas were drained and stopped, the record kept.
    const left = { stopped: mutations(w, runtimeFrom).filter((c) => c.startsWith('stopReplica')), edge: w.edge.calls.slice(edgeFrom), warm: await readWarmSet(w.store, serviceId, environmentId), v1Running: v1.filter((n) => w.runtime.containerInfo(n)?.state === 'running') };
    assert.deepEqual(left.stopped, [], JSON.stringify(left));
    assert.deepEqual(left.edge, [], JSON.stringify(left));
    assert.deepEqual(await w.replicas(), containers);
    assert.deepEqual(await w.servers(), servers);
    assert.deepEqual(left.warm, warm);
  },
);
