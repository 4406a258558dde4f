/**
 * Readiness of a replica without a port (a worker): the image's Docker HEALTHCHECK
 * when it has one (ready once `healthy`), otherwise "still running, never restarted,
 * `min_ready` after it started". Fails as soon as the container exits or turns unhealthy.
 * A worker with `health.kind: exec` is ready once its command passes instead (same
 * successes/interval/deadline as a web service's readiness); `tcp` needs a port, which a
 * worker has not.
 */
import type { HealthConfig } from '../core/config';
import { SlipwayError } from '../core/errors';
import type { Replica, Runtime } from '../core/ports/runtime';
import { waitForReadiness, type ReadinessDeps, type ReadinessResult } from './readiness';

const POLL_MS = 250;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitForWorkerReadiness(
  replica: Replica,
  opts: { minReadyMs: number; deadlineMs: number; health?: HealthConfig },
  deps: { runtime: Runtime } & Partial<ReadinessDeps>,
): Promise<ReadinessResult & { by: 'healthcheck' | 'min_ready' | 'exec' }> {
  if (opts.health?.kind === 'exec') {
    const ready = await waitForReadiness(replica, { ...opts.health, deadlineMs: opts.deadlineMs }, { ...deps, probe: deps.probe ?? refuseHttp });
    return { ...ready, by: 'exec' };
  }
  if (opts.health?.kind === 'tcp') {
    throw new SlipwayError('SLW_CONFIG_INVALID', `worker ${replica.name}: health.kind tcp needs a port, and a worker has none (use kind exec)`, [{ path: 'health.kind', message: 'tcp needs a port; a worker has none' }]);
  }
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

const refuseHttp: ReadinessDeps['probe'] = () => Promise.reject(new Error('a worker has no port to probe over HTTP'));
