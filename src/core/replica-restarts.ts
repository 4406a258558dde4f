/**
 * Restarts of replicas as Slipway means them (issue 23). Replicas run with Docker's restart
 * policy `no`, so Docker's RestartCount is always 0: a replica that dies is replaced by a
 * repair (engine/repair.ts) with a new container. What stays is its **slot**: the ordinal the
 * engine gave the replica in its release (0, 1, … up to the release's replica count; the
 * `slipway.slot` label), which the replacement inherits. A restart is one replacement of a
 * slot of the live release by a repair; deploys, rollbacks, scale and restart roll-outs are
 * not restarts. Pure: the store keeps the rows (ReplicaRestartStore), the engine writes them.
 */

/** Why a repair replaced a slot's replica. */
export type RestartReason =
  /** Its container exited (a crash, `docker kill`, a signal). */
  | 'exited'
  /** The kernel's OOM killer ended it. */
  | 'oom_killed'
  /** It ran but stayed unhealthy (out of rotation past health.replace_after, or failing health.liveness). */
  | 'unhealthy'
  /** No container at all: removed by hand, or an earlier replacement failed readiness and was removed. */
  | 'removed';

/** One replacement of a replica slot by a repair. */
export interface ReplicaRestart {
  project: string;
  env: string;
  service: string;
  /** The release whose slot it is (the live release at the repair). */
  release: number;
  slot: number;
  /** Epoch ms it was recorded: as the repair starts the replacement (an unhealthy one's: once the replacement took over). */
  at: number;
  reason: RestartReason;
  /** The dead container's exit code, when it had one. */
  exitCode: number | null;
  /** The replaced container's name (null when there was none: `removed`). */
  replica: string | null;
  /** The repair deployment. */
  deploymentId: string;
}

/** Restarts of one slot of one release of a service since a time. */
export interface SlotRestartCount {
  service: string;
  release: number;
  slot: number;
  count: number;
  /** Epoch ms of the newest. */
  lastAt: number;
}

/** The window `restarts` figures count over: the last 24 h (as long as the stats are kept). */
export const RESTART_WINDOW_MS = 24 * 3_600_000;
/** The service's short figure: the last hour. */
export const RESTART_RECENT_MS = 3_600_000;
/** Rows older than this are pruned (the alert rules' windows are far shorter). */
export const RESTART_RETENTION_MS = 7 * 24 * 3_600_000;

/** Map key of a slot of a release of a service. */
export function slotKey(service: string, release: number, slot: number): string {
  return `${service}\u0000${release}\u0000${slot}`;
}

/**
 * The `count` lowest slots no replica in `taken` holds (replicas of one release; a replica
 * without a slot, started before slots existed, holds none).
 */
export function freeSlots(taken: Iterable<number | null | undefined>, count: number): number[] {
  const held = new Set<number>();
  for (const s of taken) if (typeof s === 'number') held.add(s);
  const out: number[] = [];
  for (let s = 0; out.length < count; s++) if (!held.has(s)) out.push(s);
  return out;
}

/** A restart a repair is about to make: the slot it fills and why it is empty. */
export interface PlannedRestart {
  slot: number;
  reason: RestartReason;
  exitCode: number | null;
  /** The replica that held the slot (null: none was found). */
  replica: string | null;
}

/** What a repair needs to know of one replica: its name, slot and how it ended. */
export interface SlotHolder {
  name: string;
  slot?: number;
  exitCode: number | null;
  oomKilled?: boolean;
}

/**
 * The slots a repair fills. `missing` replacements take the lowest slots no running replica of
 * the live release holds (`taken`); each is the restart of the dead replica of the live release
 * that held the slot (`exited`, or `oom_killed`), else of a dead one without a slot (or whose slot
 * is held again), else of nothing (`removed`). Dead replicas beyond `missing` are removed
 * without a restart (nothing replaces them). Each sick replica's replacement takes its slot
 * (`unhealthy`; a free one for a replica from before slots).
 */
export function planRepairSlots(input: { dead: SlotHolder[]; taken: Array<number | undefined>; missing: number; sick: SlotHolder[] }): { missing: PlannedRestart[]; sick: PlannedRestart[] } {
  const slots = freeSlots(input.taken, input.missing);
  const unmatched = [...input.dead];
  // Exact slots first, so a dead replica is never taken for another slot before its own is seen;
  // then the dead ones left (no slot, or one held again) in order.
  const holders = new Map<number, SlotHolder>();
  for (const slot of slots) {
    const i = unmatched.findIndex((d) => d.slot === slot);
    if (i >= 0) holders.set(slot, unmatched.splice(i, 1)[0]!);
  }
  for (const slot of slots) if (!holders.has(slot) && unmatched.length > 0) holders.set(slot, unmatched.shift()!);
  const missing = slots.map((slot): PlannedRestart => {
    const d = holders.get(slot) ?? null;
    return d ? { slot, reason: d.oomKilled ? 'oom_killed' : 'exited', exitCode: d.exitCode, replica: d.name } : { slot, reason: 'removed', exitCode: null, replica: null };
  });
  const spare = freeSlots([...input.taken, ...slots], input.sick.filter((s) => s.slot === undefined).length);
  const sick = input.sick.map((s): PlannedRestart => ({ slot: s.slot ?? spare.shift()!, reason: 'unhealthy', exitCode: null, replica: s.name }));
  return { missing, sick };
}
