/**
 * Post-deploy smoke checks on the real DeployEngine over the in-memory ports (issue 23 item 2):
 * after traffic moved, the configured requests go through the edge (MemoryEdgeClient routes
 * them with MemoryEdge.route to the replica that answers; `answer()` scripts v2's /api/health
 * as 500) and the new release's live figures are judged (a ReleaseTraffic stub). A passing check
 * keeps the release; a failing request rolls back with every strategy — rolling and recreate
 * start the previous release again, blue-green switches back to its warm set in one edge command
 * (no container starts), canary after its promotion — and the deployment ends `rolled_back`
 * (SLW_SMOKE_FAILED) with the failing check in its log and its event; live figures over the
 * threshold roll back too; `rollback: false` marks it failed and leaves the release live; a first
 * deploy has nothing to return to and fails; rollbacks, scales and restarts run no smoke checks;
 * and a control plane stopped during the smoke window is resolved by recovery as a rollback.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import { figures, type WindowFigures } from '../core/canary-analysis';
import { ACTIVE_STATES, type Deployment, type ServiceRef } from '../core/domain';
import type { ReleaseTraffic } from '../core/ports/release-traffic';
import { DeployEngine } from '../engine/deploy-engine';
import type { EngineContext } from '../engine/engine-context';
import { recoverAfterRestart } from '../engine/recovery';
import { Reconciler } from '../engine/reconciler';
import { serviceLeaseKey } from '../engine/service-lease';
import { readWarmSet } from '../engine/warm-sets';
import { CrashGate } from './crash-harness.test-support';
import { ENV, SERVICE, assertReleaseServes, configOf, engineWorld, names, waitFor, type EngineWorld, type ServiceShape } from './engine-world.test-support';

const worlds: EngineWorld[] = [];
after(async () => {
  for (const w of worlds) {
    for (const d of await w.store.listDeployments({ states: [...ACTIVE_STATES] })) if (w.engine.canaries.has(d.id)) w.engine.canaries.send(d.id, 'abort');
    await w.close();
  }
});

/** Live figures per release, as the test sets them (null: none yet). */
class StubTraffic implements ReleaseTraffic {
  constructor(public figuresOf: (release: number) => WindowFigures | null) {}
  window(_ref: ServiceRef, release: number): WindowFigures | null {
    return this.figuresOf(release);
  }
}

/** Three rounds (0, 100, 200 ms) of two requests over a 300 ms window. */
const SMOKE = '{ requests: [{ path: /api/health, expect: 200 }, { path: /, expect_body: ok }], window: 300ms, interval: 100ms, min_requests: 20 }';
const ROLLING: ServiceShape = { replicas: 2, smoke: SMOKE };

async function world(traffic?: ReleaseTraffic): Promise<EngineWorld> {
  const w = await engineWorld(traffic ? { traffic } : {});
  worlds.push(w);
  return w;
}

/** A world serving v1 of `shape` (its own smoke checks passed), watched by the Monitor from there on. */
async function serving(shape: ServiceShape, traffic?: ReleaseTraffic): Promise<{ w: EngineWorld; v1: string[] }> {
  const w = await world(traffic);
  const d = await w.deploy({ ...shape, tag: '1' });
  assert.equal(d.state, 'succeeded', `v1 deploy: ${d.error}`);
  const v1 = await assertReleaseServes(w, 1, shape.replicas ?? 1);
  await w.monitor.reset();
  return { w, v1 };
}

/** v2's /api/health answers 500 (its readiness path, /health, stays healthy: it takes traffic). */
function breakV2(w: EngineWorld): void {
  w.edgeClient.answer(({ path, release }) => (release === 2 && path === '/api/health' ? { status: 500, body: 'db down' } : undefined));
}

async function eventOf(w: EngineWorld, d: Deployment, type: string): Promise<Record<string, unknown>> {
  const e = (await w.store.listOutbox(0, 1000)).find((x) => x.type === type && x.payload.deploymentId === d.id);
  assert.ok(e, `a ${type} event for ${d.id}`);
  return e.payload;
}

async function steps(w: EngineWorld, d: Deployment): Promise<string[]> {
  return (await w.store.listSteps(d.id)).map((s) => `${s.name}: ${s.status}`);
}

