/**
 * Post-deploy smoke checks, pure (docs/configuration.md, "Smoke checks"): which deployments run
 * them, when each round of requests goes out, the verdict on one answer and on the new
 * release's live figures over the window, and the log lines that say so. The engine runs them
 * (engine/smoke-check.ts) once traffic moved, for every strategy; recovery reads the persisted
 * step (isSmokeStep) to tell a window that passed from one a crash cut.
 */
import type { WindowFigures } from './canary-analysis';
import type { ServiceConfig, SmokeConfig, SmokeRequestConfig } from './config';
import type { DeploymentKind } from './domain';
import { formatDuration } from './duration';

/** The answer to one smoke request (the EdgeClient port's, core/ports/edge-client.ts). */
export interface SmokeAnswer {
  /** Null: no HTTP answer (refused, reset, timed out). */
  status: number | null;
  /** The start of the body (the port reads at most 64 KiB). */
  body: string;
  durationMs: number;
  /** Why there was no answer; null when there was one. */
  error: string | null;
}

/** What made a smoke check fail, as recorded in the log and in the `deployment.rolled_back` / `deployment.failed` event. */
export type SmokeFailure =
  | {
      kind: 'request';
      path: string;
      /** What was expected: `200`, `2xx`, plus the body text when set. */
      expected: string;
      status: number | null;
      error: string | null;
      reason: string;
      /** The round (1-based) and how long after the window started. */
      round: number;
      afterMs: number;
    }
  | { kind: 'traffic'; reasons: string[]; figures: WindowFigures; afterMs: number };

/**
 * Deployments that bring a release live run the smoke checks configured in it: a deploy (a
 * redeploy is one), a promotion, a rollout of new secrets. Not a rollback (how one gets out of
 * trouble: never held back, as with canary steps), a scale or a restart (the live release
 * again, nothing new to check), a stop or a start, nor a repair. Only web services with a domain have them
 * (the config refuses the rest), and never a release that runs no replica (a redeploy or a
 * secrets rollout of a stopped service: its domains answer the stopped page).
 */
export function smokeApplies(kind: DeploymentKind, config: ServiceConfig): boolean {
  if (!config.deploy.smoke || config.port === null || config.schedule || config.domains.length === 0 || config.replicas === 0) return false;
  return kind === 'deploy' || kind === 'promote' || kind === 'secrets';
}

const STEP_PREFIX = 'smoke checks';

/** The persisted step's name: `smoke checks: 2 request(s) through the edge for 60s`. */
export function smokeStepName(cfg: SmokeConfig): string {
  return `${STEP_PREFIX}: ${cfg.requests.length} request(s) through the ${cfg.through} for ${formatDuration(cfg.windowMs)}`;
}

export function isSmokeStep(name: string): boolean {
  return name === STEP_PREFIX || name.startsWith(`${STEP_PREFIX}:`);
}

/**
 * When each round of requests goes out, in ms from the start of the window: at once, then every
 * interval while the window lasts (window 0s: one round).
 */
export function smokeRounds(cfg: Pick<SmokeConfig, 'windowMs' | 'intervalMs'>): number[] {
  const out = [0];
  for (let at = cfg.intervalMs; at < cfg.windowMs; at += cfg.intervalMs) out.push(at);
  return out;
}

/** `200`, `2xx`, with the body text when one is expected. */
export function expectedOf(req: SmokeRequestConfig): string {
  const status = req.expectStatus !== null ? String(req.expectStatus) : '2xx';
  return req.expectBody !== null ? `${status} with "${clip(req.expectBody)}" in the body` : status;
}

