/**
 * What the edge should hold, from Slipway's own state (invariant 8: a running HAProxy is a
 * cache of it): a backend per live web service (its domains, HTTPS policy and checks), and a server
 * per running replica that answers its health path — replicas of the live release in
 * rotation, a warm set on standby (weight 0), a canary's split as its record says, and the
 * replicas a deployment in progress already admitted. The reconciler compares the edge with
 * it each pass; an edge restarted after a crash is refilled from it before taking traffic.
 */
import { canarySplit } from '../core/canary-weights';
import { isCanaryActive, type CanaryState } from '../core/canary-state';
import { ACTIVE_STATES, type Deployment, type Release, type ServiceRef } from '../core/domain';
import { backendName, type EdgeBackendSpec, type EdgeServer } from '../core/ports/edge';
import type { Replica } from '../core/ports/runtime';
import type { HealthConfig } from '../core/config';
import type { WarmSet } from '../core/warm-set';
import type { DesiredEdge, DesiredEdgeServer } from '../core/plan-edge-repair';
import { readLiveCanary } from './canary-states';
import type { EngineContext } from './engine-context';
import { edgeBackendSpec } from './edge-backend-spec';
import { checkReadyOnce } from './readiness';
import { serviceLeaseKey } from './service-lease';
import { readWarmSets } from './warm-sets';

/**
 * `{ backends, servers, inProgress }`: the shape core/plan-edge-repair.ts compares with the
 * edge; `owners` names the service of every backend Slipway knows (for logs, events, and the
 * lease a correction checks first).
 */
export type DesiredEdgeState = DesiredEdge & { owners: Map<string, EdgeOwner> };
export interface EdgeOwner {
  ref: ServiceRef;
  serviceId: number;
  environmentId: number;
  /** The service's deployment lease (service-lease.ts): held, its backend is left alone. */
  leaseKey: string;
  /** Its newest deployment when this state was read: another one since means the state is stale. */
  lastDeploymentId: string | null;
}
export type { DesiredEdgeServer };

export interface DesiredEdgeOptions {
  /**
   * The edge as observed now: a replica whose server is there in rotation (ready or standby) is
   * not probed again (it passed readiness when admitted), so a pass with nothing wrong probes
   * nothing. Absent: every candidate is probed (an empty edge after a restart).
   */
  observed?: Map<string, EdgeServer[]>;
  /** Read the replicas from the events-backed listing (the reconciler's cheap look) instead of Docker. */
  recentReplicas?: boolean;
}

/** One probe per candidate, this many at once, each within this time: an edge refill must be fast. */
export const PROBE_CONCURRENCY = 8;
export const PROBE_TIMEOUT_MS = 2000;

interface Candidate {
  replica: Replica;
  backend: string;
  /** Checked by its kind (readiness.ts): HTTP on the path, a TCP connect, or its exec command. */
  health: HealthConfig;
  timeoutMs: number;
  weight: number;
}

export async function desiredEdgeState(ctx: EngineContext, opts: DesiredEdgeOptions = {}): Promise<DesiredEdgeState> {
  const { store, runtime } = ctx;
  const backends: EdgeBackendSpec[] = [];
  const candidates: Candidate[] = [];
  const inProgress: string[] = [];
  const owners = new Map<string, EdgeOwner>();
  for (const project of await store.listProjects()) {
    const services = await store.listServices(project.id);
    const serviceNames = new Map(services.map((s) => [s.id, s.name]));
    for (const env of await store.listEnvironments(project.id)) {
      // Deployments before releases: one that ends in between is then seen live, never half (its release not yet current but itself over).
      const latest = await store.listRecentDeployments(env.id, 1);
      const live = new Map((await store.listCurrentReleases(env.id)).map((r) => [r.serviceId, r]));
      const active = new Map(latest.filter((d) => ACTIVE_STATES.includes(d.state)).map((d) => [d.serviceId, d]));
      if (live.size === 0 && active.size === 0) continue;
      const replicas = opts.recentReplicas ? await runtime.listReplicasRecent({ project: project.name, env: env.name }) : await runtime.listReplicas({ project: project.name, env: env.name });
      const warmSets = await readWarmSets(store, [...serviceNames.keys()], env.id);
      for (const [serviceId, service] of serviceNames) {
        const release = live.get(serviceId) ?? null;
        const deployment = active.get(serviceId) ?? null;
        const backend = backendName(project.name, service, env.name);
        owners.set(backend, {
          ref: { project: project.name, service, env: env.name },
          serviceId,
          environmentId: env.id,
          leaseKey: serviceLeaseKey(serviceId, env.id),
          lastDeploymentId: latest.find((d) => d.serviceId === serviceId)?.id ?? null,
        });
        if (deployment) inProgress.push(backend);
        if (release && (release.config.type === 'job' || release.config.port === null)) continue;
        if (release) backends.push(edgeBackendSpec(backend, release.config));
        const mine = replicas.filter((r) => r.labels.service === service && r.state === 'running' && r.address);
        if (mine.length === 0) continue;
        // A canary only runs inside its deployment (recovery aborts one left by a crash).
        const canary = deployment ? await readLiveCanary(store, serviceId, env.id) : null;
        const target = deployment?.releaseId ? ((await store.getRelease(deployment.releaseId)) ?? null) : null;
        const canaryRelease = canary && isCanaryActive(canary) ? await store.getReleaseByNumber(serviceId, env.id, canary.release) : null;
        const weights = serverWeights({ live: release, warm: warmSets.get(serviceId) ?? null, canary: canary && isCanaryActive(canary) ? canary : null, canaryRelease, deployment, target }, mine);
        for (const r of mine) {
          const w = weights.get(r.name);
          if (w === undefined) continue;
          const config = (r.labels.release === target?.number ? target : r.labels.release === canaryRelease?.number ? canaryRelease : release)?.config;
          if (!config || config.port === null) continue;
          candidates.push({ replica: r, backend, health: config.health, timeoutMs: Math.min(config.health.timeoutMs, PROBE_TIMEOUT_MS), weight: w.weight });
        }
      }
    }
  }
  const servers = await admitted(ctx, candidates, opts.observed);
  return { backends, servers, inProgress, owners };
}