/** The deployment ended rolled_back by its smoke check, v1 serves everything again, and the lease is free. */
async function assertRolledBack(w: EngineWorld, d: Deployment, replicas: number): Promise<string[]> {
  const log = (await w.logs(d.id)).join('\n');
  assert.equal(d.state, 'rolled_back', `${d.error}\n${log}`);
  assert.equal(d.errorCode, 'SLW_SMOKE_FAILED');
  assert.match(d.error ?? '', /^smoke check failed: GET \/api\/health answered 500, expected 200 \(round 1, [\d.]+ s after traffic moved\)$/);
  assert.match(log, /smoke: GET \/api\/health → 500 \(\d+ ms\): FAIL, answered 500, expected 200/, 'the failing check is in the log');
  assert.match(log, /rolling back to v1/);
  const v1 = await assertReleaseServes(w, 1, replicas);
  assert.deepEqual(w.monitor.violations, [], 'no replica in rotation before readiness, none stopped while in rotation');
  const { serviceId, environmentId } = await w.ids();
  assert.equal(await w.store.getLease(serviceLeaseKey(serviceId, environmentId)), null, 'the lease is free');
  assert.ok((await steps(w, d)).some((s) => /^smoke checks: 2 request\(s\) through the edge for 300ms: failed$/.test(s)), (await steps(w, d)).join('\n'));
  const event = await eventOf(w, d, 'deployment.rolled_back');
  assert.deepEqual([event.reason, event.errorCode, event.release, event.rolledBackTo], ['smoke', 'SLW_SMOKE_FAILED', 2, 1]);
  assert.deepEqual(event.check, { kind: 'request', path: '/api/health', expected: '200', status: 500, error: null, reason: 'answered 500, expected 200', round: 1, afterMs: (event.check as { afterMs: number }).afterMs });
  return v1;
}

describe('smoke checks that pass', () => {
  test('a rolling release whose checks pass stays live: every round went through the edge, and the window was waited for', async () => {
    const { w } = await serving(ROLLING);
    const d = await w.deploy({ ...ROLLING, tag: '2' });
    const log = (await w.logs(d.id)).join('\n');
    assert.equal(d.state, 'succeeded', `${d.error}\n${log}`);
    await assertReleaseServes(w, 2, 2);
    assert.deepEqual(w.monitor.violations, []);
    const smoke = (await w.store.listSteps(d.id)).find((s) => s.name.startsWith('smoke checks'))!;
    assert.equal(smoke.name, 'smoke checks: 2 request(s) through the edge for 300ms');
    assert.equal(smoke.status, 'done');
    assert.equal(smoke.detail, '6 request(s) in 3 round(s) answered as expected');
    assert.ok(Date.parse(smoke.finishedAt!) - Date.parse(smoke.startedAt) >= 290, 'the window lasted 300 ms');
    assert.match(log, /smoke: GET \/api\/health → 200 \(\d+ ms\)\n/);
    assert.match(log, /smoke: GET \/ → 200 \(\d+ ms\)\n/);
    // The requests went through the edge to v2 (the only release serving once traffic moved).
    const v2calls = w.edgeClient.calls.slice(-6);
    assert.equal(v2calls.length, 6);
    assert.ok(v2calls.every((c) => /^web\.shop\.test \/(api\/health)? → 200 shop-web-production-v2-/.test(c)), v2calls.join('\n'));
    // The smoke step comes after traffic moved and before the release is declared live.
    const lines = await w.logs(d.id);
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    assert.ok(at(/batch 2\/2: drain and stop/) < at(/▶ smoke checks/) && at(/✔ smoke checks/) < at(/v2 is live with 2 replica/));
  });

  test('a live error rate under the threshold, with enough requests, passes; too few requests are not judged', async () => {
    const traffic = new StubTraffic(() => figures(100, 2, 30));
    const { w } = await serving(ROLLING, traffic);
    const d = await w.deploy({ ...ROLLING, tag: '2' });
    assert.equal(d.state, 'succeeded', d.error ?? '');
    assert.ok((await w.logs(d.id)).some((l) => /^smoke window [\d.]+ s: 100 request\(s\) to v2, 2 5xx \(2\.0 % errors\), p99 30 ms — pass$/.test(l)));
    traffic.figuresOf = () => figures(5, 5, 30);
    const d3 = await w.deploy({ ...ROLLING, tag: '3' });
    assert.equal(d3.state, 'succeeded', d3.error ?? '');
    assert.ok((await w.logs(d3.id)).some((l) => /— not judged: 5 live request\(s\), fewer than min_requests 20$/.test(l)));
  });
});