/** Why an answer fails its request; null when it passes. */
export function smokeAnswerProblem(req: SmokeRequestConfig, answer: SmokeAnswer): string | null {
  if (answer.status === null) return `no answer (${answer.error ?? 'no response'}), expected ${expectedOf(req)}`;
  const statusOk = req.expectStatus !== null ? answer.status === req.expectStatus : answer.status >= 200 && answer.status <= 299;
  if (!statusOk) return `answered ${answer.status}, expected ${req.expectStatus ?? '2xx'}`;
  if (req.expectBody !== null && !answer.body.includes(req.expectBody)) return `answered ${answer.status} without "${clip(req.expectBody)}" in its body`;
  return null;
}

/** `smoke: GET /api/health → 200 (12 ms)`, with the problem when it failed. */
export function describeSmokeAnswer(req: SmokeRequestConfig, answer: SmokeAnswer, problem: string | null): string {
  const got = answer.status !== null ? String(answer.status) : (answer.error ?? 'no answer');
  return `smoke: GET ${req.path} → ${got} (${Math.round(answer.durationMs)} ms)${problem ? `: FAIL, ${problem}` : ''}`;
}

export interface SmokeTrafficJudgement {
  verdict: 'pass' | 'fail' | 'inconclusive';
  reasons: string[];
}

const pct = (r: number) => `${(r * 100).toFixed(1)} %`;

/**
 * The new release's live figures since the window started (every request the edge sent it,
 * clients' and the smoke requests alike): its 5xx share and p99 against the limits, judged only
 * from `min_requests`.
 */
export function judgeSmokeTraffic(f: WindowFigures, cfg: Pick<SmokeConfig, 'minRequests' | 'maxErrorRate' | 'maxP99Ms'>): SmokeTrafficJudgement {
  if (f.requests < cfg.minRequests) return { verdict: 'inconclusive', reasons: [`${f.requests} live request(s), fewer than min_requests ${cfg.minRequests}`] };
  const reasons: string[] = [];
  const rate = f.errorRate ?? 0;
  if (rate > cfg.maxErrorRate) reasons.push(`error rate ${pct(rate)} > max_error_rate ${pct(cfg.maxErrorRate)} (${f.errors}/${f.requests})`);
  if (cfg.maxP99Ms !== null && f.p99Ms !== null && f.p99Ms > cfg.maxP99Ms) reasons.push(`p99 ${f.p99Ms} ms > max_p99 ${cfg.maxP99Ms} ms`);
  return reasons.length > 0 ? { verdict: 'fail', reasons } : { verdict: 'pass', reasons: [] };
}

/** `smoke window 60 s: 1,234 requests, 0.0 % errors, p99 23 ms` (`cut` when it ended early). */
export function describeSmokeWindow(ms: number, f: WindowFigures, opts: { release?: number; cut?: boolean } = {}): string {
  const s = ms / 1000;
  const span = `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
  const to = opts.release !== undefined ? ` to v${opts.release}` : '';
  return `smoke window ${span}${opts.cut ? ' (cut short)' : ''}: ${f.requests.toLocaleString('en-US')} request(s)${to}, ${f.errors.toLocaleString('en-US')} 5xx (${pct(f.errorRate ?? 0)} errors), p99 ${f.p99Ms ?? '–'} ms`;
}

/** The deployment's error: which check failed and when. */
export function smokeFailureMessage(f: SmokeFailure, release: number): string {
  const when = `${(f.afterMs / 1000).toFixed(1)} s after traffic moved`;
  if (f.kind === 'request') return `smoke check failed: GET ${f.path} ${f.reason} (round ${f.round}, ${when})`;
  return `smoke check failed: the live traffic of v${release}: ${f.reasons.join('; ')} (${when})`;
}

/**
 * Blue-green: how long the set the flip left keeps running at least, so a failing smoke check
 * can switch back to it (keep_warm 0s would retire it at once): the window, every request of a
 * round timing out, and a minute's margin. 0 when a failure does not roll back.
 */
export function smokeHoldMs(cfg: SmokeConfig | null): number {
  if (!cfg || !cfg.rollback) return 0;
  return cfg.windowMs + cfg.requests.length * cfg.timeoutMs + 60_000;
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}
