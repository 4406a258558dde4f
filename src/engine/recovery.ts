/**
 * Runs when the control plane starts. A deployment left active by a crash is
 * resolved to a consistent state: if the edge already serves exactly the new
 * release it is marked succeeded (unless its smoke window had not passed: then it is
 * rolled back); otherwise the service is converged back to the
 * release that was live before it and the deployment is marked failed
 * (SLW_INTERRUPTED). Then every service is cleaned of orphans: containers of
 * releases that are not live and belong to no active deployment, except a warm set
 * whose keep_warm has not ended (the warm-set retirer retires it on schedule).
 */
import { ACTIVE_STATES, type Deployment, type Release, type ServiceRef } from '../core/domain';
import { errorMessage } from '../core/errors';
import { backendName } from '../core/ports/edge';
import { deploymentEvent } from './domain-events';
import type { EngineContext } from './engine-context';
import type { DeploymentEvents } from './deployment-events';
import { DeploymentRecorder } from './deployment-recorder';
import { observeService } from './converge';
import { undoDeployment } from './deploy-engine';
import { retireReplica } from './retire-replica';
import { serviceRefOf } from './service-names';
import { LEASE_TTL_MS, serviceLeaseKey } from './service-lease';
import { clearWarmSet, readWarmSet } from './warm-sets';
import { isExpired } from '../core/warm-set';
import { abortWeights } from '../core/canary-weights';
import { isCanaryActive, type CanaryState } from '../core/canary-state';
import { readCanary, setLiveCanary, writeCanary } from './canary-states';
import { squarePlacements } from './placements';
import { isSmokeStep, smokeApplies } from '../core/smoke-checks';

export interface RecoveryReport {
  resolved: Array<{ deployment: string; outcome: 'succeeded' | 'failed' | 'rolled_back' }>;
  orphansRemoved: number;
  /** Placements recorded for replicas that had none, and forgotten for replicas that are gone. */
  placements: { recorded: number; forgotten: number };
  /** Service leases the previous process held without a deployment left to finish (it died between taking or releasing one and recording it). */
  leasesReleased: number;
}

export async function recoverAfterRestart(ctx: EngineContext, events: DeploymentEvents): Promise<RecoveryReport> {
  const report: RecoveryReport = { resolved: [], orphansRemoved: 0, placements: { recorded: 0, forgotten: 0 }, leasesReleased: 0 };
  const interrupted = await ctx.store.listDeployments({ states: [...ACTIVE_STATES] });
  for (const d of interrupted.reverse()) {
    const ref = await serviceRefOf(ctx.store, d.serviceId, d.environmentId);
    if (!ref) continue;
    const rec = new DeploymentRecorder(ctx.store, events, ctx.logger, d.id);
    const key = serviceLeaseKey(d.serviceId, d.environmentId);
    await ctx.store.acquireLease(key, d.id, LEASE_TTL_MS);
    try {
      report.resolved.push({ deployment: d.id, outcome: await resolveInterrupted(ctx, d, ref, rec) });
    } finally {
      await ctx.store.releaseLease(key, d.id);
    }
  }
  report.orphansRemoved = await removeOrphans(ctx);
  report.placements = await squarePlacements(ctx);
  report.leasesReleased = await releaseLeftLeases(ctx);
  return report;
}

/**
 * Every interrupted deployment is final now, and nothing of this process holds a service lease
 * yet (recovery runs at boot, before the API and the reconciler): a lease still held is the
 * previous process's, taken before its deployment was recorded or not released after it ended.
 * Released now rather than after its TTL, so the first deploy or repair is not refused.
 */
async function releaseLeftLeases(ctx: EngineContext): Promise<number> {
  let released = 0;
  for (const project of await ctx.store.listProjects()) {
    const services = await ctx.store.listServices(project.id);
    for (const env of await ctx.store.listEnvironments(project.id)) {
      for (const service of services) {
        const key = serviceLeaseKey(service.id, env.id);
        const lease = await ctx.store.getLease(key);
        if (!lease) continue;
        await ctx.store.releaseLease(key, lease.holder);
        ctx.logger.warn({ project: project.name, service: service.name, env: env.name, holder: lease.holder }, 'released a deploy lease the previous process left');
        released++;
      }
    }
  }
  return released;
}