describe('a failing request rolls back, with every strategy', () => {
  test('rolling: v1 starts again all at once, v2 is retired', async () => {
    const { w } = await serving(ROLLING);
    breakV2(w);
    const d = await w.deploy({ ...ROLLING, tag: '2' });
    await assertRolledBack(w, d, 2);
    const log = await w.logs(d.id);
    assert.ok(log.includes("starting v1's 2 replica(s) again, all at once, then retiring v2's"), log.join('\n'));
    assert.ok(log.some((l) => /^plan: 1 batch\(es\) to reach 2 replica\(s\) of v1 \(serving now: 0 new, 2 old\)$/.test(l)), 'one batch: the whole set at once');
    assert.ok(w.monitor.minReady >= 2, 'capacity never dropped below 2');
  });

  test('recreate: v2 stops before v1 starts again (replicas never overlap)', async () => {
    const shape: ServiceShape = { ...ROLLING, strategy: 'recreate' };
    const { w } = await serving(shape);
    breakV2(w);
    await w.monitor.reset();
    const d = await w.deploy({ ...shape, tag: '2' });
    await assertRolledBack(w, d, 2);
    assert.equal(w.monitor.overlappingStarts, 0, 'no replica started while another release ran');
  });

  test('blue-green: traffic switches back to the warm set in one edge command, no container starts, v2 is retired', async () => {
    const shape: ServiceShape = { ...ROLLING, strategy: 'blue-green', keepWarm: '5m' };
    const { w, v1 } = await serving(shape);
    breakV2(w);
    const d = await w.deploy({ ...shape, tag: '2' });
    const after = await assertRolledBack(w, d, 2);
    assert.deepEqual(after, v1, 'the same v1 replicas serve: the warm set');
    assert.ok((await steps(w, d)).includes('switch traffic back to v1 (warm set): done'), (await steps(w, d)).join('\n'));
    const { serviceId, environmentId } = await w.ids();
    assert.equal(await readWarmSet(w.store, serviceId, environmentId), null, 'v2 is not kept warm: it failed');
  });

  test('blue-green with keep_warm 0s: the previous set is held through the smoke window, so the rollback still switches back', async () => {
    const shape: ServiceShape = { ...ROLLING, strategy: 'blue-green', keepWarm: '0s' };
    const { w, v1 } = await serving(shape);
    breakV2(w);
    const d = await w.deploy({ ...shape, tag: '2' });
    assert.deepEqual(await assertRolledBack(w, d, 2), v1);
    assert.ok((await w.logs(d.id)).some((l) => /^v1 stays warm: 2 replica\(s\) running out of rotation until .* \(keep_warm 0ms, held 1m10s for the smoke checks\)/.test(l)));
    // A passing v3 keeps the hold: the retirer takes v1 once it is over.
    w.edgeClient.answer(() => undefined);
    const d3 = await w.deploy({ ...shape, tag: '3' });
    assert.equal(d3.state, 'succeeded', d3.error ?? '');
    const { serviceId, environmentId } = await w.ids();
    const warm = await readWarmSet(w.store, serviceId, environmentId);
    assert.equal(warm?.release, 1);
  });

  test('canary: after the promotion, the previous release starts again', async () => {
    const traffic = new StubTraffic((release) => (release === 1 ? figures(120, 0, 20) : figures(40, 0, 20)));
    const shape: ServiceShape = { ...ROLLING, strategy: 'canary', steps: [{ weight: 50, pause: '100ms' }], analysis: { interval: '100ms', min_requests: 10 } };
    const { w } = await serving(shape, traffic);
    breakV2(w);
    const d = await w.deploy({ ...shape, tag: '2' });
    await assertRolledBack(w, d, 2);
    const done = await steps(w, d);
    const promote = done.findIndex((s) => s.startsWith('promote v2: all traffic to it'));
    const smoke = done.findIndex((s) => s.startsWith('smoke checks'));
    assert.ok(promote >= 0 && promote < smoke, `the smoke checks run after the promotion: ${done.join(' | ')}`);
  });
});

