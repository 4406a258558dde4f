/**
 * The real DeployEngine on in-memory ports (issue 22): rolling deploys of every small shape,
 * recreate, and the ways a deployment fails (readiness, release command, container start), the
 * service lease and approvals. Each deploy asserts what the ports hold afterwards (edge servers,
 * containers, the live release) and what the Monitor saw while it ran (capacity, surge, drain
 * before stop, nothing unready in rotation).
 *
 * Lives at the root of src/ with its world builder (engine-world.test-support.ts, which says
 * why): only there may a unit test import the engine, the store and src/testing together.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { StartSpec } from '../testing/memory-runtime';
import { BACKEND, configOf, engineWorld, parseShape, names, assertReleaseServes, assertRoundRobin, type EngineWorld, type ServiceShape } from './engine-world.test-support';
import { DeployEngine } from '../engine/deploy-engine';
import { isSlipwayError } from '../core/errors';

const worlds: EngineWorld[] = [];
after(async () => {
  for (const w of worlds) await w.close();
});

async function world(): Promise<EngineWorld> {
  const w = await engineWorld();
  worlds.push(w);
  return w;
}

const ofRelease = (n: number) => (spec: StartSpec) => 'release' in spec.labels && spec.labels.release === n;

/** A world serving v1 with `shape`, then watched from that point. */
async function serving(shape: ServiceShape): Promise<{ w: EngineWorld; v1: string[] }> {
  const w = await world();
  const d = await w.deploy({ ...shape, tag: '1' });
  assert.equal(d.state, 'succeeded', `v1 deploy: ${d.error}`);
  const v1 = names(await w.servers());
  assert.equal(v1.length, shape.replicas ?? 1);
  await w.monitor.reset();
  return { w, v1 };
}

/** The release serves (engine-world's check) and requests reach all of its replicas. */
async function assertServes(w: EngineWorld, release: number, replicas: number): Promise<string[]> {
  const servers = await assertReleaseServes(w, release, replicas);
  assertRoundRobin(w, servers, replicas);
  return servers;
}

function assertClean(w: EngineWorld): void {
  assert.deepEqual(w.monitor.violations, [], 'no replica in rotation without passing readiness, none stopped while in rotation');
}

function assertFailedWith(d: { state: string; errorCode: string | null; error: string | null }, code: string, message: RegExp): void {
  assert.equal(d.state, 'failed');
  assert.equal(d.errorCode, code, d.error ?? '');
  assert.match(d.error ?? '', message);
}

describe('rolling deploys of every small shape', () => {
  const shapes: Array<Required<Pick<ServiceShape, 'replicas' | 'maxSurge' | 'maxUnavailable'>>> = [];
  for (const replicas of [1, 2, 3]) for (const maxSurge of [0, 1, 2]) for (const maxUnavailable of [0, 1]) shapes.push({ replicas, maxSurge, maxUnavailable });

  test('the config validation refuses exactly max_surge = max_unavailable = 0', () => {
    const refused = shapes.filter((s) => !parseShape(s).ok);
    assert.deepEqual(refused, shapes.filter((s) => s.maxSurge + s.maxUnavailable === 0));
    const r = parseShape({ maxSurge: 0, maxUnavailable: 0 });
    assert.ok(!r.ok && r.errors.some((e) => e.path === 'services.web.deploy.max_surge'));
  });

  for (const shape of shapes.filter((s) => parseShape(s).ok)) {
    const { replicas, maxSurge, maxUnavailable } = shape;
    test(`replicas ${replicas}, max_surge ${maxSurge}, max_unavailable ${maxUnavailable}`, async () => {
      const { w, v1 } = await serving(shape);
      const d = await w.deploy({ ...shape, tag: '2' });
      assert.equal(d.state, 'succeeded', d.error ?? '');
      await assertServes(w, 2, replicas);
      for (const old of v1) assert.equal(w.runtime.containerInfo(old), null, `${old} (v1) is removed`);
      assertClean(w);
      // Capacity and surge as the config allows, and the monitor did watch the rollout.
      assert.ok(w.monitor.minReady >= replicas - maxUnavailable, `ready servers dropped to ${w.monitor.minReady} (< ${replicas} - ${maxUnavailable}): ${JSON.stringify(w.monitor.samples)}`);
      assert.ok(w.monitor.peakRunning <= replicas + maxSurge, `${w.monitor.peakRunning} replicas ran at once (> ${replicas} + ${maxSurge})`);
      assert.equal(w.monitor.samples.filter((s) => s.after.startsWith('addServer')).length, replicas, 'one addServer per new replica');
      assert.equal(w.monitor.samples.filter((s) => s.after.startsWith('drainServer')).length, replicas, 'every old replica drained');
      // Old replicas leave rotation no faster than max_unavailable allows: with no surge the rollout must dip.
      if (maxSurge === 0) assert.equal(w.monitor.minReady, replicas - maxUnavailable);
    });
  }
});