async function resolveInterrupted(ctx: EngineContext, d: Deployment, ref: ServiceRef, rec: DeploymentRecorder): Promise<'succeeded' | 'failed' | 'rolled_back'> {
  const backend = backendName(ref.project, ref.service, ref.env);
  await rec.log(`control plane restarted while this deployment was ${d.state}; resolving it`, 'warn');
  const canary = await readCanary(ctx.store, d.id);
  // After the promotion's flip the new release serves everything: the general path below finds it complete.
  if (canary && isCanaryActive(canary) && canary.phase !== 'flipped') return abortInterruptedCanary(ctx, d, ref, backend, canary, rec);
  const release = d.releaseId ? await ctx.store.getRelease(d.releaseId) : null;
  if (release) {
    const observed = await observeService(ctx, ref, backend, release.number, { worker: release.config.port === null });
    const complete =
      release.config.type === 'job' ||
      (observed.targetServing.length === release.config.replicas &&
      observed.oldServing.length === 0 &&
      observed.targetUnregistered.length === 0);
    const smoke = await smokeProgress(ctx, d, release);
    // Traffic moved (or the undo after a failed check began) but no smoke window passed: never declared live unchecked.
    if (smoke === 'failed' || (complete && smoke === 'unfinished')) return resolveUnfinishedSmoke(ctx, d, ref, backend, release, smoke, rec, canary);
    if (complete) {
      await ctx.store.setCurrentReleaseId(d.serviceId, d.environmentId, release.id);
      // A canary stopped after its flip: its record ends as the promotion would have ended it (no longer live).
      if (canary?.phase === 'flipped') {
        await writeCanary(ctx.store, { ...canary, phase: 'promoted' });
        await setLiveCanary(ctx.store, d.serviceId, d.environmentId, null);
      }
      await rec.log(`v${release.number} was already fully live; marking the deployment succeeded`);
      await rec.state('succeeded', { finishedAt: new Date().toISOString(), event: deploymentEvent(d.kind === 'rollback' ? 'deployment.rolled_back' : 'deployment.succeeded', ref, d, { release: release.number }) });
      return 'succeeded';
    }
  }
  try {
    await undoDeployment(ctx, d, ref, backend, rec);
  } catch (err) {
    await rec.log(`could not fully restore the previous release: ${errorMessage(err)}`, 'error');
  }
  const error = 'the control plane stopped during this deployment; the previous release was restored';
  await rec.state('failed', {
    errorCode: 'SLW_INTERRUPTED',
    error,
    finishedAt: new Date().toISOString(),
    event: deploymentEvent('deployment.failed', ref, d, { errorCode: 'SLW_INTERRUPTED', error }),
  });
  return 'failed';
}

/**
 * Where the deployment's smoke checks got to, from its persisted steps: `none` when its release
 * has none (or the kind runs none), `done` when the window passed, `failed` when a check failed
 * (the rollback after it may not have finished), `unfinished` when the window never started or
 * a crash cut it.
 */
async function smokeProgress(ctx: EngineContext, d: Deployment, release: Release): Promise<'none' | 'done' | 'failed' | 'unfinished'> {
  if (!smokeApplies(d.kind, release.config)) return 'none';
  const step = (await ctx.store.listSteps(d.id)).filter((s) => isSmokeStep(s.name)).at(-1);
  if (!step || step.status === 'running') return 'unfinished';
  return step.status === 'done' ? 'done' : 'failed';
}

