/**
 * Readiness of an accessory: its health check (exec inside the container, a TCP connect or
 * an HTTP GET on its address) passing once, polled at the interval until the deadline. A
 * container that stops meanwhile fails at once. No health: ready once it has run for 1 s.
 */
import { accessoryCheckEnv, ACCESSORY_KINDS, isBuiltInKind, type AccessoryCredentials } from '../core/accessory-kinds';
import type { AccessoryConfig, AccessoryHealth } from '../core/config';
import { SlipwayError } from '../core/errors';
import type { HttpProbe, TcpProbe } from '../core/ports/probe';
import type { AccessoryContainer, Runtime } from '../core/ports/runtime';

export interface AccessoryReadinessDeps {
  runtime: Runtime;
  probe: HttpProbe;
  tcpProbe?: TcpProbe;
  /** Masks credential values in what a failed check printed. */
  mask?: (text: string) => string;
  sleep?: (ms: number) => Promise<void>;
}

/** How long an accessory without a health check must stay running to count as ready. */
export const NO_HEALTH_RUNNING_MS = 1000;

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface CheckResult {
  ok: boolean;
  /** Why not, for the log (masked). */
  detail: string;
}

const portOf = (cfg: AccessoryConfig, h: AccessoryHealth): number | null => h.port ?? cfg.port ?? (isBuiltInKind(cfg.kind) ? ACCESSORY_KINDS[cfg.kind].port : null);

/** One run of the accessory's health check (the view's `ready`, and each poll below). */
export async function checkAccessoryOnce(c: AccessoryContainer, cfg: AccessoryConfig, creds: AccessoryCredentials, deps: AccessoryReadinessDeps): Promise<CheckResult> {
  const h = cfg.health;
  const mask = deps.mask ?? ((t: string) => t);
  if (!h) return { ok: c.state === 'running', detail: c.state };
  if (h.kind === 'exec') {
    const r = await deps.runtime.exec(c.id, h.command ?? [], { env: accessoryCheckEnv(cfg, creds), timeoutMs: h.timeoutMs });
    if (r.exitCode === 0) return { ok: true, detail: 'exit 0' };
    const lastLine = r.output.trim().split('\n').pop() ?? '';
    return { ok: false, detail: r.timedOut ? `${h.command?.[0] ?? 'check'} timed out` : `${h.command?.[0] ?? 'check'} exited ${r.exitCode ?? '?'}${lastLine ? `: ${mask(lastLine).slice(0, 200)}` : ''}` };
  }
  const port = portOf(cfg, h);
  if (!c.address || port === null) return { ok: false, detail: 'no address on the project network yet' };
  if (h.kind === 'tcp') {
    if (!deps.tcpProbe) throw new SlipwayError('SLW_INTERNAL', 'no TCP probe was wired into the engine');
    const r = await deps.tcpProbe(c.address, port, h.timeoutMs);
    return { ok: r.ok, detail: r.ok ? 'connected' : `tcp ${port}: ${r.error ?? 'no connection'}` };
  }
  const r = await deps.probe(`http://${c.address}:${port}${h.path ?? '/'}`, h.timeoutMs);
  return { ok: r.ok, detail: r.ok ? `HTTP ${r.status}` : r.status !== null ? `HTTP ${r.status} on ${h.path}` : `${h.path}: ${r.error ?? 'no answer'}` };
}

/** Polls until ready; SLW_HEALTH_FAILED naming the accessory when it stops or the deadline passes. */
export async function waitForAccessoryReady(c: AccessoryContainer, cfg: AccessoryConfig, creds: AccessoryCredentials, deps: AccessoryReadinessDeps): Promise<{ checks: number; waitedMs: number }> {
  const sleep = deps.sleep ?? defaultSleep;
  const started = Date.now();
  const stillRunning = async () => {
    const now = (await deps.runtime.listAccessories({ project: c.labels.project, env: c.labels.env, accessory: c.labels.accessory })).find((x) => x.id === c.id);
    if (!now || now.state !== 'running') {
      const why = now ? `exit code ${now.exitCode ?? 'unknown'}${now.oomKilled ? ', killed by the OOM killer (raise resources.memory)' : ''}` : 'its container is gone';
      throw new SlipwayError('SLW_HEALTH_FAILED', `accessory ${cfg.name} stopped before becoming ready (${why})`, [{ path: `accessories.${cfg.name}`, message: 'stopped before becoming ready' }]);
    }
    return now;
  };
  if (!cfg.health) {
    await sleep(NO_HEALTH_RUNNING_MS);
    await stillRunning();
    return { checks: 1, waitedMs: Date.now() - started };
  }
  let checks = 0;
  let last = 'no check ran yet';
  let current = c;
  do {
    const r = await checkAccessoryOnce(current, cfg, creds, deps);
    checks++;
    if (r.ok) return { checks, waitedMs: Date.now() - started };
    last = r.detail;
    current = await stillRunning();
    await sleep(cfg.health.intervalMs);
  } while (Date.now() - started < cfg.health.deadlineMs);
  throw new SlipwayError(
    'SLW_HEALTH_FAILED',
    `accessory ${cfg.name} did not become ready within ${Math.round(cfg.health.deadlineMs / 1000)}s (${cfg.health.kind} check; last: ${last})`,
    [{ path: `accessories.${cfg.name}.health`, message: `not ready within ${Math.round(cfg.health.deadlineMs / 1000)}s` }],
  );
}