test('recreate stops every old replica before the first new one starts', async () => {
  const { w, v1 } = await serving({ replicas: 2, strategy: 'recreate' });
  const callsBefore = w.runtime.calls.length;
  const d = await w.deploy({ replicas: 2, strategy: 'recreate', tag: '2' });
  assert.equal(d.state, 'succeeded', d.error ?? '');
  await assertServes(w, 2, 2);
  for (const old of v1) assert.equal(w.runtime.containerInfo(old), null);
  assertClean(w);
  assert.equal(w.monitor.overlappingStarts, 0, 'no v2 replica started while a v1 one ran');
  assert.equal(w.monitor.peakRunning, 2);
  // The price of recreate for a web service: a moment with nothing in rotation.
  assert.equal(w.monitor.minReady, 0);
  const calls = w.runtime.calls.slice(callsBefore).filter((c) => c.startsWith('startReplica') || c.startsWith('stopReplica'));
  assert.deepEqual(calls.map((c) => c.split(' ')[0]), ['stopReplica', 'stopReplica', 'startReplica', 'startReplica']);
});

test('rolling: a drained replica is stopped only once its requests in flight have ended', async () => {
  const { w, v1 } = await serving({ replicas: 1, drainTimeout: '5s' });
  w.edge.inFlight(BACKEND, v1[0]!, 2);
  // The requests end 100 ms into the deploy; the runtime calls made by then are counted.
  let callsWhenFinished = -1;
  setTimeout(() => {
    callsWhenFinished = w.runtime.calls.length;
    w.edge.finishInFlight(BACKEND, v1[0]!);
  }, 100);
  const d = await w.deploy({ replicas: 1, tag: '2' });
  assert.equal(d.state, 'succeeded', d.error ?? '');
  assert.ok(callsWhenFinished > 0, 'the requests ended during the deploy');
  const stop = w.runtime.calls.indexOf(`stopReplica ${v1[0]}`);
  assert.ok(stop >= callsWhenFinished, `v1 was stopped (call ${stop}) only after its requests ended (call ${callsWhenFinished})`);
  assert.ok(w.edge.calls.indexOf(`drainServer ${BACKEND}/${v1[0]}`) >= 0);
  await assertServes(w, 2, 1);
  assertClean(w);
});

test('a replica that never becomes healthy fails the deployment; v1 keeps serving all of it', async () => {
  const { w, v1 } = await serving({ replicas: 2 });
  w.runtime.unhealthyStartsOf(ofRelease(2));
  const d = await w.deploy({ replicas: 2, tag: '2', deadline: '150ms' });
  assertFailedWith(d, 'SLW_HEALTH_FAILED', /did not pass readiness on \/health/);
  assert.deepEqual(await assertServes(w, 1, 2), v1, 'the same v1 replicas serve');
  assert.ok(w.runtime.calls.some((c) => c.startsWith('startReplica shop-web-production-v2-')), 'a v2 replica was tried');
  assert.ok(w.monitor.minReady >= 2, 'v1 never lost a server');
  assertClean(w);
  assert.ok(!w.edge.calls.some((c) => c.startsWith('addServer') && c.includes('-v2-')), 'the unhealthy replica never reached the edge');
});

