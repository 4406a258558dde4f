/**
 * Repair: a service back to its live release's replica count after replicas died (crashed,
 * OOM-killed: logged as such with the memory limit, event `replica.oom_killed`; removed by
 * hand), or with unhealthy replicas replaced (replica-health.ts). Dead containers are removed (their edge servers first), and
 * the missing replicas start from the live release and join the edge after readiness, like
 * any batch. Nothing else is touched: no build, no new release, replicas of other releases
 * (a warm set) stay as they are. Decisions read Docker directly, never a cached listing.
 * A replacement takes the slot of the replica it replaces and is recorded as a restart of that
 * slot (core/replica-restarts.ts): what `restarts` counts in status, the stats API and the dashboard.
 */
import type { Release, ServiceRef } from '../core/domain';
import { errorMessage } from '../core/errors';
import type { EdgeServer } from '../core/ports/edge';
import type { Replica } from '../core/ports/runtime';
import { planRepairSlots, type PlannedRestart } from '../core/replica-restarts';
import { observeService, startBatch, type ConvergeTarget } from './converge';
import type { DeploymentRecorder } from './deployment-recorder';
import type { EngineContext } from './engine-context';
import { isEdgeDown, type SickReplica } from './replica-health';
import { retireOptions, retireReplica } from './retire-replica';

export interface Damage {
  /** Containers of the service that are not running (any release). */
  dead: Replica[];
  /** Replicas of the live release running (and, for a web service, in rotation at the edge). */
  serving: number;
  /** How many replicas of the live release to start. */
  missing: number;
  /** Running replicas of the live release to replace (replica-health.ts): replacements start first, then these are retired. */
  sick: Array<{ replica: Replica; reason: string }>;
  /** Slots held by running replicas of the live release (core/replica-restarts.ts): the replacements take others. */
  taken: Array<number | undefined>;
}

function damage(release: Release, dead: Replica[], serving: number, taken: Damage['taken'], sick: Damage['sick'] = []): Damage {
  return { dead, serving, missing: Math.max(0, release.config.replicas - serving), sick, taken };
}

/** What a service lacks, from its replicas alone (running counts as serving): the reconciler's cheap look. */
export function damageOf(release: Release, replicas: Replica[]): Damage {
  const running = replicas.filter((r) => r.state === 'running' && r.labels.release === release.number);
  return damage(release, replicas.filter((r) => r.state !== 'running'), running.length, running.map((r) => r.labels.slot));
}

export function needsRepair(d: Damage): boolean {
  return d.dead.length > 0 || d.missing > 0 || d.sick.length > 0;
}

/** The same, from Docker and the edge as a deploy observes them (converge's observeService). */
export async function assessDamage(ctx: EngineContext, ref: ServiceRef, backend: string, release: Release, sick: SickReplica[] = []): Promise<Damage> {
  const observed = await observeService(ctx, ref, backend, release.number, { worker: release.config.port === null });
  // The reconciler saw them sick; still so now? (running, and for the edge cause still out of rotation)
  const servers = sick.some((s) => s.cause === 'edge') ? new Map((await ctx.edge.listServers(backend)).map((s) => [s.name, s])) : new Map<string, EdgeServer>();
  const stillSick = sick.flatMap((s) => {
    const replica = observed.targetServing.find((r) => r.name === s.name);
    return replica && (s.cause !== 'edge' || isEdgeDown(servers.get(s.name))) ? [{ replica, reason: s.reason }] : [];
  });
  // A sick replica still counts as serving: its replacement is started on top of it.
  const running = [...observed.targetServing, ...observed.targetUnregistered];
  return damage(release, observed.leftovers.filter((r) => r.state !== 'running'), observed.targetServing.length, running.map((r) => r.labels.slot), stillSick);
}

/** A replica's memory limit in bytes: its own (Docker's), else the release's for a replica of it; null: none. */
function memoryLimitBytes(r: Replica, release?: Release): number | null {
  return r.resources?.memoryBytes ?? (release && r.labels.release === release.number ? release.config.resources?.memoryBytes : null) ?? null;
}

/** The same in MiB (one decimal), as messages show it. */
export function memoryLimitMiB(r: Replica, release?: Release): number | null {
  const bytes = memoryLimitBytes(r, release);
  return bytes === null ? null : Math.round((bytes / 1024 / 1024) * 10) / 10;
}

/** How a dead replica ended, for the log: "exited with code 137 (killed: SIGKILL or out of memory)". */
export function describeDeath(r: Replica, release?: Release): string {
  if (r.oomKilled) {
    const mib = memoryLimitMiB(r, release);
    return `was killed by the kernel's OOM killer (${mib === null ? 'no memory limit: the host ran out of memory' : `memory limit ${mib} MiB`})`;
  }
  const code = r.exitCode;
  if (code === null) return `is ${r.state}`;
  const why = code === 137 ? ' (killed: SIGKILL or out of memory)' : code === 143 ? ' (SIGTERM)' : code === 139 ? ' (segmentation fault)' : '';
  return `exited with code ${code}${why}`;
}

