/**
 * Engine-side readiness: a running container is not ready until its health check passes
 * `successes` times in a row. The check is the service's `health.kind`: an HTTP GET on
 * `health.path` (2xx/3xx; the default), a TCP connect to its port, or `health.command` run
 * inside the container (exit 0). Fails fast when the container exits.
 */
import type { HealthConfig } from '../core/config';
import { errorMessage, SlipwayError } from '../core/errors';
import type { HttpProbe, TcpProbe } from '../core/ports/probe';
import type { Replica, Runtime } from '../core/ports/runtime';

export interface ReadinessResult {
  probes: number;
  waitedMs: number;
}

export interface ReadinessDeps {
  probe: HttpProbe;
  runtime: Runtime;
  /** Required for `health.kind: tcp`. */
  tcpProbe?: TcpProbe;
  signal?: AbortSignal;
}

/** Ends early, throwing the signal's reason (a lost lease), when the signal aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (!signal) return new Promise((r) => setTimeout(r, ms));
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const done = () => {
      signal.removeEventListener('abort', stop);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', stop, { once: true });
  });
}

/**
 * Until the app first accepts a connection, probes come this often (or at the interval if
 * shorter): a booting app is usually listening a few ms after it starts, and waiting a whole
 * interval for the next probe was most of a 1-replica deploy's readiness time.
 */
export const BOOT_POLL_MS = 25;

/** One check's outcome: `answered` when the app was reached (an HTTP status, an open connection, a command that ran). */
interface CheckOutcome {
  ok: boolean;
  answered: boolean;
  /** What failed, for the error message: "HTTP 503", "ECONNREFUSED", "exit code 1". */
  detail: string;
}

/** The check a health config describes, for logs and errors: "/health", "tcp connect to port 3000", "exec [\"pg_isready\"]". */
export function describeCheck(health: Pick<HealthConfig, 'kind' | 'path' | 'command'>, port: number): string {
  if (health.kind === 'tcp') return `tcp connect to port ${port}`;
  if (health.kind === 'exec') return `exec ${JSON.stringify(health.command ?? [])}`;
  return health.path;
}

function checkOnce(replica: Replica, health: HealthConfig, deps: ReadinessDeps): Promise<CheckOutcome> {
  if (health.kind === 'tcp') {
    if (!deps.tcpProbe) throw new SlipwayError('SLW_INTERNAL', 'tcp readiness needs the TCP probe (EngineContext.tcpProbe)');
    return deps.tcpProbe(replica.address!, replica.port, health.timeoutMs).then((r) => ({ ok: r.ok, answered: r.ok, detail: r.error ?? 'no answer' }));
  }
  if (health.kind === 'exec') {
    const argv = health.command ?? [];
    if (argv.length === 0) throw new SlipwayError('SLW_CONFIG_INVALID', 'health.command: required for health.kind exec', [{ path: 'health.command', message: 'required for kind exec' }]);
    // The command's output is not relayed: a check may print anything, secrets included.
    return deps.runtime.exec(replica.id, argv, { timeoutMs: health.timeoutMs }).then(
      (r) => ({ ok: r.exitCode === 0 && !r.timedOut, answered: r.exitCode !== null, detail: r.timedOut ? `timed out after ${health.timeoutMs} ms` : `exit code ${r.exitCode ?? 'unknown'}` }),
      (err: unknown) => ({ ok: false, answered: false, detail: `could not run: ${errorMessage(err)}` }),
    );
  }
  const url = `http://${replica.address}:${replica.port}${health.path}`;
  return deps.probe(url, health.timeoutMs).then((r) => ({ ok: r.ok, answered: r.status !== null, detail: r.status !== null ? `HTTP ${r.status}` : (r.error ?? 'no answer') }));
}

/**
 * One check of the service's kind, no retries (re-admitting a replica to the edge, a switch
 * back to a warm set): ok, or what failed.
 */
export async function checkReadyOnce(replica: Replica, health: HealthConfig, deps: ReadinessDeps, timeoutMs = health.timeoutMs): Promise<{ ok: boolean; detail: string }> {
  const r = await checkOnce(replica, { ...health, timeoutMs }, deps).catch((err: unknown) => ({ ok: false, answered: false, detail: errorMessage(err) }));
  return { ok: r.ok, detail: r.detail };
}

export async function waitForReadiness(
  replica: Replica,
  health: HealthConfig,
  deps: ReadinessDeps,
): Promise<ReadinessResult> {
  const started = Date.now();
  if (health.graceMs > 0) await sleep(health.graceMs, deps.signal);
  let consecutive = 0;
  let probes = 0;
  let last = 'no probe answered yet';
  let connected = false;
  let inspectedAt = 0;
  while (Date.now() - started < health.deadlineMs) {
    deps.signal?.throwIfAborted();
    const result = await checkOnce(replica, health, deps);
    probes++;
    if (result.answered) connected = true;
    if (result.ok) {
      consecutive++;
      if (consecutive >= health.successes) return { probes, waitedMs: Date.now() - started };
    } else {
      consecutive = 0;
      last = result.detail;
      // A probe that cannot connect may mean the process died: check (once per interval) before waiting again.
      if (!result.answered && Date.now() - inspectedAt >= health.intervalMs) {
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
    // An exec costs a process in the container: never faster than the interval.
    await sleep(connected || health.kind === 'exec' ? health.intervalMs : Math.min(health.intervalMs, BOOT_POLL_MS), deps.signal);
  }
  throw new SlipwayError(
    'SLW_HEALTH_FAILED',
    `replica ${replica.name} did not pass readiness ${health.kind === 'http' ? `on ${health.path}` : `(${describeCheck(health, replica.port)})`} within ${Math.round(health.deadlineMs / 1000)}s (last probe: ${last}; ${health.successes} consecutive successes needed)`,
  );
}
