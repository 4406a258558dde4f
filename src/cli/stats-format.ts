/** How `slipway status` prints container and host stats. */
import type { HostStatsView, ReplicaStatsView } from '../core/contract/stats';

import { formatBytes } from '../core/format-bytes';

export { formatBytes };

export function formatCpu(pct: number | null): string {
  return pct === null ? '-' : `${pct.toFixed(1)}%`;
}

/** "64 MiB / 512 MiB", or "-" before the first sample. */
export function formatMemory(s: ReplicaStatsView | null): string {
  return s ? `${formatBytes(s.memoryUsedBytes)} / ${formatBytes(s.memoryLimitBytes)}` : '-';
}

export function hostLine(h: HostStatsView | null): string {
  if (!h) return 'host: no sample yet';
  const disk = h.diskUsePercent === null ? '' : ` (${h.diskUsePercent.toFixed(0)}%)`;
  return `host ${h.server}: cpu ${formatCpu(h.cpuPercent)} of ${h.cpus} CPUs, memory ${formatBytes(h.memoryUsedBytes)} / ${formatBytes(h.memoryTotalBytes)}, disk ${formatBytes(h.diskUsedBytes)} / ${formatBytes(h.diskTotalBytes)}${disk}`;
}
