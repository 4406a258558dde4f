/**
 * One reading of a container's CPU and memory from `GET /containers/:id/stats`.
 *
 * `one-shot=true` (API 1.41+): the engine answers at its next collection tick (≤ 1 s)
 * instead of waiting two ticks to fill `precpu_stats` as `stream=false` alone does. The
 * sampler compares our own consecutive readings instead, which also covers its whole
 * interval rather than Docker's last second. Older engines ignore the flag and answer
 * after two ticks; the reading is the same.
 */
import type Docker from 'dockerode';
import { z } from 'zod';
import { SlipwayError } from '../../core/errors';
import type { ReplicaStats } from '../../core/ports/runtime';
import { dockerMessage, statusOf } from './docker-errors';

const count = z.number().nonnegative();

/** The fields we read; Docker sends many more (and fewer for a stopped container). */
const dockerStats = z.object({
  cpu_stats: z.object({
    cpu_usage: z.object({ total_usage: count, percpu_usage: z.array(count).optional() }),
    system_cpu_usage: count.optional(),
    online_cpus: count.optional(),
  }),
  memory_stats: z.object({
    usage: count.optional(),
    limit: count.optional(),
    stats: z.record(z.string(), z.number()).optional(),
  }),
});

/**
 * A reading from the stats JSON, or null when the container is not running (Docker then
 * sends empty memory stats and no system CPU time).
 *
 * Memory is what `docker stats` shows: usage minus the inactive page cache
 * (`total_inactive_file` on cgroup v1, `inactive_file` on cgroup v2), which the kernel
 * reclaims before it would kill anything; raw usage counts every file the app ever read.
 */
export function parseContainerStats(raw: unknown, at: number): ReplicaStats | null {
  const parsed = dockerStats.safeParse(raw);
  if (!parsed.success) throw new SlipwayError('SLW_RUNTIME', `docker: unexpected stats answer: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`);
  const { cpu_stats: cpu, memory_stats: mem } = parsed.data;
  if (cpu.system_cpu_usage === undefined || mem.usage === undefined || mem.limit === undefined) return null;
  // Engines before API 1.27 send no online_cpus; docker stats then counts the per-CPU usages.
  const onlineCpus = cpu.online_cpus || (cpu.cpu_usage.percpu_usage?.length ?? 0);
  return {
    at,
    cpu: { usageNs: cpu.cpu_usage.total_usage, systemNs: cpu.system_cpu_usage, onlineCpus },
    memoryUsedBytes: memoryWithoutCache(mem.usage, mem.stats ?? {}),
    memoryLimitBytes: mem.limit,
  };
}

function memoryWithoutCache(usage: number, stats: Record<string, number>): number {
  const v1 = stats.total_inactive_file;
  if (v1 !== undefined && v1 < usage) return usage - v1;
  const v2 = stats.inactive_file;
  if (v2 !== undefined && v2 < usage) return usage - v2;
  return usage;
}

export async function readContainerStats(docker: Docker, id: string, timeoutMs: number): Promise<ReplicaStats | null> {
  const signal = AbortSignal.timeout(timeoutMs);
  let raw: unknown;
  try {
    // dockerode passes unknown options through as query parameters and forwards abortSignal.
    const container = docker.getContainer(id);
    const stats = container.stats as unknown as (opts: Record<string, unknown>) => Promise<unknown>;
    raw = await stats.call(container, { stream: false, 'one-shot': true, abortSignal: signal });
  } catch (err) {
    if (statusOf(err) === 404) return null;
    const reason = signal.aborted ? `no answer within ${timeoutMs} ms` : dockerMessage(err);
    throw new SlipwayError('SLW_RUNTIME', `docker: stats of container ${id.slice(0, 12)}: ${reason}`);
  }
  return parseContainerStats(raw, Date.now());
}
