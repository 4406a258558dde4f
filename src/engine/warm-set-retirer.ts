/**
 * Retires warm sets when their keep_warm is over: drains them at the edge (they take no new
 * requests already, so this only waits for stragglers), stops them and forgets the record.
 * It takes the service's deployment lease while it works, so a rollback never flips back to
 * a set being retired and a deployment never starts halfway through. Started by main.ts
 * after recovery; because the record is persisted, a warm set outlives a control-plane
 * restart and is still retired on schedule (or at once, if its time passed meanwhile).
 */
import type { ServiceRef } from '../core/domain';
import { errorMessage } from '../core/errors';
import { backendName } from '../core/ports/edge';
import { isExpired, type WarmSet } from '../core/warm-set';
import type { DeploymentEvents } from './deployment-events';
import { DeploymentRecorder } from './deployment-recorder';
import type { EngineContext } from './engine-context';
import { retireOptions, retireReplica } from './retire-replica';
import { LEASE_TTL_MS, serviceLeaseKey } from './service-lease';
import { withLease } from './lease-guard';
import { clearWarmSet, readWarmSet } from './warm-sets';

/** Lease holders of the retirer start with this (the engine names it in SLW_DEPLOY_LOCKED). */
export const RETIRE_WARM_HOLDER = 'retire-warm-set:';
/** After a failed retirement (Docker or the edge down), wait this long before trying again. */
const RETRY_MS = 10_000;

export interface WarmSetTarget {
  ref: ServiceRef;
  serviceId: number;
  environmentId: number;
}

export class WarmSetRetirer {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private readonly retryAt = new Map<string, number>();

  constructor(
    private readonly ctx: EngineContext,
    private readonly events: DeploymentEvents,
    private readonly opts: { tickMs?: number } = {},
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.tick(new Date()).finally(() => (this.running = null));
    }, this.opts.tickMs ?? 1000);
    this.timer.unref();
  }

  /** Stops scheduling and waits for a retirement in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One pass over every service and environment: retires each warm set whose time has come. */
  async tick(now: Date): Promise<void> {
    const { store, logger } = this.ctx;
    try {
      for (const project of await store.listProjects()) {
        const services = await store.listServices(project.id);
        for (const env of await store.listEnvironments(project.id)) {
          for (const service of services) {
            const warm = await readWarmSet(store, service.id, env.id);
            const key = `${service.id}:${env.id}`;
            if (!warm || !isExpired(warm, now) || (this.retryAt.get(key) ?? 0) > now.getTime()) continue;
            const target = { ref: { project: project.name, service: service.name, env: env.name }, serviceId: service.id, environmentId: env.id };
            try {
              await retireWarmSet(this.ctx, this.events, target, warm);
              this.retryAt.delete(key);
            } catch (err) {
              this.retryAt.set(key, now.getTime() + RETRY_MS);
              logger.warn({ ...target.ref, release: warm.release, err: errorMessage(err) }, 'could not retire the warm set; trying again shortly');
            }
          }
        }
      }
    } catch (err) {
      logger.error({ err: errorMessage(err) }, 'warm set retirement pass failed');
    }
  }
}

/**
 * Retires one warm set under the service's lease. Returns false when it did nothing because a
 * deployment holds the lease (the next pass tries again) or the record changed meanwhile.
 */
export async function retireWarmSet(base: EngineContext, events: DeploymentEvents, target: WarmSetTarget, warm: WarmSet): Promise<boolean> {
  const { store } = base;
  const { ref, serviceId, environmentId } = target;
  const leaseKey = serviceLeaseKey(serviceId, environmentId);
  const holder = `${RETIRE_WARM_HOLDER}${warm.deploymentId}`;
  if (!(await store.acquireLease(leaseKey, holder, LEASE_TTL_MS))) return false;
  // Stragglers may take drain_timeout plus stop_timeout: the lease must outlive them (renewed), and stops them if lost.
  return withLease(base, leaseKey, holder, (ctx) => retireUnderLease(ctx, events, target, warm), (why) => base.logger.warn({ ...ref, why }, 'lost the lease while retiring a warm set: stopped'));
}

/** The retirement itself, on the lease-guarded context. */
async function retireUnderLease(ctx: EngineContext, events: DeploymentEvents, target: WarmSetTarget, warm: WarmSet): Promise<boolean> {
  const { store, runtime, edge } = ctx;
  const { ref, serviceId, environmentId } = target;
  // Under the lease: a deployment may have replaced or consumed it since it was read.
  const now = await readWarmSet(store, serviceId, environmentId);
  if (!now || now.release !== warm.release || now.deploymentId !== warm.deploymentId) return false;
  const rec = new DeploymentRecorder(store, events, ctx.logger, warm.deploymentId);
  const live = await store.getCurrentRelease(serviceId, environmentId);
  if (live?.number === warm.release) {
    // Rolled back to by a deployment that took it into rotation: it is not warm any more.
    await clearWarmSet(store, serviceId, environmentId);
    return true;
  }
  const backend = backendName(ref.project, ref.service, ref.env);
  const inRotation = new Set((await edge.listServers(backend)).filter((s) => s.state === 'ready').map((s) => s.name));
  const replicas = await runtime.listReplicas({ project: ref.project, service: ref.service, env: ref.env, release: warm.release });
  const serving = replicas.filter((r) => inRotation.has(r.name));
  for (const r of serving) await rec.log(`replica ${r.name} of v${warm.release} takes traffic again: not retiring it with the warm set`, 'warn');
  const retiring = replicas.filter((r) => !inRotation.has(r.name));
  const release = await store.getReleaseByNumber(serviceId, environmentId, warm.release);
  const deploy = release?.config.deploy ?? { drainTimeoutMs: 10_000, stopTimeoutMs: 10_000 };
  await rec.log(`keep_warm of v${warm.release} ended at ${warm.retireAt}: draining and stopping ${retiring.length} warm replica(s)`);
  await Promise.all(
    retiring.map((r) =>
      retireReplica(ctx, r, retireOptions(backend, deploy, rec)),
    ),
  );
  await clearWarmSet(store, serviceId, environmentId);
  await rec.log(`the warm set of v${warm.release} is retired`);
  return true;
}
