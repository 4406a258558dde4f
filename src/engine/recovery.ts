/**
 * Runs when the control plane starts. A deployment left active by a crash is
 * resolved to a consistent state: if the edge already serves exactly the new
 * release it is marked succeeded; otherwise the service is converged back to the
 * release that was live before it and the deployment is marked failed
 * (SLW_INTERRUPTED). Then every service is cleaned of orphans: containers of
 * releases that are not live and belong to no active deployment, except a warm set
 * whose keep_warm has not ended (the warm-set retirer retires it on schedule).
 */
import { ACTIVE_STATES, type Deployment, type ServiceRef } from '../core/domain';
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
import { readWarmSet } from './warm-sets';
import { isExpired } from '../core/warm-set';

export interface RecoveryReport {
  resolved: Array<{ deployment: string; outcome: 'succeeded' | 'failed' }>;
  orphansRemoved: number;
}

export async function recoverAfterRestart(ctx: EngineContext, events: DeploymentEvents): Promise<RecoveryReport> {
  const report: RecoveryReport = { resolved: [], orphansRemoved: 0 };
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
  return report;
}

async function resolveInterrupted(ctx: EngineContext, d: Deployment, ref: ServiceRef, rec: DeploymentRecorder): Promise<'succeeded' | 'failed'> {
  const backend = backendName(ref.project, ref.service, ref.env);
  await rec.log(`control plane restarted while this deployment was ${d.state}; resolving it`, 'warn');
  const release = d.releaseId ? await ctx.store.getRelease(d.releaseId) : null;
  if (release) {
    const observed = await observeService(ctx, ref, backend, release.number, { worker: release.config.port === null });
    const complete =
      Boolean(release.config.schedule) ||
      (observed.targetServing.length === release.config.replicas &&
      observed.oldServing.length === 0 &&
      observed.targetUnregistered.length === 0);
    if (complete) {
      await ctx.store.setCurrentReleaseId(d.serviceId, d.environmentId, release.id);
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

/** Containers of non-live releases with no active deployment behind them are drained and removed. */
async function removeOrphans(ctx: EngineContext): Promise<number> {
  let removed = 0;
  for (const project of await ctx.store.listProjects()) {
    for (const env of await ctx.store.listEnvironments(project.id)) {
      for (const service of await ctx.store.listServices(project.id)) {
        const currentId = await ctx.store.getCurrentReleaseId(service.id, env.id);
        const current = currentId ? await ctx.store.getRelease(currentId) : null;
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
