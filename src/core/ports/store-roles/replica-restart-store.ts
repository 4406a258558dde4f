/** Store role: restarts of replica slots (a repair replacing a replica of the live release; core/replica-restarts.ts). */
import type { ReplicaRestart, SlotRestartCount } from '../../replica-restarts';

export interface ReplicaRestartStore {
  /** Records one restart (one row per replacement; never merged). */
  recordReplicaRestart(r: ReplicaRestart): Promise<void>;
  /**
   * Restarts at or after `since` (epoch ms) per service, release and slot, in one environment of
   * a project (one service of it when `service` is given), by service, release, slot.
   */
  restartCounts(q: { project: string; env: string; service?: string; since: number }): Promise<SlotRestartCount[]>;
  /**
   * Every environment's counts at once, keyed the same way (for the stats sampler's rounds), by
   * project, env, service, release, slot.
   */
  allRestartCounts(since: number): Promise<Array<SlotRestartCount & { project: string; env: string }>>;
  /**
   * How many times the service's replicas were restarted at or after `since` (epoch ms), any
   * release and slot: what a "replica restarts over K in N minutes" rule compares with K.
   */
  serviceRestartsSince(q: { project: string; env: string; service: string; since: number }): Promise<number>;
  /** The restarts themselves, newest first (at most `limit`, default 100). */
  listReplicaRestarts(q: { project: string; env: string; service?: string; since: number; limit?: number }): Promise<ReplicaRestart[]>;
  /** Deletes restarts recorded before `before` (epoch ms); returns how many. */
  pruneReplicaRestarts(before: number): Promise<number>;
}
