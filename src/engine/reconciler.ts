/**
 * The reconciler: every `intervalMs` it compares each live web service and worker with its
 * live release (dead containers, fewer running replicas than the release asks for) and
 * starts a repair (`DeployEngine.repair`, a deployment of kind `repair`) where one is due.
 * Replicas run with restart policy `no`, so without it a crashed replica stays gone until
 * the next deploy. A pass reads the store and the events-backed replica listing only; the
 * repair itself re-reads Docker under the service's lease. Services with a deployment in
 * progress are left to it. A service whose repairs keep being needed backs off (15 s doubling
 * to 10 min): an app that crashes at start is not restarted in a tight loop. After the repairs
 * each pass compares the edge with the desired state and corrects it (edge-repair.ts).
 * Replicas that run but stay unhealthy (out of rotation at the edge past health.replace_after,
 * or failing health.liveness) are replaced by the same repairs, same backoff (replica-health.ts).
 * A replica the kernel's OOM killer ended is reported as such by its repair (repair.ts: the
 * log names the memory limit; event `replica.oom_killed`).
 */
import type { Logger } from 'pino';
import { isTerminal, type Deployment, type ServiceRef } from '../core/domain';
import { errorMessage } from '../core/errors';
import type { EngineContext } from './engine-context';
import { damageOf, needsRepair } from './repair';
import { repairEdge } from './edge-repair';
import { ReplicaHealthMonitor, type SickReplica } from './replica-health';
import { backendName, type EdgeServer } from '../core/ports/edge';

export interface ReconcilePass {
  services: number;
  repairsStarted: number;
  /** Edge corrections applied (edge-repair.ts): servers, routes and backends put back in line with the desired state. */
  edgeCorrections: number;
  ms: number;
}

export const BACKOFF_MIN_MS = 15_000;
export const BACKOFF_MAX_MS = 600_000;
/** A repaired service that keeps running this long is healthy again (its backoff is forgotten). */
export const HEALTHY_RESET_MS = 120_000;

/** When a service may be repaired again after `attempts` repairs in a row that did not last. */
export function nextRepairAt(lastAt: number, attempts: number): number {
  return lastAt + Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.max(0, attempts - 1));
}

export class Reconciler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private stopped = false;
  /** Per service: repairs started while it stayed damaged, and when the last one started. */
  private readonly attempts = new Map<string, { count: number; lastAt: number }>();
  /** The last pass, for /metrics and the scale benchmark. */
  last: ReconcilePass | null = null;

  constructor(
    private readonly ctx: EngineContext,
    private readonly engine: { repair(ref: ServiceRef, triggeredBy?: string, sick?: SickReplica[]): Promise<Deployment | null> },
    private readonly opts: { intervalMs: number; logger: Logger; now?: () => number },
  ) {
    this.health = new ReplicaHealthMonitor({ probe: ctx.probe, store: ctx.store, logger: opts.logger });
  }

  /** Live replica health (edge checks, liveness): unhealthy replicas past their limits are replaced by a repair. */
  private readonly health: ReplicaHealthMonitor;

  start(): void {
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pass()
        .then((p) => void p)
        .catch((err: unknown) => this.opts.logger.warn({ err: errorMessage(err) }, 'reconcile pass failed; next one as usual'))
        .finally(() => {
          this.running = null;
          this.schedule();
        });
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  /** One pass over every live service; starts the repairs that are due. */
  async pass(): Promise<ReconcilePass> {
    const now = this.opts.now ?? Date.now;
    const started = performance.now();
    const { store, runtime } = this.ctx;
    let services = 0;
    let repairsStarted = 0;
    // Accessories first: the services repaired below need their databases up (a reboot stopped both).
    await this.ctx.accessories?.heal().catch((err: unknown) => this.opts.logger.warn({ err: errorMessage(err) }, 'accessory heal pass failed'));
    for (const project of await store.listProjects()) {
      const serviceNames = new Map((await store.listServices(project.id)).map((s) => [s.id, s.name]));
      for (const env of await store.listEnvironments(project.id)) {
        const live = (await store.listCurrentReleases(env.id)).filter((r) => r.config.type !== 'job');
        if (live.length === 0) continue;
        const busy = new Set((await store.listRecentDeployments(env.id, 1)).filter((d) => !isTerminal(d.state) && d.state !== 'awaiting_approval').map((d) => d.serviceId));
        const replicas = await runtime.listReplicasRecent({ project: project.name, env: env.name });
        // One edge reading per environment; an edge that does not answer (restarting) hides no repair of dead replicas.
        const webBackends = live.filter((r) => r.config.port !== null).map((r) => backendName(project.name, serviceNames.get(r.serviceId) ?? '', env.name));
        const edgeServers = webBackends.length > 0 ? await this.ctx.edge.listServersOf(webBackends).catch(() => new Map<string, EdgeServer[]>()) : new Map<string, EdgeServer[]>();
        for (const release of live) {
          const service = serviceNames.get(release.serviceId);
          if (!service) continue;
          services++;
          const key = `${release.serviceId}:${env.id}`;
          const mine = replicas.filter((r) => r.labels.service === service);
          const tried = this.attempts.get(key);
          const ref = { project: project.name, service, env: env.name };
          const sick =
            release.config.port !== null && release.config.health
              ? await this.health.check(ref, release, mine, edgeServers.get(backendName(project.name, service, env.name)) ?? [])
              : [];
          if (!needsRepair(damageOf(release, mine)) && sick.length === 0) {
            // Healthy for a while after its last repair: a later death starts without backoff.
            if (tried && now() - tried.lastAt > HEALTHY_RESET_MS) this.attempts.delete(key);
            continue;
          }
          if (busy.has(release.serviceId)) continue;
          if (tried && now() < nextRepairAt(tried.lastAt, tried.count)) continue;
          const d = await this.engine.repair(ref, 'reconciler', sick).catch((err: unknown) => {
            this.opts.logger.warn({ ...ref, err: errorMessage(err) }, 'could not start a repair');
            return null;
          });
          if (d) {
            repairsStarted++;
            this.attempts.set(key, { count: (tried?.count ?? 0) + 1, lastAt: now() });
            const oomKilled = mine.filter((r) => r.state !== 'running' && r.oomKilled).map((r) => r.name);
            this.opts.logger.info({ ...ref, deployment: d.id, attempt: (tried?.count ?? 0) + 1, unhealthy: sick.map((s) => s.name), oomKilled }, sick.length > 0 ? 'unhealthy replicas: repair started' : oomKilled.length > 0 ? 'replicas killed by the OOM killer: repair started' : 'replicas died: repair started');
          }
        }
      }
    }
    // The edge like the containers: after the repairs (whose services now hold their lease and are left to them).
    const edge = await repairEdge(this.ctx, this.opts.logger).catch((err: unknown) => {
      this.opts.logger.warn({ err: errorMessage(err) }, 'edge check skipped this pass');
      return { corrected: 0, failed: 0 };
    });
    const seconds = (performance.now() - started) / 1000;
    this.ctx.telemetry?.loopDone('reconciler', seconds);
    this.last = { services, repairsStarted, edgeCorrections: edge.corrected, ms: Math.round(seconds * 10_000) / 10 };
    this.opts.logger.debug(this.last, 'reconcile pass');
    return this.last;
  }
}
