/**
 * The canary strategy. A few replicas of the new release start beside the live (stable)
 * set and join the edge on standby; each step then gives them a share of new requests with
 * ONE edge command (edge.setWeights), and during the step's pause the analysis judges every
 * `analysis.interval` window: the canary's 5xx share and p99 against absolute thresholds and
 * against the stable release over the same window. `failure_limit` failing windows abort:
 * one edge command puts every new request back on the stable set, the canary replicas are
 * drained and stopped, and the deployment ends `rolled_back` with the figures. After the last
 * step the new release is promoted: the rest of its set starts on standby, one command moves
 * all traffic to it, and the stable set is drained and stopped.
 *
 * Every step, window and verdict is persisted (deployment steps and log, and the canary
 * record of engine/canary-states.ts), so status shows the live split and a restarted control
 * plane knows a canary was in flight (recovery aborts it: engine/recovery.ts).
 */
import { judgeWindow, type WindowFigures } from '../core/canary-analysis';
import { abortWeights, canaryReplicaCount, canarySplit, stepWeights } from '../core/canary-weights';
import { MAX_WINDOWS, type CanaryState, type CanaryWindow } from '../core/canary-state';
import type { CanaryAnalysisConfig, CanaryStep } from '../core/config';
import { formatDuration } from '../core/duration';
import { SlipwayError, errorMessage, type ErrorCode } from '../core/errors';
import { flipWeights } from '../core/plan-flip';
import type { Replica } from '../core/ports/runtime';
import { freeSlots } from '../core/replica-restarts';
import type { BlueGreenTarget } from './blue-green';
import type { CanaryCommandBox, CanaryControls } from './canary-control';
import { setLiveCanary, writeCanary } from './canary-states';
import { converge, observeService, startBatch } from './converge';
import type { DeploymentRecorder } from './deployment-recorder';
import type { EngineContext } from './engine-context';
import { retireOptions, retireReplica, type RetireOptions } from './retire-replica';
import { clearWarmSet, readWarmSet } from './warm-sets';

/** How often the step loop looks at the clock and at manual commands. */
const TICK_MS = 200;

/** The canary ended early: the engine records the deployment `rolled_back` with these figures. */
export class CanaryAborted extends SlipwayError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly figures: { release: number; stableRelease: number; step: number; weight: number; window: CanaryWindow | null; failures: number; startedAt: string; abortedAt: string; timeToAbortMs: number },
  ) {
    super(code, message);
  }
}

type StepOutcome = { kind: 'next' } | { kind: 'promote' } | { kind: 'abort'; code: ErrorCode; reason: string; window: CanaryWindow | null };

