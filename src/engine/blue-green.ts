/**
 * The blue-green strategy. The whole new set starts beside the live one and joins the edge
 * on standby (weight 0) once every replica passed readiness; then ONE runtime change
 * (edge.setWeights) moves all new requests to it, and the previous set stays running on
 * standby for `keep_warm` (the warm set) before it is drained and stopped by the retirer.
 * A rollback to the warm release within that window is the same switch in reverse: no
 * container starts. Any failure before the switch leaves the live set untouched; the
 * deployment's undo retires what it started.
 */
import { performance } from 'node:perf_hooks';
import { formatDuration } from '../core/duration';
import { errorMessage } from '../core/errors';
import { flipWeights, planFlipBack } from '../core/plan-flip';
import { freeSlots } from '../core/replica-restarts';
import type { Replica } from '../core/ports/runtime';
import { keepWarmMs, warmSetFor } from '../core/warm-set';
import { observeService, startBatch, type ConvergeTarget } from './converge';
import type { DeploymentRecorder } from './deployment-recorder';
import type { EngineContext } from './engine-context';
import { checkReadyOnce, describeCheck, waitForReadiness } from './readiness';
import { retireOptions, retireReplica } from './retire-replica';
import { clearWarmSet, readWarmSet, writeWarmSet } from './warm-sets';

export interface BlueGreenTarget extends ConvergeTarget {
  serviceId: number;
  environmentId: number;
  /** The release live when the deployment started: the one a flip leaves warm. */
  previousReleaseId: number | null;
  /**
   * The set a flip leaves stays warm at least this long whatever keep_warm says: smoke checks
   * that roll back switch back to it (core/smoke-checks.ts smokeHoldMs). Absent: keep_warm alone.
   */
  holdWarmMs?: number;
}

/** A warm replica proved it still answers with this many probes before traffic returns to it (it passed full readiness before). */
const FLIP_BACK_PROBE_TIMEOUT_MS = 2000;

export async function blueGreen(ctx: EngineContext, target: BlueGreenTarget, rec: DeploymentRecorder): Promise<void> {
  const { ref, backend, release } = target;
  const cfg = release.config;
  const retireOpts = retireOptions(target.backend, target.release.config.deploy, rec);
  const observed = await observeService(ctx, ref, backend, release.number);

  for (const name of observed.staleServers) {
    await rec.log(`removing edge server ${name}: no container behind it`, 'warn');
    await ctx.edge.removeServer(backend, name);
  }
  // Whatever takes no traffic goes first: failed leftovers, and the warm set of an earlier flip
  // (a new deployment ends its window, so at most two sets ever run).
  const warm = await readWarmSet(ctx.store, target.serviceId, target.environmentId);
  if (warm && observed.leftovers.some((r) => r.labels.release === warm.release)) {
    await rec.log(`ending the warm window of v${warm.release} early: this deployment replaces it`);
  }
  await Promise.all(observed.leftovers.map((r) => retireReplica(ctx, r, retireOpts)));
  await clearWarmSet(ctx.store, target.serviceId, target.environmentId);

  // Replicas of the target already running out of rotation (rolling back to a warm set after its
  // window, or after a crash): kept on standby if they still pass readiness.
  const standby: Replica[] = [];
  for (const r of observed.targetUnregistered) {
    try {
      await waitForReadiness(r, { ...cfg.health, deadlineMs: Math.min(cfg.health.deadlineMs, 10_000) }, ctx);
      await ctx.edge.addServer(backend, { name: r.name, address: r.address!, port: r.port }, { weight: 0 });
      standby.push(r);
      await rec.log(`kept running replica ${r.name} of v${release.number} on standby after it passed readiness`);
    } catch (err) {
      await rec.log(`replica ${r.name} is not ready (${errorMessage(err)}); removing it`, 'warn');
      await retireReplica(ctx, r, retireOpts);
    }
  }
  const serving = observed.targetServing;
  while (serving.length + standby.length > target.replicas) await retireReplica(ctx, (standby.pop() ?? serving.shift())!, retireOpts);

  const missing = target.replicas - serving.length - standby.length;
  if (missing > 0) {
    await rec.step(`start ${missing} replica(s) of v${release.number} beside the live set`, async () => {
      standby.push(...(await startBatch(ctx, target, missing, rec, { standby: true, slots: freeSlots([...serving, ...standby].map((r) => r.labels.slot), missing) })));
    }, () => `${target.replicas} replica(s) of v${release.number} ready on standby`);
  }
  const old = observed.oldServing;
  if (standby.length === 0 && old.length === 0) {
    await rec.log(`v${release.number} already serves with ${serving.length} replica(s): nothing to switch`);
    return;
  }

  const flippedAt = new Date();
  const ms = await rec.step(`flip traffic to v${release.number}`, () => switchTraffic(ctx, backend, standby, old, rec), (t) =>
    `${standby.length} replica(s) of v${release.number} in${old.length > 0 ? `, ${describeSet(old)} out` : ''}, in ${t.toFixed(1)} ms (one edge command)`,
  );
  await rec.log(`traffic switched to v${release.number} in ${ms.toFixed(1)} ms${old.length > 0 ? '; requests in flight on the previous set finish there' : ''}`);
  await keepWarm(ctx, target, old, flippedAt, rec);
}