/**
 * The release took every request but its smoke window did not pass: a crash cut the window (or
 * came before it started), or a check failed and the crash cut its rollback. Nobody judged the
 * traffic the release served meanwhile, so it is not declared live on that (as an interrupted
 * canary is aborted, not resumed): with `rollback: true` the undo puts the previous release back
 * (a warm set is re-admitted after a probe) and the deployment ends `rolled_back`
 * (SLW_INTERRUPTED, or SLW_SMOKE_FAILED when a check had failed); with `rollback: false`, or no
 * earlier release, the release stays as the failure path would leave it and the deployment ends
 * `failed`.
 */
async function resolveUnfinishedSmoke(ctx: EngineContext, d: Deployment, ref: ServiceRef, backend: string, release: Release, smoke: 'failed' | 'unfinished', rec: DeploymentRecorder, canary: CanaryState | null): Promise<'failed' | 'rolled_back'> {
  const code = smoke === 'failed' ? 'SLW_SMOKE_FAILED' : 'SLW_INTERRUPTED';
  // A canary stopped after its flip is over as a canary: its record ends promoted, whatever follows.
  if (canary?.phase === 'flipped') {
    await writeCanary(ctx.store, { ...canary, phase: 'promoted' });
    await setLiveCanary(ctx.store, d.serviceId, d.environmentId, null);
  }
  const previous = d.previousReleaseId !== null ? await ctx.store.getRelease(d.previousReleaseId) : null;
  const what = smoke === 'failed' ? `a smoke check of v${release.number} had failed` : `the smoke checks of v${release.number} had not passed`;
  if (!release.config.deploy.smoke?.rollback) {
    await ctx.store.setCurrentReleaseId(d.serviceId, d.environmentId, release.id);
    const error = `the control plane stopped during this deployment: ${what}; rollback: false, so v${release.number} stays live`;
    await rec.log(error, 'warn');
    await rec.state('failed', { errorCode: code, error, finishedAt: new Date().toISOString(), event: deploymentEvent('deployment.failed', ref, d, { reason: 'smoke', errorCode: code, error, release: release.number }) });
    return 'failed';
  }
  await rec.log(`${what} when the control plane stopped: rolling back${previous ? ` to v${previous.number}` : ''}`, 'warn');
  try {
    await undoDeployment(ctx, d, ref, backend, rec, { allAtOnce: true });
  } catch (err) {
    await rec.log(`could not fully restore the previous release: ${errorMessage(err)}`, 'error');
  }
  if (!previous || previous.id === release.id) {
    const error = `the control plane stopped during this deployment: ${what}, and there is no earlier release: its replicas were removed`;
    await rec.state('failed', { errorCode: code, error, finishedAt: new Date().toISOString(), event: deploymentEvent('deployment.failed', ref, d, { errorCode: code, error }) });
    return 'failed';
  }
  const warm = await readWarmSet(ctx.store, d.serviceId, d.environmentId);
  if (warm?.release === previous.number) await clearWarmSet(ctx.store, d.serviceId, d.environmentId);
  const error = `the control plane stopped during this deployment: ${what}; rolled back to v${previous.number}`;
  await rec.state('rolled_back', {
    errorCode: code,
    error,
    finishedAt: new Date().toISOString(),
    event: deploymentEvent('deployment.rolled_back', ref, d, { reason: 'smoke', errorCode: code, error, release: release.number, rolledBackTo: previous.number }),
  });
  return 'rolled_back';
}

/**
 * A canary the control plane stopped watching is aborted, not resumed: the windows it judged
 * lived in memory and the traffic while it was down was never judged, so resuming would
 * promote on evidence nobody looked at. One edge command puts every new request back on the
 * stable set (stable at weight 1, canary at 0), the undo retires the canary replicas, and the
 * deployment ends `rolled_back` (SLW_INTERRUPTED). Deploying again starts a fresh canary.
 */
