/**
 * The real DeployEngine's canary strategy on in-memory ports (issue 22): promotion through the
 * steps (the share of requests the edge gives the canary after each edge command: 25 %, 50 %,
 * then 100 %), the analysis aborting on a failing window (one edge command back, the canary
 * removed, `rolled_back` with the figures), failure_limit 2 (one failing window tolerated, the
 * second aborts), inconclusive windows, manual abort / pause and resume / promote, a
 * control-plane restart mid-step (recovery aborts the canary: docs/configuration.md, "Canary
 * deploys") and after the promotion's flip (it stands), the real per-release windows of
 * src/observe fed by requests routed through the edge, and the fallback to rolling without
 * request metrics.
 *
 * The analysis reads request figures from EngineContext.traffic (the ReleaseTraffic port), not
 * from the store: most tests give it a ScriptedTraffic whose figures per window are set by the
 * test, so every verdict is deterministic. The step loop ticks every 200 ms (canary.ts) and
 * judges a window at the first tick past `analysis.interval`: steps of 100 ms last one tick,
 * intervals of 100 ms give one window a tick, and steps meant never to end by themselves are
 * 10 s (a test that wrongly waits for one fails on its assertions, it does not hang). The tests
 * run concurrently, each in its own world: most of their time is waiting for those ticks.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import { DeployEngine } from '../engine/deploy-engine';
import type { EngineContext } from '../engine/engine-context';
import { readCanary, readLiveCanary } from '../engine/canary-states';
import { recoverAfterRestart } from '../engine/recovery';
import { Reconciler } from '../engine/reconciler';
import { serviceLeaseKey } from '../engine/service-lease';
import { ReleaseWindows } from '../observe/release-windows';
import { figures, type WindowFigures } from '../core/canary-analysis';
import type { CanaryState } from '../core/canary-state';
import { ACTIVE_STATES, type Deployment, type ServiceRef } from '../core/domain';
import { isSlipwayError } from '../core/errors';
import type { ReleaseTraffic } from '../core/ports/release-traffic';
import type { Store } from '../core/ports/store';
import { CrashGate } from './crash-harness.test-support';
import { BACKEND, ENV, HOST, PROJECT, SERVICE, configOf, engineWorld, assertReleaseServes, waitFor, type EngineWorld, type ServiceShape } from './engine-world.test-support';

const worlds: EngineWorld[] = [];
after(async () => {
  for (const w of worlds) {
    // A test that failed midway may leave a canary paused or in a long step: abort it, or close() would wait for it forever.
    for (const d of await w.store.listDeployments({ states: [...ACTIVE_STATES] })) if (w.engine.canaries.has(d.id)) w.engine.canaries.send(d.id, 'abort');
    await w.close();
  }
});

/**
 * Request figures per analysis window, as the test scripts them: `script(release, n)` gives what
 * `release` answered in the n-th window the engine asks about it (1-based).
 */
class ScriptedTraffic implements ReleaseTraffic {
  readonly asked = new Map<number, number>();
  constructor(private readonly script: (release: number, n: number) => WindowFigures | null) {}

  window(_ref: ServiceRef, release: number): WindowFigures | null {
    const n = (this.asked.get(release) ?? 0) + 1;
    this.asked.set(release, n);
    return this.script(release, n);
  }
}

/** Both releases answer well: 40 canary and 120 stable requests a window, no 5xx, p99 20 ms. */
const healthy = () => new ScriptedTraffic((release) => (release === 1 ? figures(120, 0, 20) : figures(40, 0, 20)));

/** Steps of one tick each: the loop's first tick (200 ms) finds the pause over and judges the window. */
const STEPS = [
  { weight: 25, pause: '100ms' },
  { weight: 50, pause: '100ms' },
];
const ONE_STEP = [{ weight: 50, pause: '100ms' }];
/** Steps that never end by themselves within a test. */
const LONG_STEPS = [
  { weight: 25, pause: '10s' },
  { weight: 50, pause: '10s' },
];
const CANARY: ServiceShape = { strategy: 'canary', replicas: 2, steps: STEPS, analysis: { interval: '100ms', min_requests: 10 } };
const releaseOf = (server: string) => Number(/-v(\d+)-[^-]+$/.exec(server)?.[1]);