/**
 * Rollback inside the warm window: the warm set is the release asked for, complete, still on
 * standby and answering, so traffic switches back to it in one edge change and no container
 * starts. Returns false (with the reason in the log) when that is not the case: the caller
 * then rolls back normally.
 */
export async function flipBack(ctx: EngineContext, target: BlueGreenTarget, rec: DeploymentRecorder, opts: { keepLeftWarm?: boolean } = {}): Promise<boolean> {
  const { ref, backend, release } = target;
  const warm = await readWarmSet(ctx.store, target.serviceId, target.environmentId);
  const replicas = await ctx.runtime.listReplicas({ project: ref.project, service: ref.service, env: ref.env });
  const servers = new Map((await ctx.edge.listServers(backend)).map((s) => [s.name, s.state]));
  const plan = planFlipBack({
    warm,
    target: release.number,
    desired: release.config.replicas,
    now: new Date(),
    replicas: replicas.map((r) => ({ name: r.name, release: r.labels.release, running: r.state === 'running', edge: servers.get(r.name) ?? null })),
  });
  if (!plan.flip) {
    if (warm) await rec.log(`not a switch back to a warm set (${plan.reason}): rolling v${release.number} out as a deployment`);
    return false;
  }
  const byName = new Map(replicas.map((r) => [r.name, r]));
  const up = plan.up.map((n) => byName.get(n)!);
  const down = plan.down.map((n) => byName.get(n)!);
  // They passed readiness before and served until the flip; since then they only idled. One
  // probe each proves they still answer, so no request goes to a replica that stopped.
  const probes = await Promise.all(up.map((r) => checkReadyOnce(r, release.config.health, ctx, Math.min(release.config.health.timeoutMs, FLIP_BACK_PROBE_TIMEOUT_MS))));
  const bad = probes.findIndex((p) => !p.ok);
  if (bad >= 0) {
    const p = probes[bad]!;
    await rec.log(`warm replica ${up[bad]!.name} does not answer ${describeCheck(release.config.health, up[bad]!.port)} (${p.detail}): rolling v${release.number} out as a deployment`, 'warn');
    return false;
  }
  await rec.log(`v${release.number} is the warm set (kept since ${warm!.since}, until ${warm!.retireAt}): switching traffic back, no container starts`);
  const flippedAt = new Date();
  const ms = await rec.step(`switch traffic back to v${release.number} (warm set)`, () => switchTraffic(ctx, backend, up, down, rec), (t) =>
    `${up.length} warm replica(s) of v${release.number} in${down.length > 0 ? `, ${describeSet(down)} out` : ''}, in ${t.toFixed(1)} ms; no container started`,
  );
  await rec.log(`traffic is back on v${release.number} after ${ms.toFixed(1)} ms`);
  // A failed smoke check's undo retires the set it left (keepLeftWarm false): it is not kept to return to.
  if (opts.keepLeftWarm === false) await clearWarmSet(ctx.store, target.serviceId, target.environmentId);
  else await keepWarm(ctx, target, down, flippedAt, rec);
  return true;
}