/**
 * The weight each running replica of a service should have at the edge; replicas absent from
 * the map should have no server (a release being retired, a deployment's replica of another release).
 */
export function serverWeights(
  s: { live: Release | null; warm: WarmSet | null; canary: CanaryState | null; canaryRelease: Release | null; deployment: Deployment | null; target: Release | null },
  replicas: Replica[],
): Map<string, { weight: number }> {
  const out = new Map<string, { weight: number }>();
  // Past its keep_warm a warm set stays standby until the retirer (holding the lease) drains it.
  const warm = s.warm;
  // The live release taken back into rotation (a rollback) is not warm, unless a deployment in progress flipped away from it.
  const flippedAway = warm !== null && s.deployment !== null && warm.deploymentId === s.deployment.id;
  const isWarm = (release: number) => warm !== null && release === warm.release && (flippedAway || release !== s.live?.number);
  const canaryWeights = s.canary ? canaryServerWeights(s.canary, s.canaryRelease, replicas) : new Map<string, number>();
  for (const r of replicas) {
    const release = r.labels.release;
    const fromCanary = canaryWeights.get(r.name);
    if (fromCanary !== undefined) out.set(r.name, { weight: fromCanary });
    else if (s.canary && (release === s.canary.release || release === s.canary.stableRelease)) continue;
    else if (isWarm(release)) out.set(r.name, { weight: 0 });
    else if (s.live && release === s.live.number) out.set(r.name, { weight: 1 });
    else if (s.deployment && s.target && release === s.target.number && r.labels.deployment === s.deployment.id) {
      // A blue-green set waits on standby until its flip; the flip leaves the previous set warm (recorded by this deployment).
      out.set(r.name, { weight: s.target.config.deploy.strategy === 'blue-green' && !flippedAway ? 0 : 1 });
    }
  }
  return out;
}

/** A canary's servers at the weights its phase and step gave them (canary.ts). */
function canaryServerWeights(c: CanaryState, canaryRelease: Release | null, replicas: Replica[]): Map<string, number> {
  const out = new Map<string, number>();
  const newSet = replicas.filter((r) => r.labels.release === c.release).map((r) => r.name);
  const stableSet = c.stableReplicas.filter((n) => replicas.some((r) => r.name === n));
  if (c.phase === 'flipped') {
    for (const n of newSet) out.set(n, 1);
    for (const n of stableSet) out.set(n, 0);
    return out;
  }
  // No release record (deleted with its service): no step, the stable set takes everything.
  const steps = canaryRelease?.config.deploy.steps ?? [];
  const step = c.step >= 1 ? steps[c.step - 1] : undefined;
  const split = step && c.canaryReplicas.length > 0 && c.stableReplicas.length > 0 ? canarySplit(step.weight, c.stableReplicas.length, c.canaryReplicas.length) : null;
  for (const n of stableSet) out.set(n, split ? split.stable : 1);
  // Replicas of the new release beyond the canary set are the promotion's standby set.
  for (const n of newSet) out.set(n, split && c.canaryReplicas.includes(n) ? split.canary : 0);
  return out;
}

/** The candidates that pass one check of their health kind now (those already in rotation at the edge are trusted). */
async function admitted(ctx: EngineContext, candidates: Candidate[], observed?: Map<string, EdgeServer[]>): Promise<DesiredEdgeServer[]> {
  const inRotation = (c: Candidate) => observed?.get(c.backend)?.some((s) => s.name === c.replica.name && (s.state === 'ready' || s.state === 'standby')) ?? false;
  const ok = new Array<boolean>(candidates.length).fill(false);
  let next = 0;
  const worker = async () => {
    while (next < candidates.length) {
      const i = next++;
      const c = candidates[i]!;
      if (inRotation(c)) {
        ok[i] = true;
        continue;
      }
      ok[i] = (await checkReadyOnce(c.replica, c.health, ctx, c.timeoutMs)).ok;
    }
  };
  await Promise.all(Array.from({ length: Math.min(PROBE_CONCURRENCY, candidates.length) }, worker));
  return candidates
    .filter((_, i) => ok[i])
    .map((c) => ({ backend: c.backend, name: c.replica.name, address: c.replica.address!, port: c.replica.port, weight: c.weight }));
}