export async function canary(ctx: EngineContext, target: BlueGreenTarget, rec: DeploymentRecorder, controls: CanaryControls): Promise<void> {
  const { ref, backend, release } = target;
  const cfg = release.config;
  const { steps, analysis } = cfg.deploy;
  const retireOpts = retireOptions(target.backend, target.release.config.deploy, rec);
  const observed = await observeService(ctx, ref, backend, release.number);
  const stable = observed.oldServing;

  if (!ctx.traffic) {
    await rec.log('canary: request metrics are off on this server (SLIPWAY_REQUEST_LOG_LISTEN=off), so no analysis is possible: rolling out instead', 'warn');
    return converge(ctx, target, rec);
  }
  if (stable.length === 0 || observed.targetServing.length > 0) {
    await rec.log(`canary: ${stable.length === 0 ? 'no live release to compare with' : `v${release.number} already serves`}: rolling out instead`);
    return converge(ctx, target, rec);
  }
  for (const name of observed.staleServers) {
    await rec.log(`removing edge server ${name}: no container behind it`, 'warn');
    await ctx.edge.removeServer(backend, name);
  }
  const warm = await readWarmSet(ctx.store, target.serviceId, target.environmentId);
  if (warm && observed.leftovers.some((r) => r.labels.release === warm.release)) await rec.log(`ending the warm window of v${warm.release} early: this deployment replaces it`);
  await Promise.all([...observed.leftovers, ...observed.targetUnregistered].map((r) => retireReplica(ctx, r, retireOpts)));
  await clearWarmSet(ctx.store, target.serviceId, target.environmentId);

  const previous = target.previousReleaseId !== null ? await ctx.store.getRelease(target.previousReleaseId) : null;
  const stableRelease = previous && stable.some((r) => r.labels.release === previous.number) ? previous.number : Math.max(...stable.map((r) => r.labels.release));
  const count = canaryReplicaCount(target.replicas, steps.map((s) => s.weight));
  const startedAt = new Date();
  const state: CanaryState = {
    deploymentId: target.deploymentId,
    release: release.number,
    stableRelease,
    phase: 'starting',
    step: 0,
    steps: steps.length,
    weight: 0,
    canaryReplicas: [],
    stableReplicas: stable.map((r) => r.name),
    stepEndsAt: null,
    pausedRemainingMs: null,
    paused: false,
    failures: 0,
    failureLimit: analysis.failureLimit,
    windows: [],
    outcome: null,
    updatedAt: startedAt.toISOString(),
  };
  await writeCanary(ctx.store, state);
  await setLiveCanary(ctx.store, target.serviceId, target.environmentId, target.deploymentId);
  await rec.log(
    `canary: v${release.number} against v${stableRelease} (${stable.length} replica(s)) in ${steps.length} step(s) (${steps.map((s) => `${s.weight} % for ${formatDuration(s.pauseMs)}`).join(', ')}); ` +
      `analysis every ${formatDuration(analysis.intervalMs)}, judged from ${analysis.minRequests} canary request(s), abort after ${analysis.failureLimit} failing window(s)`,
  );

  const box = controls.register(target.deploymentId);
  let canaries: Replica[] = [];
  try {
    canaries = await rec.step(`start ${count} canary replica(s) of v${release.number}`, () => startBatch(ctx, target, count, rec, { standby: true, slots: freeSlots([], count) }), () => `${count} replica(s) of v${release.number} ready on standby (weight 0)`);
    state.canaryReplicas = canaries.map((r) => r.name);
    await writeCanary(ctx.store, state);

    let promotedByHand = false;
    for (const [i, step] of steps.entries()) {
      const split = canarySplit(step.weight, stable.length, canaries.length);
      await rec.step(`canary step ${i + 1}/${steps.length}: ${step.weight} % of requests to v${release.number}`, () => ctx.edge.setWeights(backend, stepWeights(state.canaryReplicas, state.stableReplicas, split)), () =>
        `one edge command: ${canaries.length} canary replica(s) at weight ${split.canary}, ${stable.length} stable at ${split.stable} (${split.effectivePercent} % to the canary); ${formatDuration(step.pauseMs)} with analysis every ${formatDuration(analysis.intervalMs)}`,
      );
      Object.assign(state, { phase: 'stepping', step: i + 1, weight: split.effectivePercent, stepEndsAt: new Date(Date.now() + step.pauseMs).toISOString(), pausedRemainingMs: state.paused ? step.pauseMs : null });
      if (state.paused) state.stepEndsAt = null;
      await writeCanary(ctx.store, state);
      const outcome = await runStep(ctx, target, state, step, analysis, box, rec);
      if (outcome.kind === 'abort') {
        const weightAtAbort = state.weight;
        await abort(ctx, target, state, canaries, rec, retireOpts);
        const abortedAt = new Date();
        throw new CanaryAborted(outcome.code, outcome.reason, {
          release: release.number,
          stableRelease,
          step: state.step,
          weight: weightAtAbort,
          window: outcome.window,
          failures: state.failures,
          startedAt: startedAt.toISOString(),
          abortedAt: abortedAt.toISOString(),
          timeToAbortMs: abortedAt.getTime() - startedAt.getTime(),
        });
      }
      if (outcome.kind === 'promote') {
        promotedByHand = true;
        break;
      }
    }
    controls.unregister(target.deploymentId);
    await promote(ctx, target, state, canaries, stable, rec, retireOpts, promotedByHand);
  } catch (err) {
    controls.unregister(target.deploymentId);
    if (state.phase !== 'aborted' && state.phase !== 'promoted' && !(err instanceof CanaryAborted)) {
      // Not an analysis verdict (a canary failed readiness, the edge refused a command): put the
      // traffic back on the stable set before the engine's undo retires what this started.
      if (state.canaryReplicas.length > 0 && state.phase !== 'flipped') {
        await ctx.edge.setWeights(backend, abortWeights(state.canaryReplicas, state.stableReplicas)).catch((e: unknown) => rec.log(`could not put the traffic back on v${stableRelease} in one command: ${errorMessage(e)}`, 'error'));
      }
      state.phase = 'aborted';
      state.outcome = errorMessage(err);
      state.stepEndsAt = null;
      await writeCanary(ctx.store, state).catch(() => undefined);
      await setLiveCanary(ctx.store, target.serviceId, target.environmentId, null).catch(() => undefined);
    }
    throw err;
  }
}

