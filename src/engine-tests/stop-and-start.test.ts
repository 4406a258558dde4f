/**
 * `slipway stop` and `slipway start` on the real engine and the memory ports: a stop is a new
 * release of the live one with 0 replicas that remembers its count; its replicas are drained
 * (requests in flight finish) and stopped like a scale down; the edge keeps the backend, with no
 * server, answering its domains with a 503 page naming the service; the reconciler repairs
 * nothing and keeps that page; status says stopped. A start runs the remembered count again (the
 * page stays until its replicas serve); a deploy from slipway.yml starts it with the file's count
 * and says so; a scale starts it with its count. Every strategy stops and starts all at once (a
 * blue-green warm set is retired by the stop). Jobs are refused with a pointer to `schedule: off`.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import pino from 'pino';
import { isSlipwayError } from '../core/errors';
import type { Deployment } from '../core/domain';
import { formatErrors, parseProjectConfig } from '../core/parse-config';
import { DeployEngine } from '../engine/deploy-engine';
import { Queries } from '../engine/queries';
import { Reconciler } from '../engine/reconciler';
import { readWarmSet } from '../engine/warm-sets';
import { CrashGate, bootControlPlane, checkInvariants } from './crash-harness.test-support';
import { BACKEND, ENV, HOST, PROJECT, SERVICE, assertReleaseServes, assertRoundRobin, engineWorld, waitFor, type EngineWorld, type ServiceShape } from './engine-world.test-support';

const worlds: EngineWorld[] = [];
after(async () => {
  for (const w of worlds) await w.close();
});

const logger = pino({ level: 'silent' });
const ref = { project: PROJECT, service: SERVICE, env: ENV };
const rejects = (p: Promise<unknown>, code: string, re: RegExp) => assert.rejects(p, (e: unknown) => isSlipwayError(e) && e.code === code && re.test(e.message));

async function serving(shape: ServiceShape): Promise<EngineWorld> {
  const w = await engineWorld();
  worlds.push(w);
  const d = await w.deploy({ tag: '1', ...shape });
  assert.equal(d.state, 'succeeded', d.error ?? '');
  await w.monitor.reset();
  return w;
}

async function stop(w: EngineWorld): Promise<Deployment> {
  const d = await w.settle((await w.engine.stopService({ ...ref, triggeredBy: 'test' })).id);
  assert.equal(d.state, 'succeeded', d.error ?? '');
  return d;
}

async function start(w: EngineWorld): Promise<Deployment> {
  const d = await w.settle((await w.engine.startService({ ...ref, triggeredBy: 'test' })).id);
  assert.equal(d.state, 'succeeded', d.error ?? '');
  return d;
}

async function statusOf(w: EngineWorld) {
  return (await new Queries(w.ctx).projectStatus(PROJECT, ENV)).services.find((s) => s.service === SERVICE)!;
}

/** The service is stopped everywhere: live release `release` with 0 replicas, no container, no server, the page at the edge. */
async function assertStopped(w: EngineWorld, release: number, remembered: number): Promise<void> {
  assert.equal(await w.liveRelease(), release);
  const { serviceId, environmentId } = await w.ids();
  const live = (await w.store.getCurrentRelease(serviceId, environmentId))!;
  assert.deepEqual([live.config.replicas, live.config.stoppedReplicas], [0, remembered], 'the stop release runs 0 and remembers the count');
  assert.deepEqual(await w.replicas(), [], 'no container of the service runs');
  assert.deepEqual(await w.servers(), [], 'the backend has no server (edge servers = ready replicas of the live release: none)');
  assert.deepEqual(
    (await w.edge.listBackends()).find((b) => b.name === BACKEND)?.stopped,
    { service: SERVICE },
    'the backend stays, with its stopped page',
  );
  assert.deepEqual(w.edge.route(HOST), { status: 503, backend: BACKEND, server: null, stopped: SERVICE });
  const answer = await w.edgeClient.get({ host: HOST, path: '/', timeoutMs: 1000 });
  assert.deepEqual([answer.status, answer.body], [503, `${SERVICE} is stopped`]);
  const status = await statusOf(w);
  assert.deepEqual([status.stopped, status.desiredReplicas, status.readyReplicas], [true, 0, 0], 'status says stopped');
}

