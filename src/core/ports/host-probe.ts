/**
 * HostProbe port: what the stats sampler needs to know about a server's own resources.
 * Implemented for the local host by src/drivers/host (/proc and statfs); a remote server
 * would answer the same reading over its connection.
 */
import type { HostCpuCounters } from '../resource-stats';

export interface HostReading {
  /** Epoch ms of the reading. */
  at: number;
  /** Cumulative: compare two readings for a percentage. */
  cpu: HostCpuCounters;
  cpus: number;
  memoryTotalBytes: number;
  /** What can be allocated without swapping (MemAvailable), not merely free memory. */
  memoryAvailableBytes: number;
  disk: {
    /** The directory whose filesystem is measured (Slipway's data directory). */
    path: string;
    usedBytes: number;
    totalBytes: number;
    availableBytes: number;
  };
}

/** Space on the filesystem holding a directory (statfs), as `df` counts it. */
export interface DiskReading {
  path: string;
  totalBytes: number;
  /** What an unprivileged writer may still use (excludes root's reserve). */
  availableBytes: number;
}

export interface HostProbe {
  read(): Promise<HostReading>;
  /** The filesystem of `path` (e.g. Docker's data root for the low-disk guard). */
  disk(path: string): Promise<DiskReading>;
}
