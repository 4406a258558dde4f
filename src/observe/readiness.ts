/**
 * Readiness of the control plane: every dependency check runs at once, each bounded by a
 * short timeout, so `/readyz` answers within about that timeout even when Docker hangs
 * (a hung engine accepts the connection and never answers; its own client timeouts are
 * far longer than a load balancer waits).
 */
import { errorMessage } from '../core/errors';
import type { ReadinessReport } from '../core/contract/readiness';

/** Resolves when the dependency answers, rejects (with a reason) when it does not. */
export type ReadinessCheck = (signal: AbortSignal) => Promise<unknown>;

export interface ReadinessOptions {
  version: string;
  /** Per check; a check still running then counts as failed. */
  timeoutMs: number;
  /** Checks whose failure makes the control plane `unhealthy` rather than `degraded`. */
  critical?: readonly string[];
  /** A check whose failure means `starting` (boot recovery not finished) rather than `degraded`. */
  startup?: string;
}

export async function checkReadiness(checks: Record<string, ReadinessCheck>, opts: ReadinessOptions): Promise<ReadinessReport> {
  const results = await Promise.all(Object.entries(checks).map(async ([name, check]) => [name, await runCheck(check, opts.timeoutMs)] as const));
  const failed = results.filter(([, r]) => r.status === 'fail').map(([name]) => name);
  const status =
    failed.length === 0 ? 'healthy'
    : failed.some((n) => opts.critical?.includes(n)) ? 'unhealthy'
    : opts.startup !== undefined && failed.includes(opts.startup) ? 'starting'
    : 'degraded';
  return { status, version: opts.version, checks: Object.fromEntries(results) };
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<ReadinessReport['checks'][string]> {
  const started = performance.now();
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort.abort();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    await Promise.race([check(abort.signal), timeout]);
    return { status: 'pass', latency_ms: elapsed(started) };
  } catch (err) {
    return { status: 'fail', latency_ms: elapsed(started), output: errorMessage(err) };
  } finally {
    clearTimeout(timer);
  }
}

const elapsed = (since: number) => Math.round(performance.now() - since);
