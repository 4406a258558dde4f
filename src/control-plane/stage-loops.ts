/**
 * Stage 5: the background loops, after recovery — the backup schedule, the job scheduler, the
 * warm-set retirer, the reconciler (one pass at once at boot), the stats sampler and the alert
 * rules. Undone by stopping each.
 */
import type { Logger } from 'pino';
import type { ServiceRef } from '../core/domain';
import { errorMessage } from '../core/errors';
import { ProcHostProbe } from '../drivers/host/proc-host-probe';
import { AlertEvaluator } from '../engine/alerts';
import { JobScheduler } from '../engine/job-scheduler';
import { Reconciler } from '../engine/reconciler';
import type { SickReplica } from '../engine/replica-health';
import { WarmSetRetirer } from '../engine/warm-set-retirer';
import { ResourceSampler } from '../observe/resource-sampler';
import type { CleanupStack } from './cleanup-stack';
import type { ResolvedOptions } from './control-plane-options';
import type { EngineStage } from './stage-engine';
import type { RuntimeEdgeStage } from './stage-runtime-edge';

export interface LoopsStage {
  /** Why the control plane is still starting (the boot reconcile pass and its repairs), null once it is done; /readyz says it. */
  booting(): string | null;
}

export async function startBackgroundLoops(o: ResolvedOptions, logger: Logger, stack: CleanupStack, { ctx, engine, backups, edgeSupervisor }: EngineStage, { releaseWindows }: Pick<RuntimeEdgeStage, 'releaseWindows'>): Promise<LoopsStage> {
  const backupTimer = o.backupTickMs === 0 ? undefined : setInterval(() => void backups.tick(), o.backupTickMs);
  backupTimer?.unref();
  if (backupTimer) stack.defer('backup schedule', () => clearInterval(backupTimer));

  const scheduler = new JobScheduler(ctx);
  await scheduler.start();
  stack.defer('job scheduler', () => scheduler.stop());
  // After recovery, which keeps warm sets whose keep_warm has not ended: this retires them on schedule.
  const warmSets = new WarmSetRetirer(ctx, engine.events);
  warmSets.start();
  stack.defer('warm-set retirer', () => warmSets.stop());

  // After recovery too: what it left is what the reconciler compares with the live releases.
  // Start from nothing (a reboot: edge gone, replicas stopped): one pass at once rather than after
  // the interval, and /readyz says `starting` until the repairs it started (in parallel) have ended.
  const bootRepairs: string[] = [];
  let booting: string | null = o.reconcileIntervalMs !== 0 ? 'starting: the first reconcile pass runs' : null;
  const repairer = {
    repair: async (ref: ServiceRef, triggeredBy?: string, sick?: SickReplica[]) => {
      const d = await engine.repair(ref, triggeredBy, sick);
      if (d && booting !== null) bootRepairs.push(d.id);
      return d;
    },
  };
  const reconciler = new Reconciler(ctx, repairer, { intervalMs: o.reconcileIntervalMs || 5000, logger: logger.child({ component: 'reconciler' }) });
  let stopped = false;
  stack.defer('reconciler', async () => {
    stopped = true;
    await reconciler.stop();
  });
  if (booting !== null) {
    const bootStarted = Date.now();
    void reconciler
      .pass()
      .then(async (pass) => {
        booting = `starting: ${bootRepairs.length} repair(s) of live services in progress`;
        await engine.settled(bootRepairs);
        logger.info({ services: pass.services, repairs: bootRepairs.length, ms: Date.now() - bootStarted }, 'boot: every live service checked and repaired');
      })
      .catch((err: unknown) => logger.error({ err: errorMessage(err) }, 'boot reconcile pass failed; the periodic passes take over'))
      .finally(() => {
        booting = null;
        // Not when the control plane stopped meanwhile: the periodic passes would outlive it.
        if (!stopped) reconciler.start();
      });
  }

  const sampler = new ResourceSampler({
    runtime: ctx.runtime,
    host: new ProcHostProbe({ diskPath: o.dataDir }),
    store: ctx.store,
    logger: logger.child({ component: 'stats' }),
    intervalMs: o.statsIntervalMs || 5000,
    concurrency: o.statsConcurrency,
  });
  if (o.statsIntervalMs !== 0) {
    sampler.start();
    stack.defer('stats sampler', () => sampler.stop());
  }
  // After the sampler (host rules read its samples) and the reconciler (crash loops count its repairs).
  if (o.alertIntervalMs !== 0) {
    const alerts = new AlertEvaluator({ store: ctx.store, ...(releaseWindows ? { traffic: releaseWindows } : {}), edgeDown: () => edgeSupervisor.down(), logger: logger.child({ component: 'alerts' }) });
    alerts.start(o.alertIntervalMs);
    stack.defer('alert rules', () => alerts.stop());
  }
  return { booting: () => booting };
}