async function abortInterruptedCanary(ctx: EngineContext, d: Deployment, ref: ServiceRef, backend: string, canary: CanaryState, rec: DeploymentRecorder): Promise<'rolled_back'> {
  const replicas = await ctx.runtime.listReplicas({ project: ref.project, service: ref.service, env: ref.env });
  const release = new Map(replicas.map((r) => [r.name, r.labels.release]));
  const servers = await ctx.edge.listServers(backend);
  const inRotation = servers.filter((s) => s.state === 'ready' || s.state === 'standby');
  const stable = inRotation.filter((s) => release.get(s.name) === canary.stableRelease).map((s) => s.name);
  const canaries = inRotation.filter((s) => release.get(s.name) === canary.release).map((s) => s.name);
  await rec.log(`a canary of v${canary.release} was at step ${canary.step}/${canary.steps} (${canary.weight} %, phase ${canary.phase}): aborting it; v${canary.stableRelease} takes every request again`, 'warn');
  if (stable.length > 0 && canaries.length > 0) {
    try {
      await ctx.edge.setWeights(backend, abortWeights(canaries, stable));
      await rec.log(`one edge command: ${stable.length} replica(s) of v${canary.stableRelease} at weight 1, ${canaries.length} of v${canary.release} at 0`);
    } catch (err) {
      await rec.log(`could not put the traffic back in one command (${errorMessage(err)}); the undo drains the canary replicas instead`, 'error');
    }
  }
  try {
    await undoDeployment(ctx, d, ref, backend, rec);
  } catch (err) {
    await rec.log(`could not fully restore the previous release: ${errorMessage(err)}`, 'error');
  }
  const error = `the control plane stopped during the canary of v${canary.release} (step ${canary.step}/${canary.steps}, ${canary.weight} %); it was aborted on restart and v${canary.stableRelease} serves everything`;
  await writeCanary(ctx.store, { ...canary, phase: 'aborted', weight: 0, stepEndsAt: null, paused: false, pausedRemainingMs: null, outcome: error });
  await setLiveCanary(ctx.store, d.serviceId, d.environmentId, null);
  await rec.state('rolled_back', {
    errorCode: 'SLW_INTERRUPTED',
    error,
    finishedAt: new Date().toISOString(),
    event: deploymentEvent('deployment.rolled_back', ref, d, { reason: 'canary', errorCode: 'SLW_INTERRUPTED', error, release: canary.release, stableRelease: canary.stableRelease, step: canary.step, weight: canary.weight, window: canary.windows.at(-1) ?? null, failures: canary.failures }),
  });
  return 'rolled_back';
}

/** Containers of non-live releases with no active deployment behind them are drained and removed. */
async function removeOrphans(ctx: EngineContext): Promise<number> {
  let removed = 0;
  for (const project of await ctx.store.listProjects()) {
    for (const env of await ctx.store.listEnvironments(project.id)) {
      for (const service of await ctx.store.listServices(project.id)) {
        const current = await ctx.store.getCurrentRelease(service.id, env.id);
        const replicas = await ctx.runtime.listReplicas({ project: project.name, service: service.name, env: env.name });
        const backend = backendName(project.name, service.name, env.name);
        // A warm set is kept until its keep_warm ends (the retirer takes it then), not taken for orphans.
        const warm = await readWarmSet(ctx.store, service.id, env.id);
        for (const r of replicas) {
          if (current && r.labels.release === current.number && r.state === 'running') continue;
          if (warm && !isExpired(warm, new Date()) && r.labels.release === warm.release && r.state === 'running') continue;
          const owner = await ctx.store.getDeployment(r.labels.deployment);
          if (owner && ACTIVE_STATES.includes(owner.state)) continue;
          const timeouts = (current ?? { config: { deploy: { drainTimeoutMs: 10_000, stopTimeoutMs: 10_000 } } }).config.deploy;
          await retireReplica(ctx, r, {
            backend,
            drainTimeoutMs: timeouts.drainTimeoutMs,
            stopTimeoutMs: timeouts.stopTimeoutMs,
            log: async (m, level) => void ctx.logger[level ?? 'info']({ project: project.name, service: service.name }, m),
          });
          removed++;
        }
      }
    }
  }
  return removed;
}
