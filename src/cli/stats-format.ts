/** How `slipway status` prints container and host stats. */
import type { HostStatsView, ReplicaStatsView } from '../core/contract/stats';

/** 1536 → "1.5 KiB"; binary units, as `docker stats` prints them. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

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
