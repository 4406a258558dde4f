/**
 * Moves one service in one environment to `replicas` ready replicas of a target
 * release, batch by batch (see core/plan-rollout). Works from observed state (the
 * containers the runtime reports and the servers the edge has), so the same code
 * serves a fresh deploy, a rollback, the undo of a failed deploy and recovery after
 * a crash. Old replicas keep serving until their replacements passed readiness.
 */
import type { ServiceRef, Release } from '../core/domain';
import { SlipwayError, errorMessage } from '../core/errors';
import { planRollout } from '../core/plan-rollout';
import { freeSlots } from '../core/replica-restarts';
import type { Replica } from '../core/ports/runtime';
import type { EngineContext } from './engine-context';
import type { DeploymentRecorder } from './deployment-recorder';
import { describeCheck, waitForReadiness } from './readiness';
import { waitForWorkerReadiness } from './worker-readiness';
import { releaseEnv } from './replica-env';
import { replicaName } from './replica-naming';
import { retireOptions, retireReplica } from './retire-replica';
import { placeContainer } from './placement';


export interface ConvergeTarget {
  ref: ServiceRef;
  backend: string;
  release: Release;
  replicas: number;
  deploymentId: string;
  /** A warm set's release (blue-green, keep_warm not over) whose replicas on standby are left alone. */
  keepWarm?: number;
}

export interface ObservedService {
  targetServing: Replica[];
  oldServing: Replica[];
  /** Target-release replicas running but not in rotation at the edge: no server (e.g. after a crash) or on standby (a warm set). */
  targetUnregistered: Replica[];
  /** Stopped containers, half-retired replicas, unregistered old replicas. */
  leftovers: Replica[];
  /** Edge servers with no container behind them. */
  staleServers: string[];
}

/** `worker`: a running container is serving (there is no edge server to consult). */
export async function observeService(ctx: EngineContext, ref: ServiceRef, backend: string, releaseNumber: number, opts: { worker?: boolean; keepWarm?: number } = {}): Promise<ObservedService> {
  const replicas = await ctx.runtime.listReplicas({ project: ref.project, service: ref.service, env: ref.env });
  const servers = new Map((await ctx.edge.listServers(backend)).map((s) => [s.name, s]));
  const observed: ObservedService = { targetServing: [], oldServing: [], targetUnregistered: [], leftovers: [], staleServers: [] };
  for (const r of replicas) {
    const server = servers.get(r.name);
    servers.delete(r.name);
    const isTarget = r.labels.release === releaseNumber;
    if (r.state === 'running' && !isTarget && r.labels.release === opts.keepWarm && server?.state === 'standby') continue;
    if (r.state !== 'running') observed.leftovers.push(r);
    else if (opts.worker) (isTarget ? observed.targetServing : observed.oldServing).push(r);
    else if (server?.state === 'ready') (isTarget ? observed.targetServing : observed.oldServing).push(r);
    else if (isTarget && (!server || server.state === 'standby')) observed.targetUnregistered.push(r);
    else observed.leftovers.push(r);
  }
  observed.staleServers = [...servers.keys()];
  // Retire the oldest releases first.
  observed.oldServing.sort((a, b) => a.labels.release - b.labels.release);
  return observed;
}

export async function converge(ctx: EngineContext, target: ConvergeTarget, rec: DeploymentRecorder): Promise<void> {
  const { ref, backend, release } = target;
  const cfg = release.config;
  const retireOpts = retireOptions(backend, cfg.deploy, rec);
  const observed = await observeService(ctx, ref, backend, release.number, { worker: cfg.port === null, keepWarm: target.keepWarm });

  for (const name of observed.staleServers) {
    await rec.log(`removing edge server ${name}: no container behind it`, 'warn');
    await ctx.edge.removeServer(backend, name);
  }
  for (const r of observed.leftovers) await retireReplica(ctx, r, retireOpts);

  // Replicas of the target that run but are not routed: admit them only if they pass readiness now.
  for (const r of observed.targetUnregistered) {
    try {
      await waitForReadiness(r, { ...cfg.health, deadlineMs: Math.min(cfg.health.deadlineMs, 10_000) }, ctx);
      await ctx.edge.addServer(backend, { name: r.name, address: r.address!, port: r.port });
      observed.targetServing.push(r);
      await rec.log(`adopted running replica ${r.name} after it passed readiness`);
    } catch (err) {
      await rec.log(`replica ${r.name} is not ready (${errorMessage(err)}); removing it`, 'warn');
      await retireReplica(ctx, r, retireOpts);
    }
  }

  // Scale down surplus target replicas (keep the newest).
  while (observed.targetServing.length > target.replicas) {
    await retireReplica(ctx, observed.targetServing.shift()!, retireOpts);
  }

  const plan =
    cfg.deploy.strategy === 'recreate'
      ? // Every old replica stops before any new one starts: replicas never overlap.
        [{ retireBefore: observed.oldServing.length, start: Math.max(0, target.replicas - observed.targetServing.length), retireAfter: 0 }].filter((b) => b.retireBefore + b.start > 0)
      : planRollout({
          desired: target.replicas,
          targetServing: observed.targetServing.length,
          oldServing: observed.oldServing.length,
          maxSurge: cfg.deploy.maxSurge,
          maxUnavailable: cfg.deploy.maxUnavailable,
        });
  await rec.log(
    `plan: ${plan.length} batch(es) to reach ${target.replicas} replica(s) of v${release.number} (serving now: ${observed.targetServing.length} new, ${observed.oldServing.length} old)`,
  );

  for (const [i, batch] of plan.entries()) {
    const label = `batch ${i + 1}/${plan.length}`;
    await Promise.all(observed.oldServing.splice(0, batch.retireBefore).map((r) => retireReplica(ctx, r, retireOpts)));
    if (batch.start > 0) {
      await rec.step(`${label}: start ${batch.start} replica(s) of v${release.number}`, async () => {
        const started = await startBatch(ctx, target, batch.start, rec, { slots: freeSlots(observed.targetServing.map((r) => r.labels.slot), batch.start) });
        observed.targetServing.push(...started);
      });
    }
    const retiring = observed.oldServing.splice(0, batch.retireAfter);
    if (retiring.length > 0) {
      await rec.step(`${label}: drain and stop ${retiring.length} old replica(s)`, async () => {
        await Promise.all(retiring.map((r) => retireReplica(ctx, r, retireOpts)));
      });
    }
  }
}

