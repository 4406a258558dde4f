/** Host CPU time from /proc/stat (proc(5)). */
import { SlipwayError } from '../../core/errors';
import type { HostCpuCounters } from '../../core/resource-stats';

/**
 * The aggregate `cpu` line as busy/total ticks, and the number of `cpuN` lines.
 * Total is user+nice+system+idle+iowait+irq+softirq+steal: guest time is already counted in
 * user/nice, so adding it would count it twice. Idle time is idle+iowait (a CPU waiting for
 * a disk is free to run something else).
 */
export function parseProcStat(text: string): { cpu: HostCpuCounters; cpus: number } {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new SlipwayError('SLW_INTERNAL', '/proc/stat has no aggregate "cpu" line');
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (fields.length < 4 || fields.some((n) => !Number.isFinite(n) || n < 0)) {
    throw new SlipwayError('SLW_INTERNAL', `/proc/stat: cannot read the cpu line "${line}"`);
  }
  const [, , , idle = 0, iowait = 0] = fields;
  const total = fields.reduce((a, b) => a + b, 0);
  const cpus = text.split('\n').filter((l) => /^cpu\d+\s/.test(l)).length;
  return { cpu: { busy: total - idle - iowait, total }, cpus: Math.max(1, cpus) };
}