describe('other failures and outcomes', () => {
  test('the live error rate over max_error_rate rolls back (the requests alone passed)', async () => {
    const traffic = new StubTraffic(() => figures(100, 0, 15));
    const { w } = await serving(ROLLING, traffic);
    traffic.figuresOf = (release) => (release === 2 ? figures(100, 20, 15) : figures(100, 0, 15));
    const d = await w.deploy({ ...ROLLING, tag: '2' });
    const log = await w.logs(d.id);
    assert.equal(d.state, 'rolled_back', log.join('\n'));
    assert.equal(d.errorCode, 'SLW_SMOKE_FAILED');
    assert.match(d.error ?? '', /^smoke check failed: the live traffic of v2: error rate 20\.0 % > max_error_rate 5\.0 % \(20\/100\) \([\d.]+ s after traffic moved\)$/);
    assert.ok(log.some((l) => /^smoke window [\d.]+ s \(cut short\): 100 request\(s\) to v2, 20 5xx \(20\.0 % errors\), p99 15 ms$/.test(l)), log.join('\n'));
    assert.ok(log.some((l) => /^v2 answered 100 request\(s\) from the start of its roll-out to the end of the rollback \([\d.]+ s\), 20 of them with a 5xx$/.test(l)), 'the failed requests are counted');
    await assertReleaseServes(w, 1, 2);
    const event = await eventOf(w, d, 'deployment.rolled_back');
    assert.equal((event.check as { kind: string }).kind, 'traffic');
    assert.deepEqual(event.exposed, figures(100, 20, 15));
  });

  test('rollback: false: the deployment is failed and the release stays live', async () => {
    const shape: ServiceShape = { replicas: 2, smoke: SMOKE.replace('min_requests: 20', 'min_requests: 20, rollback: false') };
    const { w } = await serving(shape);
    breakV2(w);
    const d = await w.deploy({ ...shape, tag: '2' });
    const log = await w.logs(d.id);
    assert.equal(d.state, 'failed', log.join('\n'));
    assert.equal(d.errorCode, 'SLW_SMOKE_FAILED');
    assert.ok(log.some((l) => /; rollback: false, so v2 stays live \(back to v1 by hand: slipway rollback web\)$/.test(l)), log.join('\n'));
    await assertReleaseServes(w, 2, 2);
    const event = await eventOf(w, d, 'deployment.failed');
    assert.deepEqual([event.reason, event.errorCode, event.release], ['smoke', 'SLW_SMOKE_FAILED', 2]);
  });

  test('a first deploy has nothing to roll back to: it fails and its replicas are removed', async () => {
    const w = await world();
    w.edgeClient.answer(({ path }) => (path === '/api/health' ? { status: 503 } : undefined));
    const d = await w.deploy({ ...ROLLING, tag: '1' });
    assert.equal(d.state, 'failed');
    assert.equal(d.errorCode, 'SLW_SMOKE_FAILED');
    assert.deepEqual(await w.replicas(), []);
    assert.equal(await w.liveRelease(), null);
  });

  test('a body without the expected text and a request that times out each fail the check', async () => {
    const { w } = await serving(ROLLING);
    w.edgeClient.answer(({ path, release }) => (release === 2 && path === '/' ? { status: 200, body: 'maintenance page' } : undefined));
    const d = await w.deploy({ ...ROLLING, tag: '2' });
    assert.equal(d.state, 'rolled_back');
    assert.match(d.error ?? '', /GET \/ answered 200 without "ok" in its body/);
    w.edgeClient.answer(() => undefined);
    const real = w.edgeClient.get.bind(w.edgeClient);
    w.edgeClient.get = async (req) => (req.path === '/' ? { status: null, body: '', durationMs: req.timeoutMs, error: `timed out after ${req.timeoutMs} ms` } : real(req));
    const d3 = await w.deploy({ ...ROLLING, tag: '3' });
    assert.equal(d3.state, 'rolled_back');
    assert.match(d3.error ?? '', /GET \/ no answer \(timed out after 5000 ms\), expected 2xx with "ok" in the body/);
    await assertReleaseServes(w, 1, 2);
  });

  test('rollbacks, scales and restarts run no smoke checks', async () => {
    const { w } = await serving(ROLLING);
    assert.equal((await w.deploy({ ...ROLLING, tag: '2' })).state, 'succeeded');
    w.edgeClient.answer(() => ({ status: 500 }));
    const calls = w.edgeClient.calls.length;
    const back = await w.settle((await w.engine.rollback({ project: 'shop', service: SERVICE, env: ENV })).id);
    assert.equal(back.state, 'succeeded', back.error ?? '');
    const scaled = await w.settle((await w.engine.scale({ project: 'shop', service: SERVICE, env: ENV, replicas: 3 })).id);
    assert.equal(scaled.state, 'succeeded', scaled.error ?? '');
    const restarted = await w.settle((await w.engine.restart({ project: 'shop', service: SERVICE, env: ENV })).id);
    assert.equal(restarted.state, 'succeeded', restarted.error ?? '');
    assert.equal(w.edgeClient.calls.length, calls, 'no smoke request');
  });
});

