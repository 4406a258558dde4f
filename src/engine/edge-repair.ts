/**
 * The reconciler's edge step: the running edge compared with the desired state
 * (edge-desired-state.ts) by the pure planner (core/plan-edge-repair.ts), and each correction
 * applied through the Edge port, logged, and recorded as an `edge.corrected` outbox event.
 * Cheap when nothing is wrong: one backend file read, two runtime API readings, the store,
 * the events-backed replica listing, and no probe (replicas already in rotation are trusted;
 * only candidates to add are probed). A backend whose service holds its deployment lease is
 * left to that deployment, checked again right before each correction.
 */
import type { Logger } from 'pino';
import { errorMessage } from '../core/errors';
import { describeCorrection, planEdgeRepair, type EdgeCorrection, type ObservedEdge } from '../core/plan-edge-repair';
import type { Edge, EdgeBackendSpec } from '../core/ports/edge';
import { desiredEdgeState } from './edge-desired-state';
import type { EngineContext } from './engine-context';

export interface EdgeRepairResult {
  /** Corrections applied. */
  corrected: number;
  /** Corrections that failed (logged; the next pass tries again). */
  failed: number;
}

export async function repairEdge(ctx: EngineContext, logger: Logger): Promise<EdgeRepairResult> {
  const { edge, store } = ctx;
  const backends = await edge.listBackends();
  const servers = await edge.listServersOf(backends.map((b) => b.name));
  const routes = await edge.listRoutes();
  const desired = await desiredEdgeState(ctx, { observed: servers, recentReplicas: true });
  const observed: ObservedEdge = { backends, servers, routes };
  let plan = planEdgeRepair(desired, observed);
  const result: EdgeRepairResult = { corrected: 0, failed: 0 };
  if (plan.length === 0) return result;
  if (plan.some((c) => c.kind === 'remove-server')) {
    // Only to say why a server goes: no container at all, or one that is not a ready live replica.
    const running = new Set((await ctx.runtime.listReplicasRecent({})).filter((r) => r.state === 'running').map((r) => r.name));
    plan = planEdgeRepair(desired, { ...observed, running });
  }
  const leftAlone = new Map<string, boolean>();
  for (const c of plan) {
    const backend = c.backend;
    const owner = desired.owners.get(backend);
    if (owner) {
      // A deployment may have started (or even ended) since the desired state was read: the edge is
      // then its own, or the state stale; the next pass looks again.
      if (!leftAlone.has(backend)) {
        const held = (await store.getLease(owner.leaseKey)) !== null;
        const newest = held ? null : ((await store.listRecentDeployments(owner.environmentId, 1)).find((d) => d.serviceId === owner.serviceId)?.id ?? null);
        leftAlone.set(backend, held || newest !== owner.lastDeploymentId);
      }
      if (leftAlone.get(backend)) continue;
    }
    const summary = describeCorrection(c);
    const where = owner ? { ...owner.ref } : {};
    try {
      await apply(edge, c, backends);
    } catch (err) {
      result.failed++;
      logger.warn({ ...where, backend, correction: c.kind, err: errorMessage(err) }, `edge correction failed: ${summary}`);
      continue;
    }
    result.corrected++;
    logger.warn({ ...where, backend, correction: c.kind }, `edge corrected: ${summary}`);
    await store
      .appendOutboxEvent({ type: 'edge.corrected', project: owner?.ref.project ?? null, payload: { ...where, backend, correction: c.kind, summary } })
      .catch((err: unknown) => logger.warn({ err: errorMessage(err) }, 'could not record the edge.corrected event'));
  }
  return result;
}

async function apply(edge: Edge, c: EdgeCorrection, declared: EdgeBackendSpec[]): Promise<void> {
  switch (c.kind) {
    case 'add-backend':
      return edge.ensureBackend(c.spec);
    case 'update-backend': {
      // What the desired spec does not say (e.g. checks of an edge version without them) stays as declared; the stopped page is always the spec's.
      const have = declared.find((b) => b.name === c.backend);
      const { stopped: _stopped, ...kept } = have ?? { name: c.backend, hosts: [] };
      return edge.ensureBackend({ ...kept, ...c.spec });
    }
    case 'remove-backend':
      return edge.removeBackend(c.backend);
    case 'remove-route':
      return edge.removeRoute(c.host);
    case 'add-server':
    case 'resolve-server':
      // addServer is idempotent by name: an existing server gets the address, weight and state ready.
      return edge.addServer(c.backend, { name: c.server.name, address: c.server.address, port: c.server.port }, { weight: c.server.weight });
    case 'set-weights':
      return edge.setWeights(c.backend, c.weights.map((w) => ({ name: w.name, weight: w.weight })));
    case 'remove-server':
      return edge.removeServer(c.backend, c.name);
  }
}
