/**
 * Readiness of a replica without a port (a worker): the image's Docker HEALTHCHECK
 * when it has one (ready once `healthy`), otherwise "still running, never restarted,
 * `min_ready` after it started". Fails as soon as the container exits or turns unhealthy.
 */
import { SlipwayError } from '../core/errors';
import type { Replica, Runtime } from '../core/ports/runtime';
import type { ReadinessResult } from './readiness';

const POLL_MS = 250;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitForWorkerReadiness(
  replica: Replica,
  opts: { minReadyMs: number; deadlineMs: number },
  deps: { runtime: Runtime },
): Promise<ReadinessResult & { by: 'healthcheck' | 'min_ready' }> {
  const started = Date.now();
  let checks = 0;
  let last: Replica | null = replica;
  while (Date.now() - started < opts.deadlineMs + opts.minReadyMs) {
    last = await deps.runtime.inspectReplica(replica.id);
    checks++;
    if (!last || last.state !== 'running') {
      throw new SlipwayError('SLW_HEALTH_FAILED', `worker ${replica.name} exited before becoming ready (exit code ${last?.exitCode ?? 'unknown'})`);
    }
    if (last.startedAt !== replica.startedAt) {
      throw new SlipwayError('SLW_HEALTH_FAILED', `worker ${replica.name} restarted before becoming ready`);
    }
    if (last.health === 'healthy') return { probes: checks, waitedMs: Date.now() - started, by: 'healthcheck' };
    if (last.health === 'unhealthy') throw new SlipwayError('SLW_HEALTH_FAILED', `worker ${replica.name}: its Docker HEALTHCHECK reports unhealthy`);
    if (last.health === 'none' && Date.now() - started >= opts.minReadyMs) return { probes: checks, waitedMs: Date.now() - started, by: 'min_ready' };
    await sleep(POLL_MS);
  }
  throw new SlipwayError(
    'SLW_HEALTH_FAILED',
    `worker ${replica.name} did not become healthy within ${Math.round(opts.deadlineMs / 1000)}s (HEALTHCHECK status: ${last?.health ?? 'unknown'})`,
  );
}