describe('a control plane stopped during the smoke window', () => {
  /** Deploys v2 with an engine whose ports stop answering after its second smoke request (as a killed process). */
  async function crashInWindow(w: EngineWorld, shape: ServiceShape): Promise<{ dead: DeployEngine; id: string }> {
    const gate = new CrashGate(Number.POSITIVE_INFINITY);
    let smokeRequests = 0;
    const client = {
      get: async (req: Parameters<typeof w.edgeClient.get>[0]) => {
        const answer = await w.edgeClient.get(req);
        if (++smokeRequests === 2) gate.crashed = true;
        return answer;
      },
    };
    const ctx: EngineContext = {
      ...w.ctx,
      store: gate.wrap(w.store, 'store'),
      runtime: gate.wrap(w.runtime, 'runtime'),
      edge: gate.wrap(w.edge, 'edge'),
      edgeClient: gate.wrap(client, 'edgeClient'),
      probe: gate.wrapFn(w.ctx.probe),
    };
    const dead = new DeployEngine(ctx);
    w.runtime.addImage('shop/web:2');
    const d = await dead.deploy({ config: configOf({ ...shape, tag: '2' }), service: SERVICE, env: ENV, source: null, unrestricted: true, triggeredBy: 'test' });
    await waitFor('the crash in the smoke window', () => gate.crashed);
    await gate.settled();
    return { dead, id: d.id };
  }

  async function boot(w: EngineWorld): Promise<void> {
    const engine = new DeployEngine(w.ctx);
    const report = await recoverAfterRestart(w.ctx, engine.events);
    assert.deepEqual(report.resolved.map((r) => r.outcome), ['rolled_back']);
    const pass = await new Reconciler(w.ctx, engine, { intervalMs: 60_000, logger: pino({ level: 'silent' }) }).pass();
    await engine.idle();
    assert.deepEqual([pass.repairsStarted, pass.edgeCorrections], [0, 0], 'the boot left nothing to repair or correct');
  }

  const LONG = '{ requests: [{ path: /api/health }], window: 10s, interval: 100ms }';

  for (const strategy of ['rolling', 'blue-green'] as const) {
    test(`${strategy}: recovery rolls back (the window was never judged), v1 serves, the next deploy succeeds`, async () => {
      const shape: ServiceShape = { replicas: 2, strategy, smoke: SMOKE, ...(strategy === 'blue-green' ? { keepWarm: '0s' } : {}) };
      const { w, v1 } = await serving(shape);
      const { dead, id } = await crashInWindow(w, { ...shape, smoke: LONG });
      await boot(w);
      const d = (await w.store.getDeployment(id))!;
      assert.equal(d.state, 'rolled_back');
      assert.equal(d.errorCode, 'SLW_INTERRUPTED');
      assert.match(d.error ?? '', /the smoke checks of v2 had not passed; rolled back to v1$/);
      const served = await assertReleaseServes(w, 1, 2);
      if (strategy === 'blue-green') assert.deepEqual(served, v1, 'the warm set (held through the window) was taken back into rotation');
      else assert.notDeepEqual(names(await w.replicas()), v1);
      assert.deepEqual(w.monitor.violations, []);
      const event = await eventOf(w, d, 'deployment.rolled_back');
      assert.deepEqual([event.reason, event.errorCode, event.rolledBackTo], ['smoke', 'SLW_INTERRUPTED', 1]);
      await dead.idle();
      const d3 = await w.deploy({ ...shape, tag: '3' });
      assert.equal(d3.state, 'succeeded', d3.error ?? '');
      const live = (await w.replicas()).filter((r) => r.labels.release === 3);
      assert.equal(live.length, 2);
      assert.equal(await w.liveRelease(), 3);
      // Blue-green keeps v1 warm (held through v3's smoke window) beside v3.
      assert.deepEqual(names((await w.replicas()).filter((r) => r.labels.release !== 3)), strategy === 'blue-green' ? v1 : []);
    });
  }
});
