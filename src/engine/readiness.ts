/**
 * Engine-side readiness: a running container is not ready until its health path
 * answers `successes` times in a row. Fails fast when the container exits.
 */
import type { HealthConfig } from '../core/config';
import { SlipwayError } from '../core/errors';
import type { HttpProbe } from '../core/ports/probe';
import type { Replica, Runtime } from '../core/ports/runtime';

export interface ReadinessResult {
  probes: number;
  waitedMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitForReadiness(
  replica: Replica,
  health: HealthConfig,
  deps: { probe: HttpProbe; runtime: Runtime; signal?: AbortSignal },
): Promise<ReadinessResult> {
  const started = Date.now();
  const url = `http://${replica.address}:${replica.port}${health.path}`;
  if (health.graceMs > 0) await sleep(health.graceMs);
  let consecutive = 0;
  let probes = 0;
  let last = 'no probe answered yet';
  while (Date.now() - started < health.deadlineMs) {
    if (deps.signal?.aborted) throw new SlipwayError('SLW_INTERRUPTED', 'readiness wait was cancelled');
    const result = await deps.probe(url, health.timeoutMs);
    probes++;
    if (result.ok) {
      consecutive++;
      if (consecutive >= health.successes) return { probes, waitedMs: Date.now() - started };
    } else {
      consecutive = 0;
      last = result.status !== null ? `HTTP ${result.status}` : (result.error ?? 'no answer');
      // A probe that cannot connect may mean the process died: check before waiting again.
      if (result.status === null) {
        const current = await deps.runtime.inspectReplica(replica.id);
        if (!current || current.state !== 'running') {
          throw new SlipwayError(
            'SLW_HEALTH_FAILED',
            `replica ${replica.name} stopped before becoming ready (exit code ${current?.exitCode ?? 'unknown'})`,
          );
        }
      }
    }
    await sleep(health.intervalMs);
  }
  throw new SlipwayError(
    'SLW_HEALTH_FAILED',
    `replica ${replica.name} did not pass readiness on ${health.path} within ${Math.round(health.deadlineMs / 1000)}s (last probe: ${last}; ${health.successes} consecutive successes needed)`,
  );
}