/**
 * Starts `count` replicas, waits for each to be ready, then adds it to the edge: in rotation,
 * or with `standby` at weight 0 (blue-green: the whole set waits for the flip). `slots`: the
 * slot each takes in its release (core/replica-restarts.ts), one per replica: free ones
 * (`freeSlots`), or for a repair those of the replicas it replaces.
 */
export async function startBatch(ctx: EngineContext, target: ConvergeTarget, count: number, rec: DeploymentRecorder, opts: { standby?: boolean; slots: number[] }): Promise<Replica[]> {
  const { ref, release, backend } = target;
  const cfg = release.config;
  const { slots } = opts;
  const results = await Promise.allSettled(
    Array.from({ length: count }, async (_, i) => {
      const replica = await ctx.runtime.startReplica({
        server: placeContainer(ctx.runtime),
        name: replicaName(ref, release.number),
        image: release.imageDigest,
        port: cfg.port ?? 0,
        ...(cfg.command ? { command: cfg.command } : {}),
        ...(cfg.volumes.length ? { volumes: cfg.volumes } : {}),
        ...(cfg.resources ? { resources: cfg.resources } : {}),
        env: await releaseEnv(ctx, ref, release),
        labels: { ...ref, release: release.number, deployment: target.deploymentId, ...(slots[i] !== undefined ? { slot: slots[i] } : {}) },
      });
      await ctx.store.recordPlacement({ replica: replica.name, server: replica.server, serviceId: release.serviceId, environmentId: release.environmentId, release: release.number, deploymentId: target.deploymentId, placedAt: new Date().toISOString() });
      try {
        if (cfg.port === null) {
          await rec.log(`started worker ${replica.name}; ${cfg.health.kind === 'exec' ? `checking ${describeCheck(cfg.health, 0)}` : `waiting for its HEALTHCHECK, or ${cfg.minReadyMs} ms running`}`);
          const ready = await waitForWorkerReadiness(replica, { minReadyMs: cfg.minReadyMs, deadlineMs: cfg.health.deadlineMs, health: cfg.health }, ctx);
          await rec.log(`${replica.name} is ready (${ready.by === 'healthcheck' ? 'HEALTHCHECK healthy' : ready.by === 'exec' ? `${ready.probes} check(s) run` : 'running without restart'} after ${ready.waitedMs} ms)`);
          return replica;
        }
        await rec.log(`started ${replica.name} at ${replica.address}:${replica.port}; probing ${describeCheck(cfg.health, replica.port)}`);
        const ready = await waitForReadiness(replica, cfg.health, ctx);
        await rec.log(`${replica.name} is ready (${ready.probes} probe(s), ${ready.waitedMs} ms)`);
      } catch (err) {
        await rec.log(`${replica.name} failed readiness: ${errorMessage(err)}`, 'error');
        await logTail(ctx, replica, rec);
        await ctx.runtime.stopReplica(replica.id, 1000);
        await ctx.store.forgetPlacements([replica.name]);
        throw err;
      }
      await ctx.edge.addServer(backend, { name: replica.name, address: replica.address!, port: replica.port }, { weight: opts.standby ? 0 : 1 });
      await rec.log(opts.standby ? `${replica.name} is on standby at the edge (no traffic until the flip)` : `${replica.name} receives traffic`);
      return replica;
    }),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    throw failed.reason instanceof SlipwayError ? failed.reason : new SlipwayError('SLW_DEPLOY_FAILED', errorMessage(failed.reason));
  }
  return results.map((r) => (r as PromiseFulfilledResult<Replica>).value);
}

/** Copies the last lines a failed replica printed into the deployment log: the usual reason it failed. */
async function logTail(ctx: EngineContext, replica: Replica, rec: DeploymentRecorder): Promise<void> {
  try {
    const lines: string[] = [];
    for await (const entry of ctx.runtime.logs({ deployment: replica.labels.deployment }, { tail: 10 })) {
      if (entry.replica === replica.name) lines.push(entry.line);
    }
    for (const line of lines.slice(-10)) await rec.log(`  ${replica.name} | ${line}`, 'warn');
  } catch {
    // Logs are a diagnosis aid; their absence must not mask the real failure.
  }
}
