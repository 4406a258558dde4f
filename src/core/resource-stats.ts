/**
 * Container and host resource samples: what the sampler records every few seconds, what
 * the store keeps for 24 h (raw for the last minutes, per-minute averages beyond) and what
 * `slipway status` and the stats API show. Pure arithmetic only; the readings come through
 * the Runtime and HostProbe ports.
 */

/** Cumulative CPU time of a container and of the whole host, as Docker reports them. */
export interface ContainerCpuCounters {
  /** CPU time the container used since it started, ns (`cpu_stats.cpu_usage.total_usage`). */
  usageNs: number;
  /** CPU time of the whole host (all CPUs) since boot, ns (`cpu_stats.system_cpu_usage`). */
  systemNs: number;
  /** CPUs online when read. */
  onlineCpus: number;
}

/** Cumulative CPU time of the host from /proc/stat, in clock ticks. */
export interface HostCpuCounters {
  /** Ticks not spent idle or waiting for I/O. */
  busy: number;
  total: number;
}

/**
 * A container's CPU use between two readings, as `docker stats` computes it: the share of
 * the host's CPU time the container used, times the number of CPUs, so 100 = one full core
 * and 2 cores flat out read 200. Null when the two readings cannot be compared (first
 * reading, a restarted container whose counter went back, no host time elapsed).
 */
export function containerCpuPercent(prev: ContainerCpuCounters | null | undefined, cur: ContainerCpuCounters): number | null {
  if (!prev) return null;
  const used = cur.usageNs - prev.usageNs;
  const system = cur.systemNs - prev.systemNs;
  if (used < 0 || system <= 0 || cur.onlineCpus <= 0) return null;
  return round2((used / system) * cur.onlineCpus * 100);
}

/** The host's CPU use between two readings, 0–100 (100 = every CPU busy). */
export function hostCpuPercent(prev: HostCpuCounters | null | undefined, cur: HostCpuCounters): number | null {
  if (!prev) return null;
  const total = cur.total - prev.total;
  const busy = cur.busy - prev.busy;
  if (total <= 0 || busy < 0) return null;
  return round2(Math.min(100, (busy / total) * 100));
}

/** One replica at one time. `spanMs` is the sampling interval for raw rows and 60 000 for per-minute averages. */
export interface ReplicaSample {
  replica: string;
  project: string;
  service: string;
  env: string;
  release: number;
  /** Epoch ms: when it was read (raw) or the start of the minute (averages). */
  at: number;
  spanMs: number;
  /** As `docker stats`: 100 = one core. Null for the first reading of a container. */
  cpuPercent: number | null;
  /** Memory in use without the reclaimable page cache (what `docker stats` shows). */
  memoryUsedBytes: number;
  /** The container's limit, or the host's memory when it has none. */
  memoryLimitBytes: number;
  /** Restarts of the replica's slot in the last 24 h when sampled (core/replica-restarts.ts; Docker's own count is always 0). */
  restarts: number;
}

/** The host (a server) at one time. */
export interface HostSample {
  /** `local` for the host the control plane runs on (SSH servers later). */
  server: string;
  at: number;
  spanMs: number;
  /** 0–100 of all CPUs. Null for the first reading. */
  cpuPercent: number | null;
  cpus: number;
  /** MemTotal − MemAvailable. */
  memoryUsedBytes: number;
  memoryTotalBytes: number;
  /** Of the filesystem holding the data directory. */
  diskUsedBytes: number;
  diskTotalBytes: number;
  /** What an unprivileged writer may still use (`df`'s Avail). */
  diskAvailableBytes: number;
}

export const MINUTE_MS = 60_000;

export interface StatsRetention {
  /** Raw samples younger than this are kept as they are. */
  rawWindowMs: number;
  /** Anything older than this is deleted. */
  retentionMs: number;
}

export const DEFAULT_STATS_RETENTION: StatsRetention = { rawWindowMs: 15 * MINUTE_MS, retentionMs: 24 * 60 * MINUTE_MS };

/**
 * Where compaction cuts at `now`: raw samples before `rollupBefore` become per-minute
 * averages, everything before `deleteBefore` goes. `rollupBefore` is a minute boundary so
 * that a minute is never split between raw rows and its average.
 */
export function compactionCutoffs(now: number, r: StatsRetention = DEFAULT_STATS_RETENTION): { rollupBefore: number; deleteBefore: number } {
  return { rollupBefore: Math.floor((now - r.rawWindowMs) / MINUTE_MS) * MINUTE_MS, deleteBefore: now - r.retentionMs };
}

/** Used/(used+available), as `df` computes Use% (space reserved for root counts as neither). */
export function diskUsePercent(h: Pick<HostSample, 'diskUsedBytes' | 'diskAvailableBytes'>): number | null {
  const denominator = h.diskUsedBytes + h.diskAvailableBytes;
  return denominator > 0 ? round2((h.diskUsedBytes / denominator) * 100) : null;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