/**
 * Each replacement of a slot of the live release is recorded as a restart of that slot
 * (core/replica-restarts.ts): a dead or missing replica's when its replacement starts (a
 * replacement that then fails readiness still counts: the next repair is another restart), a
 * sick one's once its replacement took over. Dead replicas of other releases are only removed.
 */
export async function repairService(ctx: EngineContext, target: ConvergeTarget, damage: Damage, rec: DeploymentRecorder): Promise<void> {
  const { release, backend } = target;
  const retire = retireOptions(backend, release.config.deploy, rec);
  const slots = planRepairSlots({
    dead: damage.dead.filter((r) => r.labels.release === release.number).map((r) => ({ name: r.name, slot: r.labels.slot, exitCode: r.exitCode, oomKilled: r.oomKilled })),
    taken: damage.taken,
    missing: damage.missing,
    sick: damage.sick.map((s) => ({ name: s.replica.name, slot: s.replica.labels.slot, exitCode: null })),
  });
  for (const r of damage.dead) {
    await rec.log(`replica ${r.name} (v${r.labels.release}) ${describeDeath(r, release)}: removing it`, 'warn');
    if (r.oomKilled) await reportOomKill(ctx, target, r);
    await retireReplica(ctx, r, retire);
  }
  if (damage.missing > 0) {
    for (const planned of slots.missing) await recordRestart(ctx, target, planned);
    await rec.step(`start ${damage.missing} replacement replica(s) of v${release.number}`, async () => {
      await startBatch(ctx, target, damage.missing, rec, { slots: slots.missing.map((p) => p.slot) });
    });
  }
  if (damage.sick.length > 0) {
    // Capacity never drops: the replacements pass readiness before the sick replicas go. If
    // they fail it (the whole service is sick: a dependency down), the repair fails, the sick
    // replicas stay, and the reconciler's backoff spaces the next try.
    for (const s of damage.sick) await rec.log(`replica ${s.replica.name} (v${s.replica.labels.release}) is ${s.reason}: replacing it`, 'warn');
    await rec.step(`start ${damage.sick.length} replica(s) of v${release.number} to replace unhealthy one(s)`, async () => {
      await startBatch(ctx, target, damage.sick.length, rec, { slots: slots.sick.map((p) => p.slot) });
    });
    for (const [i, s] of damage.sick.entries()) {
      await retireReplica(ctx, s.replica, retire);
      await rec.log(`unhealthy replica ${s.replica.name} replaced`);
      await recordRestart(ctx, target, slots.sick[i]!);
      await ctx.store
        .appendOutboxEvent({ type: 'replica.replaced', project: target.ref.project, payload: { ...target.ref, replica: s.replica.name, reason: s.reason, deploymentId: target.deploymentId } })
        .catch((err: unknown) => ctx.logger.warn({ err: errorMessage(err) }, 'could not record replica.replaced'));
    }
  }
}

/** One restart of a slot of the live release; a store that does not answer costs the figure, never the repair. */
async function recordRestart(ctx: EngineContext, target: ConvergeTarget, p: PlannedRestart): Promise<void> {
  const { ref, release } = target;
  await ctx.store
    .recordReplicaRestart({ ...ref, release: release.number, slot: p.slot, at: Date.now(), reason: p.reason, exitCode: p.exitCode, replica: p.replica, deploymentId: target.deploymentId })
    .catch((err: unknown) => ctx.logger.warn({ ...ref, slot: p.slot, err: errorMessage(err) }, 'could not record a replica restart'));
}

/** An OOM kill is worth a notification of its own: the fix is a limit or a leak, not a restart. */
async function reportOomKill(ctx: EngineContext, target: ConvergeTarget, r: Replica): Promise<void> {
  const limit = memoryLimitBytes(r, target.release);
  ctx.logger.warn({ ...target.ref, replica: r.name, release: r.labels.release, memoryLimitBytes: limit }, 'replica killed by the OOM killer');
  await ctx.store
    .appendOutboxEvent({
      type: 'replica.oom_killed',
      project: target.ref.project,
      payload: { ...target.ref, replica: r.name, release: r.labels.release, memoryLimitBytes: limit, memoryLimitMiB: memoryLimitMiB(r, target.release), exitCode: r.exitCode, deploymentId: target.deploymentId },
    })
    .catch((err: unknown) => ctx.logger.warn({ err: errorMessage(err) }, 'could not record replica.oom_killed'));
}