test('a release command that exits 1 fails the deployment before any replica starts; v1 serves', async () => {
  const { w, v1 } = await serving({ replicas: 2 });
  w.runtime.scriptRun((spec) => spec.kind === 'release', { exitCode: 1, output: ['migration 7 failed'] });
  const runtimeBefore = w.runtime.calls.length;
  const edgeBefore = w.edge.calls.length;
  const d = await w.deploy({ replicas: 2, tag: '2', releaseCommand: ['node', 'migrate.js'] });
  assertFailedWith(d, 'SLW_RELEASE_COMMAND_FAILED', /exited with code 1; no traffic moved/);
  const during = w.runtime.calls.slice(runtimeBefore);
  assert.equal(during.filter((c) => c.startsWith('runOnce release')).length, 1, 'the release command ran once');
  assert.deepEqual(during.filter((c) => c.startsWith('startReplica') || c.startsWith('stopReplica')), [], 'no replica started or stopped');
  assert.deepEqual(w.edge.calls.slice(edgeBefore), [], 'the edge was not touched');
  assert.deepEqual(w.runtime.oneOffs.at(-1)?.argv, ['node', 'migrate.js']);
  assert.ok((await w.logs(d.id)).includes('  release | migration 7 failed'), 'its output is in the deployment log');
  assert.deepEqual(await assertServes(w, 1, 2), v1);
  assert.equal(w.monitor.samples.length, 1, 'no edge change at all');
});

test('a replica that fails to start mid-rollout fails cleanly; v1 is back at full capacity', async () => {
  const { w } = await serving({ replicas: 3, maxSurge: 1, maxUnavailable: 0 });
  // The first v2 replica starts and takes traffic (a v1 one is retired for it); the second fails.
  let v2Starts = 0;
  w.runtime.failStartsOf((spec) => ofRelease(2)(spec) && ++v2Starts === 2);
  const d = await w.deploy({ replicas: 3, maxSurge: 1, maxUnavailable: 0, tag: '2' });
  assertFailedWith(d, 'SLW_RUNTIME', /injected start failure/);
  assert.equal(w.monitor.samples.filter((s) => s.after.startsWith('addServer') && s.after.includes('-v2-')).length, 1, 'one v2 replica had served');
  await assertServes(w, 1, 3);
  assert.ok(w.monitor.minReady >= 3, `capacity dropped to ${w.monitor.minReady} during the rollout and its undo`);
  assertClean(w);
  // The undo converged back to v1 (a new v1 replica, ready, before the v2 one was drained and retired).
  const log = await w.logs(d.id);
  assert.ok(log.includes('v1 keeps serving'), log.join('\n'));
  assert.ok(log.some((l) => /^retired replica shop-web-production-v2-/.test(l)), log.join('\n'));
});

test('a replica that fails to start in the first batch fails cleanly; the v1 replicas are untouched', async () => {
  const { w, v1 } = await serving({ replicas: 2 });
  w.runtime.failStartsOf(ofRelease(2));
  const d = await w.deploy({ replicas: 2, tag: '2' });
  assertFailedWith(d, 'SLW_RUNTIME', /injected start failure/);
  assert.deepEqual(await assertServes(w, 1, 2), v1);
  assert.equal(w.monitor.minReady, 2);
  assertClean(w);
});

test('the service lease: a second deploy while one runs is refused, by this engine or another on the same store', async () => {
  const { w, v1 } = await serving({ replicas: 1 });
  // v2's release command takes 300 ms: the deployment holds the lease meanwhile.
  w.runtime.scriptRun((spec) => spec.kind === 'release', { exitCode: 0, durationMs: 300 });
  const first = await w.start({ replicas: 1, tag: '2', releaseCommand: ['true'] });
  const refused = async (engine: DeployEngine) => {
    w.runtime.addImage('shop/web:3');
    await assert.rejects(engine.deploy({ config: configOf({ tag: '3' }), service: 'web', env: 'production', source: null, unrestricted: true }), (err: unknown) => {
      assert.ok(isSlipwayError(err), String(err));
      assert.equal(err.code, 'SLW_DEPLOY_LOCKED');
      assert.match(err.message, new RegExp(`already being deployed by deployment ${first.id}`));
      return true;
    });
  };
  await refused(w.engine);
  await refused(new DeployEngine(w.ctx));
  const d = await w.settle(first.id);
  assert.equal(d.state, 'succeeded', d.error ?? '');
  assert.equal(w.runtime.calls.filter((c) => c.startsWith('startReplica shop-web-production-v3-')).length, 0, 'the refused deploys started nothing');
  const service = (await w.store.getService((await w.store.getProject('shop'))!.id, 'web'))!;
  assert.equal((await w.store.listDeployments({ serviceId: service.id })).length, 2, 'refused deploys leave no deployment record');
  await assertServes(w, 2, 1);
  assert.ok(!v1.some((n) => w.runtime.containerInfo(n)));
  // Once it ended the lease is free again.
  const next = await w.deploy({ replicas: 1, tag: '3' });
  assert.equal(next.state, 'succeeded', next.error ?? '');
  await assertServes(w, 3, 1);
});

