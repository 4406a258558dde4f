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

/**
 * Until the app first accepts a connection, probes come this often (or at the interval if
 * shorter): a booting app is usually listening a few ms after it starts, and waiting a whole
 * interval for the next probe was most of a 1-replica deploy's readiness time.
 */
export const BOOT_POLL_MS = 25;

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
  let connected = false;
  let inspectedAt = 0;
  while (Date.now() - started < health.deadlineMs) {
    if (deps.signal?.aborted) throw new SlipwayError('SLW_INTERRUPTED', 'readiness wait was cancelled');
    const result = await deps.probe(url, health.timeoutMs);
    probes++;
    if (result.status !== null) connected = true;
    if (result.ok) {
      consecutive++;
      if (consecutive >= health.successes) return { probes, waitedMs: Date.now() - started };
    } else {
      consecutive = 0;
      last = result.status !== null ? `HTTP ${result.status}` : (result.error ?? 'no answer');
      // A probe that cannot connect may mean the process died: check (once per interval) before waiting again.
      if (result.status === null && Date.now() - inspectedAt >= health.intervalMs) {
        inspectedAt = Date.now();
        const current = await deps.runtime.inspectReplica(replica.id);
        if (!current || current.state !== 'running') {
          throw new SlipwayError(
            'SLW_HEALTH_FAILED',
            `replica ${replica.name} stopped before becoming ready (exit code ${current?.exitCode ?? 'unknown'})`,
          );
        }
      }
    }
    await sleep(connected ? health.intervalMs : Math.min(health.intervalMs, BOOT_POLL_MS));
  }
  throw new SlipwayError(
    'SLW_HEALTH_FAILED',
    `replica ${replica.name} did not pass readiness on ${health.path} within ${Math.round(health.deadlineMs / 1000)}s (last probe: ${last}; ${health.successes} consecutive successes needed)`,
  );
}