/**
 * One step's pause: a verdict per analysis window, manual commands obeyed as they come.
 * Windows chain end to start (no request in two windows); a window never spans two steps.
 */
async function runStep(ctx: EngineContext, target: BlueGreenTarget, state: CanaryState, step: CanaryStep, analysis: CanaryAnalysisConfig, box: CanaryCommandBox, rec: DeploymentRecorder): Promise<StepOutcome> {
  const traffic = ctx.traffic!;
  let remainingMs = state.paused ? (state.pausedRemainingMs ?? step.pauseMs) : step.pauseMs;
  let last = Date.now();
  let windowStart = last;
  for (;;) {
    await box.wait(TICK_MS);
    // A lost lease ends the step at once (the edge belongs to the new holder).
    ctx.signal?.throwIfAborted();
    const now = Date.now();
    if (!state.paused) remainingMs -= now - last;
    last = now;
    for (const cmd of box.take()) {
      if (cmd === 'abort') {
        await rec.log('canary: aborted by hand (slipway deploy abort)', 'warn');
        return { kind: 'abort', code: 'SLW_CANARY_ABORTED', reason: `canary of v${state.release} aborted by hand at step ${state.step}/${state.steps} (${state.weight} %)`, window: state.windows.at(-1) ?? null };
      }
      if (cmd === 'promote') {
        await rec.log(`canary: promoted by hand at step ${state.step}/${state.steps} (slipway deploy promote): remaining steps and analysis skipped`, 'warn');
        state.outcome = `promoted by hand at step ${state.step}/${state.steps}`;
        return { kind: 'promote' };
      }
      if (cmd === 'pause' && !state.paused) {
        Object.assign(state, { paused: true, pausedRemainingMs: Math.max(0, remainingMs), stepEndsAt: null });
        await rec.log(`canary: paused at step ${state.step}/${state.steps} with ${formatDuration(Math.max(0, remainingMs))} left (analysis goes on; "slipway deploy resume" continues)`);
        await writeCanary(ctx.store, state);
      }
      if (cmd === 'resume' && state.paused) {
        Object.assign(state, { paused: false, pausedRemainingMs: null, stepEndsAt: new Date(now + Math.max(0, remainingMs)).toISOString() });
        await rec.log(`canary: resumed; step ${state.step}/${state.steps} ends in ${formatDuration(Math.max(0, remainingMs))}`);
        await writeCanary(ctx.store, state);
      }
    }
    const stepDone = !state.paused && remainingMs <= 0;
    const windowMs = now - windowStart;
    // The tail of a step shorter than a second holds no whole second of figures: not judged.
    if (windowMs >= analysis.intervalMs || (stepDone && windowMs >= 1000)) {
      const w = judge(traffic.window(target.ref, state.release, windowStart, now), traffic.window(target.ref, state.stableRelease, windowStart, now), analysis, state.step, windowStart, now);
      windowStart = now;
      state.windows.push(w);
      if (state.windows.length > MAX_WINDOWS) state.windows.shift();
      if (w.verdict === 'fail') state.failures++;
      await rec.log(describeWindow(w, state), w.verdict === 'fail' ? 'error' : w.verdict === 'inconclusive' ? 'warn' : 'info');
      await writeCanary(ctx.store, state);
      if (state.failures >= analysis.failureLimit) {
        return { kind: 'abort', code: 'SLW_CANARY_FAILED', reason: `canary analysis failed at step ${state.step}/${state.steps} (${state.weight} % to v${state.release}): ${w.reasons.join('; ')}`, window: w };
      }
    }
    if (stepDone) return { kind: 'next' };
  }
}