/**
 * One edge command moves new requests from `down` to `up`; returns how long the edge took.
 * If the edge refuses part of it, the previous weights are put back before the error goes on.
 */
async function switchTraffic(ctx: EngineContext, backend: string, up: Replica[], down: Replica[], rec: DeploymentRecorder): Promise<number> {
  const upNames = up.map((r) => r.name);
  const downNames = down.map((r) => r.name);
  const started = performance.now();
  try {
    await ctx.edge.setWeights(backend, flipWeights(upNames, downNames));
  } catch (err) {
    await ctx.edge.setWeights(backend, flipWeights(downNames, upNames)).catch((undoErr: unknown) =>
      rec.log(`could not put the previous weights back: ${errorMessage(undoErr)}`, 'error'),
    );
    throw err;
  }
  return performance.now() - started;
}

/**
 * The set traffic just left stays running on standby for keep_warm (persisted, so a restart
 * honours it), or is retired at once with keep_warm 0s. Replicas of any other release that
 * were still serving (a mixed state after a crash) are retired now.
 */
async function keepWarm(ctx: EngineContext, target: BlueGreenTarget, left: Replica[], flippedAt: Date, rec: DeploymentRecorder): Promise<void> {
  const { store } = ctx;
  if (left.length === 0) {
    await clearWarmSet(store, target.serviceId, target.environmentId);
    return;
  }
  const retireOpts = retireOptions(target.backend, target.release.config.deploy, rec);
  const previous = target.previousReleaseId !== null ? await store.getRelease(target.previousReleaseId) : null;
  const releases = [...new Set(left.map((r) => r.labels.release))];
  const warmRelease = previous && releases.includes(previous.number) ? previous.number : Math.max(...releases);
  const others = left.filter((r) => r.labels.release !== warmRelease);
  const warmReplicas = left.filter((r) => r.labels.release === warmRelease);
  if (others.length > 0) {
    await rec.step(`retire ${describeSet(others)}`, async () => {
      await Promise.all(others.map((r) => retireReplica(ctx, r, retireOpts)));
    });
  }
  const from = await store.getReleaseByNumber(target.serviceId, target.environmentId, warmRelease);
  const keepWarmSetting = keepWarmMs(target.release.config.deploy, from?.config.deploy ?? null);
  const keepMs = Math.max(keepWarmSetting, target.holdWarmMs ?? 0);
  if (keepMs === 0) {
    await clearWarmSet(store, target.serviceId, target.environmentId);
    await rec.step(`retire v${warmRelease} (keep_warm 0s)`, async () => {
      await Promise.all(warmReplicas.map((r) => retireReplica(ctx, r, retireOpts)));
    });
    return;
  }
  const warm = warmSetFor(warmRelease, target.deploymentId, flippedAt, keepMs);
  await writeWarmSet(store, target.serviceId, target.environmentId, warm);
  await rec.log(
    `v${warmRelease} stays warm: ${warmReplicas.length} replica(s) running out of rotation until ${warm.retireAt} (keep_warm ${formatDuration(keepWarmSetting)}${keepMs > keepWarmSetting ? `, held ${formatDuration(keepMs)} for the smoke checks` : ''}); ` +
      `"slipway rollback ${target.ref.service}${target.ref.env === 'production' ? '' : ` --env ${target.ref.env}`}" before then switches back without starting a container`,
  );
}

/** "2 replica(s) of v3" (or of several releases). */
function describeSet(replicas: Replica[]): string {
  const releases = [...new Set(replicas.map((r) => `v${r.labels.release}`))];
  return `${replicas.length} replica(s) of ${releases.join(', ')}`;
}