async function world(traffic?: ReleaseTraffic): Promise<EngineWorld> {
  const w = await engineWorld(traffic ? { traffic } : {});
  worlds.push(w);
  return w;
}

/** A world serving v1 (its first deploy has nothing to compare with: it rolls out), watched from there on. */
async function serving(traffic: ReleaseTraffic | undefined, shape: ServiceShape = CANARY): Promise<{ w: EngineWorld; v1: string[] }> {
  const w = await world(traffic);
  const d = await w.deploy({ ...shape, tag: '1' });
  assert.equal(d.state, 'succeeded', `v1 deploy: ${d.error}`);
  if (traffic) assert.ok((await w.logs(d.id)).includes('canary: no live release to compare with: rolling out instead'));
  const v1 = await assertServes(w, 1, 2);
  await w.monitor.reset();
  return { w, v1 };
}

/** The release serves (engine-world's check) and every request goes to it. */
async function assertServes(w: EngineWorld, release: number, replicas: number): Promise<string[]> {
  const servers = await assertReleaseServes(w, release, replicas);
  assert.equal(shareOf(w, release), 100, `every request goes to v${release}`);
  return servers;
}

/** The percentage of 40 requests routed now (weighted round robin, deterministic) that `release` answers. */
function shareOf(w: EngineWorld, release = 2): number {
  const answers = Array.from({ length: 40 }, () => w.edge.route(HOST));
  assert.ok(answers.every((a) => a.status === 200), `every request is answered: ${JSON.stringify(answers.filter((a) => a.status !== 200))}`);
  return (100 * answers.filter((a) => releaseOf(a.server!) === release).length) / answers.length;
}

/** After every weight change at the edge: the share of requests v2 gets from then on. */
function watchShares(w: EngineWorld): number[] {
  const shares: number[] = [];
  const setWeights = w.edge.setWeights.bind(w.edge);
  w.edge.setWeights = async (backend, weights) => {
    await setWeights(backend, weights);
    shares.push(shareOf(w));
  };
  return shares;
}

function assertClean(w: EngineWorld): void {
  assert.deepEqual(w.monitor.violations, [], 'no replica in rotation without passing readiness, none stopped while in rotation');
}

async function canaryOf(w: EngineWorld, id: string): Promise<CanaryState> {
  const c = await readCanary(w.store, id);
  assert.ok(c, `deployment ${id} has a canary record`);
  return c;
}

async function assertNoLiveCanary(w: EngineWorld): Promise<void> {
  const { serviceId, environmentId } = await w.ids();
  assert.equal(await readLiveCanary(w.store, serviceId, environmentId), null, 'no canary is recorded as running');
  assert.equal(await w.store.getLease(serviceLeaseKey(serviceId, environmentId)), null, 'the lease is free');
}

/** Waits until the deployment's canary record says its first step runs. */
const stepping = (w: EngineWorld, id: string) => waitFor('the first canary step', async () => (await readCanary(w.store, id))?.phase === 'stepping');

/**
 * A control plane deploying v2 through ports that stop answering it (CrashGate, as in the crash
 * harness) the moment `crashWhen` holds for a canary record it wrote: from then on nothing it
 * does reaches the store, Docker or the edge, as with a killed process.
 */