function judge(canaryFig: WindowFigures | null, stableFig: WindowFigures | null, analysis: CanaryAnalysisConfig, step: number, from: number, to: number): CanaryWindow {
  const none: WindowFigures = { requests: 0, errors: 0, errorRate: null, p99Ms: null };
  const c = canaryFig ?? none;
  const s = stableFig ?? none;
  const j = judgeWindow(c, s, analysis);
  return { at: new Date(to).toISOString(), ms: to - from, step, canary: c, stable: s, verdict: j.verdict, reasons: j.reasons };
}

function describeSide(f: WindowFigures): string {
  return `${f.requests} req, ${f.errors} 5xx${f.errorRate !== null ? ` (${(f.errorRate * 100).toFixed(1)} %)` : ''}, p99 ${f.p99Ms ?? '–'} ms`;
}

function describeWindow(w: CanaryWindow, state: CanaryState): string {
  const verdict = w.verdict === 'pass' ? 'pass' : w.verdict === 'fail' ? `FAIL (${state.failures}/${state.failureLimit}): ${w.reasons.join('; ')}` : `inconclusive: ${w.reasons.join('; ')}`;
  return `analysis step ${w.step}, ${(w.ms / 1000).toFixed(1)} s window: canary v${state.release} ${describeSide(w.canary)} | stable v${state.stableRelease} ${describeSide(w.stable)} → ${verdict}`;
}

/** Traffic back on the stable set in one edge command, then the canary replicas drained and stopped. */
async function abort(ctx: EngineContext, target: BlueGreenTarget, state: CanaryState, canaries: Replica[], rec: DeploymentRecorder, retireOpts: RetireOptions): Promise<void> {
  await rec.step(`abort canary: all traffic back to v${state.stableRelease}`, () => ctx.edge.setWeights(target.backend, abortWeights(state.canaryReplicas, state.stableReplicas)), () =>
    `one edge command: ${state.stableReplicas.length} stable replica(s) at weight 1, ${state.canaryReplicas.length} canary replica(s) at 0`,
  );
  Object.assign(state, { phase: 'aborted', weight: 0, stepEndsAt: null, pausedRemainingMs: null, paused: false });
  await writeCanary(ctx.store, state);
  await setLiveCanary(ctx.store, target.serviceId, target.environmentId, null);
  await rec.step(`retire ${canaries.length} canary replica(s) of v${state.release}`, async () => {
    await Promise.all(canaries.map((r) => retireReplica(ctx, r, retireOpts)));
  });
}

/** The rest of the new set starts on standby, one command moves all traffic to it, the stable set is retired. */
async function promote(ctx: EngineContext, target: BlueGreenTarget, state: CanaryState, canaries: Replica[], stable: Replica[], rec: DeploymentRecorder, retireOpts: RetireOptions, byHand: boolean): Promise<void> {
  Object.assign(state, { phase: 'promoting', stepEndsAt: null, paused: false, pausedRemainingMs: null });
  await writeCanary(ctx.store, state);
  const more = target.replicas - canaries.length;
  const added = more > 0
    ? await rec.step(`start ${more} more replica(s) of v${state.release} on standby`, () => startBatch(ctx, target, more, rec, { standby: true, slots: freeSlots(canaries.map((r) => r.labels.slot), more) }))
    : [];
  const all = [...canaries, ...added];
  await rec.step(`promote v${state.release}: all traffic to it${byHand ? ' (by hand)' : ''}`, () => ctx.edge.setWeights(target.backend, flipWeights(all.map((r) => r.name), stable.map((r) => r.name))), () =>
    `one edge command: ${all.length} replica(s) of v${state.release} at weight 1, ${stable.length} of v${state.stableRelease} at 0`,
  );
  Object.assign(state, { phase: 'flipped', weight: 100 });
  await writeCanary(ctx.store, state);
  await rec.step(`retire ${stable.length} replica(s) of v${state.stableRelease}`, async () => {
    await Promise.all(stable.map((r) => retireReplica(ctx, r, retireOpts)));
  });
  state.phase = 'promoted';
  await writeCanary(ctx.store, state);
  await setLiveCanary(ctx.store, target.serviceId, target.environmentId, null);
}

