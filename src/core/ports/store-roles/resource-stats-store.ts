/** Store role: CPU, memory and I/O samples of replicas and hosts (the stats sampler), compacted with age. */
import type { HostSample, ReplicaSample } from '../../resource-stats';

export interface ResourceStatsStore {
  /** One sampling round of the stats sampler, in one transaction (a replica's series is created on first sight). */
  addResourceSamples(replicas: ReplicaSample[], hosts: HostSample[]): Promise<void>;
  /** The newest sample of each named replica; replicas never sampled are absent. */
  latestReplicaSamples(replicas: string[]): Promise<ReplicaSample[]>;
  latestHostSample(server: string): Promise<HostSample | null>;
  /** Samples of a service's replicas in an environment taken at or after `since` (epoch ms), by replica then time. */
  listReplicaSamples(q: { project: string; service: string; env: string; since: number }): Promise<ReplicaSample[]>;
  /** Oldest first. */
  listHostSamples(server: string, since: number): Promise<HostSample[]>;
  /**
   * Raw samples taken before `rollupBefore` (a minute boundary) are replaced by one average
   * per replica (or server) and minute; everything before `deleteBefore` is deleted.
   */
  compactResourceSamples(c: { rollupBefore: number; deleteBefore: number }): Promise<{ averaged: number; deleted: number }>;
}