async function crashingDeploy(w: EngineWorld, shape: ServiceShape, crashWhen: (c: CanaryState) => boolean): Promise<{ dead: DeployEngine; id: string }> {
  const gate = new CrashGate(Number.POSITIVE_INFINITY);
  const store = w.store;
  const hooked = new Proxy(store, {
    get: (t, prop) => {
      if (prop === 'setSetting') {
        return async (key: string, value: string) => {
          await t.setSetting(key, value);
          if (key.startsWith('canary:') && value && crashWhen(JSON.parse(value) as CanaryState)) gate.crashed = true;
        };
      }
      const v: unknown = Reflect.get(t, prop, t);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  }) as Store;
  const ctx: EngineContext = { ...w.ctx, store: gate.wrap(hooked, 'store'), runtime: gate.wrap(w.runtime, 'runtime'), edge: gate.wrap(w.edge, 'edge'), probe: gate.wrapFn(w.ctx.probe) };
  const dead = new DeployEngine(ctx);
  w.runtime.addImage('shop/web:2');
  const d = await dead.deploy({ config: configOf({ ...shape, tag: '2' }), service: SERVICE, env: ENV, source: null, unrestricted: true, triggeredBy: 'test' });
  await waitFor('the crash', () => gate.crashed);
  // What had reached the ports when the process died completes there.
  await gate.settled();
  return { dead, id: d.id };
}

/** src/main.ts's boot on the same ports: a new engine, recovery, then a reconciler pass. */
async function boot(w: EngineWorld): Promise<{ engine: DeployEngine; report: Awaited<ReturnType<typeof recoverAfterRestart>> }> {
  const engine = new DeployEngine(w.ctx);
  const report = await recoverAfterRestart(w.ctx, engine.events);
  const pass = await new Reconciler(w.ctx, engine, { intervalMs: 60_000, logger: pino({ level: 'silent' }) }).pass();
  await engine.idle();
  assert.deepEqual([pass.repairsStarted, pass.edgeCorrections], [0, 0], 'the boot left nothing for the reconciler to repair or correct');
  return { engine, report };
}

async function deployWith(w: EngineWorld, engine: DeployEngine, shape: ServiceShape, tag: string): Promise<Deployment> {
  w.runtime.addImage(`shop/web:${tag}`);
  const d = await engine.deploy({ config: configOf({ ...shape, tag }), service: SERVICE, env: ENV, source: null, unrestricted: true, triggeredBy: 'test' });
  await engine.settled([d.id]);
  return (await w.store.getDeployment(d.id))!;
}

describe('canary deploys', { concurrency: true }, () => {
  test('promotion: the canary takes 25 %, then 50 % of requests, then the whole new set takes all of them and v1 is retired', async () => {
    const traffic = healthy();
    const { w, v1 } = await serving(traffic);
    const shares = watchShares(w);
    const d = await w.deploy({ ...CANARY, tag: '2' });
    assert.equal(d.state, 'succeeded', d.error ?? '');
    assert.deepEqual(shares, [25, 50, 100], 'one edge command per step, then the promotion');
    await assertServes(w, 2, 2);
    for (const n of v1) assert.equal(w.runtime.containerInfo(n), null, `${n} (v1) is removed`);
    // One canary replica (⌈2 × 50 / 100⌉) on standby first; the second v2 replica starts at the promotion.
    const starts = w.runtime.calls.filter((c) => c.startsWith('startReplica shop-web-production-v2-'));
    assert.equal(starts.length, 2);
    assert.match(w.monitor.samples[1]?.after ?? '', /^addServer shop-web-production-v2-/);
    assert.deepEqual(w.monitor.samples[1]?.ready, v1, 'the canary joined the edge on standby: no request before step 1');
    assert.ok(w.monitor.minReady >= 2, 'v1 served until the promotion');
    assertClean(w);

    const c = await canaryOf(w, d.id);
    assert.equal(c.phase, 'promoted');
    assert.deepEqual([c.step, c.steps, c.failures, c.stableRelease, c.release], [2, 2, 0, 1, 2]);
    for (const step of [1, 2]) assert.ok(c.windows.some((x) => x.step === step && x.verdict === 'pass'), `step ${step} was judged and passed: ${JSON.stringify(c.windows)}`);
    assert.ok((traffic.asked.get(1) ?? 0) >= 2 && (traffic.asked.get(2) ?? 0) >= 2, 'each window compares both releases');
    await assertNoLiveCanary(w);
    const steps = (await w.store.listSteps(d.id)).map((s) => `${s.status} ${s.name}`);
    assert.deepEqual(steps.filter((s) => s.includes('canary step') || s.includes('promote')), [
      'done canary step 1/2: 25 % of requests to v2',
      'done canary step 2/2: 50 % of requests to v2',
      'done promote v2: all traffic to it',
    ]);
  });

  test('a failing analysis window aborts: one edge command gives v1 every request, the canary is removed, the deployment is rolled_back with the figures', async () => {
    // The canary answers half of its requests with a 5xx.
    const traffic = new ScriptedTraffic((release) => (release === 1 ? figures(120, 0, 20) : figures(40, 20, 20)));
    const shape: ServiceShape = { ...CANARY, steps: LONG_STEPS };
    const { w, v1 } = await serving(traffic, shape);
    const shares = watchShares(w);
    const d = await w.deploy({ ...shape, tag: '2' });
    assert.equal(d.state, 'rolled_back');
    assert.equal(d.errorCode, 'SLW_CANARY_FAILED', d.error ?? '');
    assert.match(d.error ?? '', /^canary analysis failed at step 1\/2 \(25 % to v2\): error rate 50\.0 % > max_error_rate 5\.0 % \(20\/40\)/);
    assert.deepEqual(shares, [25, 0], 'step 1, then the abort line');
    assert.deepEqual(await assertServes(w, 1, 2), v1, 'the same v1 replicas serve everything');
    assert.equal(await w.liveRelease(), 1);
    assert.ok(w.monitor.minReady >= 2, 'v1 never lost a server');
    assertClean(w);

    const c = await canaryOf(w, d.id);
    assert.equal(c.phase, 'aborted');
    assert.equal(c.failures, 1);
    assert.deepEqual(c.windows.map((x) => [x.step, x.verdict]), [[1, 'fail']], 'aborted at the first failing window');
    await assertNoLiveCanary(w);
    const event = (await w.store.listOutbox(0, 100)).find((e) => e.type === 'deployment.rolled_back' && e.payload.deploymentId === d.id);
    assert.ok(event, 'a deployment.rolled_back event');
    assert.deepEqual(
      [event.payload.reason, event.payload.errorCode, event.payload.release, event.payload.stableRelease, event.payload.step, event.payload.weight, event.payload.failures],
      ['canary', 'SLW_CANARY_FAILED', 2, 1, 1, 25, 1],
    );
    assert.deepEqual((event.payload.window as { canary: WindowFigures }).canary, figures(40, 20, 20));
  });

  test('failure_limit 2: one failing window is tolerated and the canary is promoted', async () => {
    // Only the first window of the canary fails.
    const traffic = new ScriptedTraffic((release, n) => (release === 1 ? figures(120, 0, 20) : figures(40, n === 1 ? 20 : 0, 20)));
    const shape: ServiceShape = { ...CANARY, steps: [{ weight: 50, pause: '400ms' }], analysis: { interval: '100ms', min_requests: 10, failure_limit: 2 } };
    const { w } = await serving(traffic, shape);
    const d = await w.deploy({ ...shape, tag: '2' });
    assert.equal(d.state, 'succeeded', d.error ?? '');
    await assertServes(w, 2, 2);
    const c = await canaryOf(w, d.id);
    assert.equal(c.failures, 1);
    assert.equal(c.windows[0]?.verdict, 'fail');
    assert.ok(c.windows.slice(1).every((x) => x.verdict === 'pass'), JSON.stringify(c.windows));
    assert.ok((await w.logs(d.id)).some((l) => l.includes('→ FAIL (1/2): error rate 50.0 %')));
    assertClean(w);
  });

  test('failure_limit 2: the second failing window aborts, not the first', async () => {
    const traffic = new ScriptedTraffic((release) => (release === 1 ? figures(120, 0, 20) : figures(40, 20, 20)));
    const shape: ServiceShape = { ...CANARY, steps: [{ weight: 50, pause: '10s' }], analysis: { interval: '100ms', min_requests: 10, failure_limit: 2 } };
    const { w, v1 } = await serving(traffic, shape);
    const d = await w.deploy({ ...shape, tag: '2' });
    assert.equal(d.state, 'rolled_back');
    assert.equal(d.errorCode, 'SLW_CANARY_FAILED', d.error ?? '');
    const c = await canaryOf(w, d.id);
    assert.deepEqual(c.windows.map((x) => x.verdict), ['fail', 'fail']);
    assert.equal(c.failures, 2);
    const log = await w.logs(d.id);
    assert.ok(log.some((l) => l.includes('→ FAIL (1/2)')) && log.some((l) => l.includes('→ FAIL (2/2)')), log.join('\n'));
    assert.deepEqual(await assertServes(w, 1, 2), v1);
    assertClean(w);
  });

  test('windows with fewer canary requests than min_requests are inconclusive: they neither fail nor hold the step', async () => {
    // Every canary answer is a 5xx, but there are only 3 a window.
    const traffic = new ScriptedTraffic((release) => (release === 1 ? figures(120, 0, 20) : figures(3, 3, 20)));
    const shape: ServiceShape = { ...CANARY, steps: ONE_STEP };
    const { w } = await serving(traffic, shape);
    const d = await w.deploy({ ...shape, tag: '2' });
    assert.equal(d.state, 'succeeded', d.error ?? '');
    const c = await canaryOf(w, d.id);
    assert.ok(c.windows.length >= 1 && c.windows.every((x) => x.verdict === 'inconclusive'), JSON.stringify(c.windows));
    assert.equal(c.failures, 0);
    assert.ok((await w.logs(d.id)).some((l) => l.includes('inconclusive: 3 canary request(s), fewer than min_requests 10')));
    await assertServes(w, 2, 2);
  });

  test('abort by hand: traffic back on v1 in one edge command, the canary removed, rolled_back SLW_CANARY_ABORTED; a second abort is refused', async () => {
    const shape: ServiceShape = { ...CANARY, steps: LONG_STEPS };
    const { w, v1 } = await serving(healthy(), shape);
    const shares = watchShares(w);
    const started = await w.start({ ...shape, tag: '2' });
    await stepping(w, started.id);
    await w.engine.controlCanary(started.id, 'abort');
    const d = await w.settle(started.id);
    assert.equal(d.state, 'rolled_back');
    assert.equal(d.errorCode, 'SLW_CANARY_ABORTED', d.error ?? '');
    assert.match(d.error ?? '', /aborted by hand at step 1\/2 \(25 %\)/);
    assert.deepEqual(shares, [25, 0]);
    assert.deepEqual(await assertServes(w, 1, 2), v1);
    assert.equal((await canaryOf(w, d.id)).phase, 'aborted');
    await assertNoLiveCanary(w);
    assertClean(w);
    await assert.rejects(w.engine.controlCanary(d.id, 'abort'), (err: unknown) => isSlipwayError(err) && err.code === 'SLW_CONFLICT' && /has ended \(rolled_back\)/.test(err.message));
  });

  test('pause holds the step past its pause (analysis goes on); resume lets it end and the canary is promoted', async () => {
    const shape: ServiceShape = { ...CANARY, steps: [{ weight: 50, pause: '300ms' }] };
    const { w } = await serving(healthy(), shape);
    const shares = watchShares(w);
    const started = await w.start({ ...shape, tag: '2' });
    // Sent while the canary replica starts: the step loop takes it at its first tick.
    await waitFor('the canary to take commands', () => w.engine.canaries.has(started.id));
    await w.engine.controlCanary(started.id, 'pause');
    // A window is judged at each tick (200 ms apart): by the third, a step of 300 ms that is not held has ended.
    await waitFor('three windows judged while paused', async () => {
      const c = await readCanary(w.store, started.id);
      return c !== null && (c.windows.length >= 3 || !['starting', 'stepping'].includes(c.phase));
    });
    const held = await canaryOf(w, started.id);
    assert.deepEqual([held.phase, held.step, held.paused, held.stepEndsAt], ['stepping', 1, true, null]);
    assert.ok((held.pausedRemainingMs ?? 0) > 0, `time left is kept: ${held.pausedRemainingMs}`);
    assert.ok(held.windows.every((x) => x.verdict === 'pass'), 'analysis goes on while paused');
    assert.ok(w.engine.isRunning(started.id));
    assert.deepEqual(shares, [50], 'no promotion while paused');

    await w.engine.controlCanary(started.id, 'resume');
    const d = await w.settle(started.id);
    assert.equal(d.state, 'succeeded', d.error ?? '');
    assert.deepEqual(shares, [50, 100]);
    await assertServes(w, 2, 2);
    const log = await w.logs(d.id);
    assert.ok(log.some((l) => l.startsWith('canary: paused at step 1/1 with')), log.join('\n'));
    assert.ok(log.some((l) => l.startsWith('canary: resumed; step 1/1 ends in')));
    assertClean(w);
  });

  test('promote by hand skips the remaining steps and analysis', async () => {
    const shape: ServiceShape = { ...CANARY, steps: LONG_STEPS };
    const { w } = await serving(healthy(), shape);
    const shares = watchShares(w);
    const started = await w.start({ ...shape, tag: '2' });
    await stepping(w, started.id);
    await w.engine.controlCanary(started.id, 'promote');
    const d = await w.settle(started.id);
    assert.equal(d.state, 'succeeded', d.error ?? '');
    assert.deepEqual(shares, [25, 100], 'step 2 never ran');
    await assertServes(w, 2, 2);
    const c = await canaryOf(w, d.id);
    assert.deepEqual([c.phase, c.step, c.outcome], ['promoted', 1, 'promoted by hand at step 1/2']);
    assert.ok((await w.store.listSteps(d.id)).some((s) => s.name === 'promote v2: all traffic to it (by hand)' && s.status === 'done'));
    assertClean(w);
  });

  test('a control-plane restart mid-step aborts the canary: rolled_back SLW_INTERRUPTED, v1 serves everything, the canary is removed', async () => {
    const shape: ServiceShape = { ...CANARY, steps: LONG_STEPS };
    const { w, v1 } = await serving(healthy(), shape);
    const { dead, id } = await crashingDeploy(w, shape, (c) => c.phase === 'stepping');
    // While the control plane is down the edge keeps the split it had.
    assert.equal(shareOf(w), 25);
    assert.equal((await w.store.getDeployment(id))?.state, 'rolling');

    const { engine, report } = await boot(w);
    assert.deepEqual(report.resolved, [{ deployment: id, outcome: 'rolled_back' }]);
    const d = (await w.store.getDeployment(id))!;
    assert.equal(d.state, 'rolled_back');
    assert.equal(d.errorCode, 'SLW_INTERRUPTED');
    assert.match(d.error ?? '', /^the control plane stopped during the canary of v2 \(step 1\/2, 25 %\); it was aborted on restart and v1 serves everything$/);
    assert.deepEqual(await assertServes(w, 1, 2), v1, 'the same v1 replicas serve everything');
    assert.equal((await canaryOf(w, id)).phase, 'aborted');
    await assertNoLiveCanary(w);
    assertClean(w);
    await dead.idle();

    // The next deploy runs a fresh canary to its end.
    const next = await deployWith(w, engine, { ...CANARY, steps: ONE_STEP }, '3');
    assert.equal(next.state, 'succeeded', next.error ?? '');
    await assertServes(w, 3, 2);
  });

  test('a control-plane restart after the promotion flipped all traffic: the deployment stands (succeeded), v1 is retired at boot', async () => {
    const { w, v1 } = await serving(healthy());
    const { dead, id } = await crashingDeploy(w, { ...CANARY, steps: ONE_STEP }, (c) => c.phase === 'flipped');
    assert.equal(shareOf(w), 100, 'all traffic on v2 already');
    const { report } = await boot(w);
    assert.deepEqual(report.resolved, [{ deployment: id, outcome: 'succeeded' }]);
    assert.equal(report.orphansRemoved, 2, 'the two v1 replicas');
    const d = (await w.store.getDeployment(id))!;
    assert.equal(d.state, 'succeeded', d.error ?? '');
    await assertServes(w, 2, 2);
    for (const n of v1) assert.equal(w.runtime.containerInfo(n), null);
    for (const n of v1) assert.ok(w.edge.calls.includes(`drainServer ${BACKEND}/${n}`), `${n} was drained before it stopped`);
    assertClean(w);
    await dead.idle();
  });

  test(
    'after a restart past the flip the canary record is final and no longer named as running',
    async () => {
      const { w } = await serving(healthy());
      const { dead, id } = await crashingDeploy(w, { ...CANARY, steps: ONE_STEP }, (c) => c.phase === 'flipped');
      await boot(w);
      await dead.idle();
      assert.equal((await canaryOf(w, id)).phase, 'promoted');
      await assertNoLiveCanary(w);
    },
  );

  test('with the real per-release windows fed by requests routed through the edge, a canary answering 5xx is aborted', async () => {
    const windows = new ReleaseWindows();
    const shape: ServiceShape = { ...CANARY, steps: [{ weight: 25, pause: '10s' }], analysis: { interval: '100ms', min_requests: 5 } };
    const { w, v1 } = await serving(windows, shape);
    // A steady load through the edge: v2's replicas answer 503, v1's 200.
    const answeredBy = new Map<number, number>();
    const load = setInterval(() => {
      for (let i = 0; i < 4; i++) {
        const a = w.edge.route(HOST);
        if (a.status !== 200) continue;
        const release = releaseOf(a.server!);
        answeredBy.set(release, (answeredBy.get(release) ?? 0) + 1);
        windows.record({ project: PROJECT, service: SERVICE, env: ENV, release, status: release === 2 ? 503 : 200, durationMs: 5 });
      }
    }, 5);
    try {
      const d = await w.deploy({ ...shape, tag: '2' });
      assert.equal(d.state, 'rolled_back');
      assert.equal(d.errorCode, 'SLW_CANARY_FAILED', d.error ?? '');
      assert.match(d.error ?? '', /error rate 100\.0 % > max_error_rate 5\.0 %/);
      const failing = (await canaryOf(w, d.id)).windows.at(-1)!;
      assert.equal(failing.verdict, 'fail');
      assert.ok(failing.canary.requests >= 5 && failing.canary.errors === failing.canary.requests, JSON.stringify(failing));
      assert.ok(failing.stable.requests > 0 && failing.stable.errors === 0, JSON.stringify(failing));
      assert.ok((answeredBy.get(2) ?? 0) > 0, 'the canary did get requests');
      const v2Before = answeredBy.get(2) ?? 0;
      await new Promise((resolve) => setTimeout(resolve, 30));
      assert.equal(answeredBy.get(2) ?? 0, v2Before, 'none after the abort');
    } finally {
      clearInterval(load);
    }
    assert.deepEqual(await assertServes(w, 1, 2), v1);
    assertClean(w);
  });

  test('without request metrics a canary release rolls out like rolling, and says why', async () => {
    const { w } = await serving(undefined);
    const edgeFrom = w.edge.calls.length;
    const d = await w.deploy({ ...CANARY, tag: '2' });
    assert.equal(d.state, 'succeeded', d.error ?? '');
    assert.ok((await w.logs(d.id)).includes('canary: request metrics are off on this server (SLIPWAY_REQUEST_LOG_LISTEN=off), so no analysis is possible: rolling out instead'));
    assert.ok(!w.edge.calls.slice(edgeFrom).some((c) => c.startsWith('setWeights')), 'no weighted step');
    assert.equal(await readCanary(w.store, d.id), null, 'no canary record');
    await assertServes(w, 2, 2);
    assert.ok(w.monitor.minReady >= 2);
    assertClean(w);
  });
});
