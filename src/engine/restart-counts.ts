/**
 * Read model of restarts (core/replica-restarts.ts) for status and the stats API: one
 * environment's counts per slot over the last 24 h and the last hour, read in two small
 * queries, then asked per replica (its slot of its release) and per service (its live release).
 */
import { RESTART_RECENT_MS, RESTART_WINDOW_MS, slotKey, type SlotRestartCount } from '../core/replica-restarts';
import type { ReplicaRestartStore } from '../core/ports/store';

export class RestartCounts {
  private readonly bySlot: Map<string, number>;

  private constructor(
    private readonly day: SlotRestartCount[],
    private readonly hour: SlotRestartCount[],
  ) {
    this.bySlot = new Map(day.map((c) => [slotKey(c.service, c.release, c.slot), c.count]));
  }

  /** The environment's counts (one service's with `service`). */
  static async read(store: ReplicaRestartStore, q: { project: string; env: string; service?: string }, now = Date.now()): Promise<RestartCounts> {
    const [day, hour] = await Promise.all([store.restartCounts({ ...q, since: now - RESTART_WINDOW_MS }), store.restartCounts({ ...q, since: now - RESTART_RECENT_MS })]);
    return new RestartCounts(day, hour);
  }

  /** Restarts of the replica's slot of its release in the last 24 h (0 for a replica without a slot). */
  replica(service: string, r: { release: number; slot?: number }): number {
    return r.slot === undefined ? 0 : (this.bySlot.get(slotKey(service, r.release, r.slot)) ?? 0);
  }

  /** Restarts of the service's live release (none live: 0). */
  service(service: string, liveRelease: number | null): { lastHour: number; last24h: number } {
    const sum = (rows: SlotRestartCount[]) => rows.reduce((n, c) => n + (c.service === service && c.release === liveRelease ? c.count : 0), 0);
    return { lastHour: sum(this.hour), last24h: sum(this.day) };
  }
}