test('stop: a new release with 0 replicas; each replica drained (its request in flight finishes) then stopped; the edge answers the stopped page', async () => {
  const w = await serving({ replicas: 2, releaseCommand: ['node', 'migrate.js'], drainTimeout: '5s' });
  const [busy] = (await w.servers()).map((s) => s.name);
  w.edge.inFlight(BACKEND, busy!, 1);
  const runs = w.runtime.oneOffs.length;
  const queued = await w.engine.stopService({ ...ref, triggeredBy: 'test' });
  assert.equal(queued.kind, 'stop');
  // The busy replica is drained (no new request) and keeps running until its request ends.
  await waitFor('the busy replica drains', async () => (await w.servers()).find((s) => s.name === busy)?.state === 'drain');
  assert.equal(w.runtime.containerInfo(busy!)?.state, 'running', 'not stopped while a request is in flight');
  assert.deepEqual(w.edge.route(HOST), { status: 503, backend: BACKEND, server: null, stopped: SERVICE }, 'no replica takes new requests: the page');
  w.edge.finishInFlight(BACKEND, busy!, 1);
  const d = await w.settle(queued.id);
  assert.equal(d.state, 'succeeded', d.error ?? '');
  assert.equal(d.triggeredBy, 'test');
  assert.equal(w.runtime.oneOffs.length, runs, 'no release command');
  assert.deepEqual(w.monitor.violations, [], 'no replica stopped while in rotation');
  await assertStopped(w, 2, 2);
  const logs = await w.logs(d.id);
  assert.ok(logs.some((l) => /^stopping shop\/web in production: v1 as a new release with 0 replicas \(its 2 drained and stopped/.test(l)), logs.join('\n'));
  assert.ok(logs.includes('v2 is live with 0 replicas: web is stopped (its domains answer 503 "web is stopped"); slipway start web runs 2 again'), logs.join('\n'));
  const reloads = w.edge.reloads;

  // Start: the remembered count, as a new release; the page stays until the replicas serve.
  const s = await start(w);
  assert.equal(s.kind, 'start');
  const servers = await assertReleaseServes(w, 3, 2);
  assertRoundRobin(w, servers, 4);
  const { serviceId, environmentId } = await w.ids();
  assert.equal((await w.store.getCurrentRelease(serviceId, environmentId))!.config.stoppedReplicas, null);
  assert.equal((await w.edge.listBackends()).find((b) => b.name === BACKEND)?.stopped, undefined, 'the page is off');
  const steps = (await w.store.listSteps(s.id)).map((x) => x.name);
  const batch = steps.findIndex((n) => /^batch 1\/1: start 2 replica\(s\) of v3$/.test(n));
  assert.ok(batch >= 0 && steps.indexOf('edge: stopped page off') > batch, `the page goes once the replicas serve: ${steps.join(' | ')}`);
  assert.ok(steps.indexOf('edge route') < batch);
  assert.equal(w.edge.reloads, reloads, 'stopping and starting never reloaded the edge');
  assert.equal((await statusOf(w)).stopped, false);
  assert.deepEqual(w.monitor.violations, []);
});

test('the reconciler leaves a stopped service alone: no repair, and it puts the stopped page back if the edge lost it', async () => {
  const w = await serving({ replicas: 2 });
  await stop(w);
  const reconciler = new Reconciler(w.ctx, w.engine, { intervalMs: 60_000, logger, now: () => 1_000_000 });
  const { serviceId, environmentId } = await w.ids();
  const before = (await w.store.listDeployments({ serviceId, environmentId })).length;
  const p = await reconciler.pass();
  await w.engine.idle();
  assert.deepEqual([p.repairsStarted, p.edgeCorrections], [0, 0], 'nothing to repair: 0 desired replicas');
  assert.equal((await w.store.listDeployments({ serviceId, environmentId })).length, before);
  await assertStopped(w, 2, 2);

  // The page lost behind Slipway's back (the backend declared without it): put back by the edge repair.
  const spec = (await w.edge.listBackends()).find((b) => b.name === BACKEND)!;
  await w.edge.ensureBackend({ name: spec.name, hosts: spec.hosts, ...(spec.https ? { https: spec.https } : {}), ...(spec.check ? { check: spec.check } : {}) });
  assert.equal(w.edge.route(HOST).stopped, undefined);
  const again = await reconciler.pass();
  await w.engine.idle();
  assert.deepEqual([again.repairsStarted, again.edgeCorrections], [0, 1]);
  await assertStopped(w, 2, 2);
  assert.equal((await w.store.listDeployments({ serviceId, environmentId })).filter((d) => d.kind === 'repair').length, 0, 'never a repair');
});

test('refusals: a stopped service is not stopped again nor restarted; a running one is not started; a job points to schedule: off; nothing recorded', async () => {
  const w = await serving({ replicas: 1 });
  await rejects(w.engine.startService(ref), 'SLW_CONFLICT', /^web in production is not stopped: v1 runs 1 replica\(s\)/);
  await stop(w);
  const before = (await w.store.listDeployments({})).length;
  await rejects(w.engine.stopService(ref), 'SLW_CONFLICT', /^web in production is already stopped \(v2 runs no replica\); slipway start web runs it again$/);
  await rejects(w.engine.restart(ref), 'SLW_CONFLICT', /is stopped \(v2 runs no replica\): nothing to restart; start it with slipway start web/);
  await rejects(w.engine.stopService({ ...ref, service: 'nope' }), 'SLW_NOT_FOUND', /service "nope" does not exist/);
  assert.equal((await w.store.listDeployments({})).length, before);
  assert.equal(await w.liveRelease(), 2);

  // A job keeps no replicas.
  const yml = `project: ${PROJECT}\nservices:\n  nightly:\n    image: shop/web:1\n    command: ["node", "report.js"]\n    schedule: "0 3 * * *"\n`;
  const parsed = parseProjectConfig(yml, { env: ENV });
  if (!parsed.ok) throw new Error(formatErrors(parsed.errors));
  const job = await w.settle((await w.engine.deploy({ config: parsed.config, service: 'nightly', env: ENV, source: null, unrestricted: true })).id);
  assert.equal(job.state, 'succeeded', job.error ?? '');
  const jobRef = { ...ref, service: 'nightly' };
  await rejects(w.engine.stopService(jobRef), 'SLW_BAD_REQUEST', /^nightly is a scheduled job: it keeps no replicas to stop \(each run is its own container\); to pause its scheduled runs in production, set its schedule to off for production in slipway\.yml and deploy$/);
  await rejects(w.engine.startService(jobRef), 'SLW_BAD_REQUEST', /^nightly is a scheduled job: it keeps no replicas to start/);
});

test('a deploy of a stopped service runs slipway.yml\'s count and says so; a scale starts it with its count', async () => {
  const w = await serving({ replicas: 2 });
  await stop(w);
  const d = await w.deploy({ tag: '2', replicas: 3 });
  assert.equal(d.state, 'succeeded', d.error ?? '');
  const logs = await w.logs(d.id);
  assert.ok(logs.includes('web was stopped (v2 runs no replica): this deploy starts it again with 3 replica(s) from slipway.yml'), logs.join('\n'));
  assertRoundRobin(w, await assertReleaseServes(w, 3, 3), 6);
  assert.equal((await w.edge.listBackends()).find((b) => b.name === BACKEND)?.stopped, undefined, 'the page is off');

  await stop(w);
  await assertStopped(w, 4, 3);
  const scaled = await w.settle((await w.engine.scale({ ...ref, replicas: 1 })).id);
  assert.equal(scaled.state, 'succeeded', scaled.error ?? '');
  assert.ok((await w.logs(scaled.id)).some((l) => l.startsWith('scaling shop/web in production from 0 (stopped) to 1 replica(s)')));
  assertRoundRobin(w, await assertReleaseServes(w, 5, 1), 2);
  assert.equal((await w.edge.listBackends()).find((b) => b.name === BACKEND)?.stopped, undefined);
  assert.deepEqual(w.monitor.violations, []);
});

test('a rollback never stops a service (it skips the stop release) and starts a stopped one; a secrets rollout of a stopped service keeps it stopped, without smoke checks', async () => {
  const w = await serving({ replicas: 2, smoke: '{ requests: [{ path: /health }], window: 0s }' });
  await stop(w);
  await start(w);
  const back = await w.settle((await w.engine.rollback({ ...ref, triggeredBy: 'test' })).id);
  assert.equal(back.state, 'succeeded', back.error ?? '');
  assert.ok((await w.logs(back.id)).some((l) => /^rolling back to v1 \(live until [^;]+; v2 stopped the service \(slipway stop\)\)$/.test(l)));
  assertRoundRobin(w, await assertReleaseServes(w, 1, 2), 4);

  await stop(w);
  await assertStopped(w, 4, 2);
  const secrets = await w.settle((await w.engine.redeployWithSecrets(ref, 'test')).id);
  assert.equal(secrets.state, 'succeeded', secrets.error ?? '');
  assert.ok(!(await w.store.listSteps(secrets.id)).some((s) => s.name.startsWith('smoke checks')), 'no smoke check of a stopped service');
  await assertStopped(w, 5, 2);
  const fromStopped = await w.settle((await w.engine.rollback(ref)).id);
  assert.equal(fromStopped.state, 'succeeded', fromStopped.error ?? '');
  assertRoundRobin(w, await assertReleaseServes(w, 3, 2), 4);
  assert.deepEqual(w.monitor.violations, []);
});

test('a start that fails readiness leaves the service stopped, with its page', async () => {
  const w = await serving({ replicas: 2, deadline: '100ms' });
  await stop(w);
  w.runtime.unhealthyStartsOf((spec) => 'release' in spec.labels && spec.labels.release === 3);
  const d = await w.settle((await w.engine.startService(ref)).id);
  assert.equal(d.state, 'failed');
  await assertStopped(w, 2, 2);
});

for (const strategy of ['blue-green', 'canary', 'recreate'] as const) {
  test(`${strategy}: stop and start all at once${strategy === 'blue-green' ? ' (the warm set is retired by the stop)' : ''}`, async () => {
    const w = await serving({ replicas: 2, strategy, keepWarm: '5m', steps: [{ weight: 50, pause: '0s' }] });
    if (strategy === 'blue-green') {
      assert.equal((await w.deploy({ tag: '2', replicas: 2, strategy, keepWarm: '5m' })).state, 'succeeded');
      const { serviceId, environmentId } = await w.ids();
      assert.equal((await readWarmSet(w.store, serviceId, environmentId))?.release, 1, 'v1 is warm');
    }
    const live = (await w.liveRelease())!;
    await w.monitor.reset();
    await stop(w);
    await assertStopped(w, live + 1, 2);
    const { serviceId, environmentId } = await w.ids();
    assert.equal(await readWarmSet(w.store, serviceId, environmentId), null, 'no warm set is kept for a stopped service');
    await start(w);
    assertRoundRobin(w, await assertReleaseServes(w, live + 2, 2), 4);
    assert.deepEqual(w.monitor.violations, []);
  });
}

// A crash after every port call of a stop and of a start (the crash harness's gate and boot; its
// sweeps deploy, these stop or start), then main.ts's boot: the invariants of crash-at-every-step
// hold (one of the two releases live and fully so: with 0 replicas, no container and no server),
// the edge agrees (the stopped page for a stopped service, requests answered otherwise), the lease
// is free: the opposite command then succeeds.
const CRASH_SHAPE = { strategy: 'rolling', replicas: 2, maxSurge: 1, maxUnavailable: 0 } as const;

async function crashWorld(kind: 'stop' | 'start'): Promise<EngineWorld> {
  const w = await engineWorld();
  assert.equal((await w.deploy({ tag: '1', replicas: 2 })).state, 'succeeded');
  if (kind === 'start') await stop(w);
  await w.monitor.reset();
  return w;
}

function gated(w: EngineWorld, gate: CrashGate): DeployEngine {
  return new DeployEngine({
    ...w.ctx,
    store: gate.wrap(w.store, 'store'),
    runtime: gate.wrap(w.runtime, 'runtime'),
    edge: gate.wrap(w.edge, 'edge'),
    probe: gate.wrapFn(w.ctx.probe),
    ...(w.ctx.tcpProbe ? { tcpProbe: gate.wrapFn(w.ctx.tcpProbe) } : {}),
  });
}

const ask = (engine: DeployEngine, kind: 'stop' | 'start') => (kind === 'stop' ? engine.stopService(ref) : engine.startService(ref));

async function measureStopStart(kind: 'stop' | 'start'): Promise<string[]> {
  const w = await crashWorld(kind);
  try {
    const gate = new CrashGate(Number.POSITIVE_INFINITY);
    const engine = gated(w, gate);
    const d = await ask(engine, kind);
    await engine.settled([d.id]);
    assert.equal((await w.store.getDeployment(d.id))?.state, 'succeeded');
    await gate.settled();
    return [...gate.calls];
  } finally {
    await w.close();
  }
}

async function crashStopStart(kind: 'stop' | 'start', k: number): Promise<string[]> {
  const w = await crashWorld(kind);
  try {
    const gate = new CrashGate(k);
    const dead = gated(w, gate);
    const asked = ask(dead, kind).then(
      (d) => d,
      () => null,
    );
    const ran = asked.then(async (d) => {
      if (d) await dead.settled([d.id]);
    });
    await Promise.race([gate.crash, ran]);
    await asked;
    await gate.settled();
    await bootControlPlane(w, CRASH_SHAPE);
    const [before, after] = kind === 'stop' ? [1, 2] : [2, 3];
    const v = await checkInvariants(w, [before, after]);
    await w.monitor.flush();
    v.push(...w.monitor.violations.map((x) => `DESIGN invariant 2/3: ${x}`));
    const live = await w.liveRelease();
    const { serviceId, environmentId } = await w.ids();
    const stopped = (await w.store.getCurrentRelease(serviceId, environmentId))?.config.replicas === 0;
    const page = (await w.edge.listBackends()).find((b) => b.name === BACKEND)?.stopped;
    if (stopped && (page?.service !== SERVICE || w.edge.route(HOST).stopped !== SERVICE)) v.push(`v${live} is stopped but the edge has no stopped page`);
    if (!stopped && page) v.push(`v${live} runs but the edge keeps the stopped page`);
    // The lease is free: the opposite command is accepted and ends with the service as it asks.
    const next = await w.settle((await (stopped ? w.engine.startService(ref) : w.engine.stopService(ref))).id).catch((err: unknown) => ({ state: `refused: ${String(err)}`, error: null }));
    if (next.state !== 'succeeded') v.push(`the next ${stopped ? 'start' : 'stop'} ended ${next.state} ${next.error ?? ''}`);
    else v.push(...(await checkInvariants(w, [(await w.liveRelease())!])).map((x) => `after the next ${stopped ? 'start' : 'stop'}: ${x}`));
    return v.map((x) => `k=${k} (after ${gate.calls.at(-1) ?? 'nothing'}): ${x}`);
  } finally {
    await w.close();
  }
}

for (const kind of ['stop', 'start'] as const) {
  test(`a crash after every port call of a ${kind}, then a boot: one release fully live, the edge agrees, the lease free`, async () => {
    const calls = await measureStopStart(kind);
    // The two points where any deployment leaks its lease until the TTL (crash-at-every-step.test.ts tests them): left out.
    const afterAcquire = calls.findIndex((c) => c.startsWith('store.acquireLease ')) + 1;
    const afterFinal = calls.findLastIndex((c) => /^store\.updateDeployment .* state=succeeded$/.test(c)) + 1;
    assert.ok(afterAcquire > 0 && afterFinal > afterAcquire, calls.join('\n'));
    const ks = Array.from({ length: calls.length }, (_, i) => i + 1).filter((k) => k !== afterAcquire && k !== afterFinal);
    const violations: string[] = [];
    for (let i = 0; i < ks.length; i += 16) violations.push(...(await Promise.all(ks.slice(i, i + 16).map((k) => crashStopStart(kind, k)))).flat());
    assert.deepEqual(violations, [], `${calls.length} calls swept`);
  });
}