test('the service lease: of two deploys asked at the same moment exactly one runs', async () => {
  const { w } = await serving({ replicas: 2 });
  const results = await Promise.allSettled([w.start({ replicas: 2, tag: '2' }), w.start({ replicas: 2, tag: '3' })]);
  const ran = results.filter((r): r is PromiseFulfilledResult<Awaited<ReturnType<EngineWorld['start']>>> => r.status === 'fulfilled');
  const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  assert.equal(ran.length, 1);
  assert.equal(refused.length, 1);
  assert.ok(isSlipwayError(refused[0]!.reason) && refused[0]!.reason.code === 'SLW_DEPLOY_LOCKED', String(refused[0]!.reason));
  const d = await w.settle(ran[0]!.value.id);
  assert.equal(d.state, 'succeeded', d.error ?? '');
  const release = (await w.store.getRelease(d.releaseId!))!.number;
  await assertServes(w, release, 2);
  const startedReleases = new Set(w.runtime.calls.filter((c) => c.startsWith('startReplica')).map((c) => /-v(\d+)-/.exec(c)![1]));
  assert.deepEqual([...startedReleases].sort(), ['1', String(release)], 'only one new release ever started containers');
  assert.ok(w.monitor.minReady >= 2);
  assertClean(w);
});

test('approval: required leaves the deployment awaiting approval with nothing started; approve runs it', async () => {
  const { w, v1 } = await serving({ replicas: 2 });
  const runtimeBefore = w.runtime.calls.length;
  const edgeBefore = w.edge.calls.length;
  const waiting = await w.start({ replicas: 2, tag: '2', approval: 'required' });
  assert.equal(waiting.state, 'awaiting_approval');
  const stored = (await w.store.getDeployment(waiting.id))!;
  assert.equal(stored.state, 'awaiting_approval');
  assert.equal(stored.releaseId, null, 'no release yet');
  assert.equal(w.engine.isRunning(waiting.id), false);
  const during = w.runtime.calls.slice(runtimeBefore);
  assert.deepEqual(during.filter((c) => /^(startReplica|stopReplica|runOnce)/.test(c)), [], 'nothing started or stopped');
  assert.deepEqual(w.edge.calls.slice(edgeBefore), []);
  assert.deepEqual(await assertServes(w, 1, 2), v1);
  // Another deploy is refused while it waits.
  await assert.rejects(w.start({ replicas: 2, tag: '3' }), (err: unknown) => isSlipwayError(err) && err.code === 'SLW_DEPLOY_LOCKED' && err.message.includes('awaiting approval'));

  const approved = await w.engine.approve(waiting.id);
  assert.equal(approved.id, waiting.id);
  const d = await w.settle(waiting.id);
  assert.equal(d.state, 'succeeded', d.error ?? '');
  await assertServes(w, 2, 2);
  assert.ok(w.monitor.minReady >= 2);
  assertClean(w);
  await assert.rejects(w.engine.approve(waiting.id), (err: unknown) => isSlipwayError(err) && err.code === 'SLW_CONFLICT');
});

test('a refused deploy changes nothing: the stored approval policy stays what the accepted deployment recorded', async () => {
  const w = await engineWorld();
  try {
    const waiting = await w.start({ tag: 'v1', replicas: 1, approval: 'required' });
    assert.equal(waiting.state, 'awaiting_approval');
    const project = (await w.store.getProject('shop'))!;
    const before = (await w.store.getEnvironment(project.id, 'production'))!.approval;
    assert.equal(before, 'required');
    await assert.rejects(w.start({ tag: 'v2', replicas: 1 }), /awaiting approval/);
    assert.equal((await w.store.getEnvironment(project.id, 'production'))!.approval, 'required', 'a refused deploy without approval: in slipway.yml does not turn approval off');
  } finally {
    await w.close();
  }
});
