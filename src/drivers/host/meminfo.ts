/** Host memory from /proc/meminfo (proc(5)). */
import { SlipwayError } from '../../core/errors';

/**
 * MemTotal and MemAvailable in bytes. MemAvailable is the kernel's estimate of what can be
 * allocated without swapping (free memory plus reclaimable cache); kernels before 3.14 lack
 * it, and free + buffers + cached is the usual stand-in there.
 */
export function parseMeminfo(text: string): { totalBytes: number; availableBytes: number } {
  const kb = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s+(\d+)(?:\s+kB)?$/.exec(line.trim());
    if (m) kb.set(m[1]!, Number(m[2]) * 1024);
  }
  const total = kb.get('MemTotal');
  if (total === undefined) throw new SlipwayError('SLW_INTERNAL', '/proc/meminfo has no MemTotal');
  const available = kb.get('MemAvailable') ?? (kb.get('MemFree') ?? 0) + (kb.get('Buffers') ?? 0) + (kb.get('Cached') ?? 0);
  return { totalBytes: total, availableBytes: Math.min(available, total) };
}
