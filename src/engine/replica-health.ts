/**
 * Live replica health, after admission. The edge checks every live replica of a web service
 * (health-check-lines.ts) and takes a failing one out of rotation by itself, within
 * interval × fall; this module decides when such a replica is beyond waiting: out of rotation
 * for `health.replace_after`, or failing the optional `health.liveness` path that the
 * control plane probes (services with a port only: a worker has no address to probe; liveness
 * is HTTP whatever `health.kind`, which sets readiness and the edge's check). The
 * reconciler calls it each pass and starts a repair that replaces the sick replicas (new ones
 * first, after readiness; then the sick ones are drained and stopped), with the same backoff
 * as any repair, so a whole service going unhealthy at once is not restarted in a loop.
 */
import type { Release, ServiceRef } from '../core/domain';
import { errorMessage } from '../core/errors';
import type { EdgeServer } from '../core/ports/edge';
import type { Replica } from '../core/ports/runtime';
import { edgeCheckTarget } from './edge-health-check';
import type { EngineContext } from './engine-context';

export interface SickReplica {
  /** Container name (= edge server name). */
  name: string;
  /** `edge`: out of rotation by its edge checks; `liveness`: failing the liveness path. */
  cause: 'edge' | 'liveness';
  /** For logs, events and the deployment log: "failing its edge health checks on /health for 61 s". */
  reason: string;
}

export interface ReplicaHealthInput {
  /** The live release of the service. */
  release: Release;
  /** The service's containers (any release, any state). */
  replicas: Replica[];
  /** Its backend's servers ([] for a worker). */
  servers: EdgeServer[];
  /** Consecutive failed liveness probes per replica name (absent: none). */
  livenessFailures?: ReadonlyMap<string, number>;
}

/** A checked server in rotation or on standby that fails its checks (drained and maintenance servers are on their way out). */
export function isEdgeDown(s: EdgeServer | undefined): boolean {
  return s !== undefined && s.health === 'down' && (s.state === 'ready' || s.state === 'standby');
}

/**
 * Pure: the running replicas of the live release to replace. Edge-down time is HAProxy's own
 * (seconds since the server's last change), so it survives a control-plane restart.
 */
export function replicasToReplace(input: ReplicaHealthInput): SickReplica[] {
  const h = input.release.config.health;
  const { replaceAfterMs, fall } = h;
  const servers = new Map(input.servers.map((s) => [s.name, s]));
  const out: SickReplica[] = [];
  for (const r of input.replicas) {
    if (r.state !== 'running' || r.labels.release !== input.release.number) continue;
    const s = servers.get(r.name);
    const downMs = (s?.healthChangedSecondsAgo ?? 0) * 1000;
    if (isEdgeDown(s) && downMs >= replaceAfterMs) {
      out.push({ name: r.name, cause: 'edge', reason: `failing its edge health checks ${edgeCheckTarget(h)} for ${Math.round(downMs / 1000)} s (replace_after ${Math.round(replaceAfterMs / 1000)} s)` });
      continue;
    }
    const failures = input.livenessFailures?.get(r.name) ?? 0;
    if (h.liveness && input.release.config.port !== null && failures >= fall) {
      out.push({ name: r.name, cause: 'liveness', reason: `failing its liveness probe on ${h.liveness} (${failures} times in a row)` });
    }
  }
  return out;
}

/**
 * The reconciler's memory of live replica health: consecutive liveness failures, and which
 * replicas were already reported unhealthy (one `replica.unhealthy` event per episode).
 */
export class ReplicaHealthMonitor {
  private readonly livenessFailures = new Map<string, number>();
  private readonly reported = new Set<string>();

  constructor(private readonly ctx: Pick<EngineContext, 'probe' | 'store' | 'logger'>) {}

  /** Probes liveness where configured, reports new unhealthy replicas, returns those to replace. */
  async check(ref: ServiceRef, release: Release, replicas: Replica[], servers: EdgeServer[]): Promise<SickReplica[]> {
    const h = release.config.health;
    const live = replicas.filter((r) => r.state === 'running' && r.labels.release === release.number);
    const prefix = `${ref.project}/${ref.service}/${ref.env}/`;
    if (h.liveness && release.config.port !== null) {
      await Promise.all(
        live.map(async (r) => {
          if (!r.address) return;
          const url = `http://${r.address!.includes(':') ? `[${r.address}]` : r.address}:${r.port}${h.liveness}`;
          const result = await this.ctx.probe(url, h.timeoutMs).catch((err: unknown) => ({ ok: false, status: null, error: errorMessage(err) }));
          const key = prefix + r.name;
          this.livenessFailures.set(key, result.ok ? 0 : (this.livenessFailures.get(key) ?? 0) + 1);
          if (!result.ok) await this.report(ref, r.name, `fails its liveness probe on ${h.liveness} (${result.status ?? result.error})`);
        }),
      );
    }
    const serverMap = new Map(servers.map((s) => [s.name, s]));
    for (const r of live) {
      const s = serverMap.get(r.name);
      if (isEdgeDown(s)) await this.report(ref, r.name, `fails its edge health checks ${edgeCheckTarget(h)}: out of rotation`);
      else if ((this.livenessFailures.get(prefix + r.name) ?? 0) === 0) this.reported.delete(prefix + r.name);
    }
    // Forget replicas that are gone.
    const names = new Set(replicas.map((r) => prefix + r.name));
    for (const k of [...this.livenessFailures.keys()]) if (k.startsWith(prefix) && !names.has(k)) this.livenessFailures.delete(k);
    for (const k of [...this.reported]) if (k.startsWith(prefix) && !names.has(k)) this.reported.delete(k);
    const failures = new Map(live.map((r) => [r.name, this.livenessFailures.get(prefix + r.name) ?? 0]));
    return replicasToReplace({ release, replicas, servers, livenessFailures: failures });
  }

  private async report(ref: ServiceRef, replica: string, reason: string): Promise<void> {
    const key = `${ref.project}/${ref.service}/${ref.env}/${replica}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.ctx.logger.warn({ ...ref, replica, reason }, 'replica unhealthy');
    await this.ctx.store
      .appendOutboxEvent({ type: 'replica.unhealthy', project: ref.project, payload: { project: ref.project, service: ref.service, env: ref.env, replica, reason } })
      .catch((err: unknown) => this.ctx.logger.warn({ err: errorMessage(err) }, 'could not record replica.unhealthy'));
  }
}
