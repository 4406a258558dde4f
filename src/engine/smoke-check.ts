/**
 * Runs a release's post-deploy smoke checks once traffic moved to it (deploy-engine.ts calls it
 * after the roll-out, whatever the strategy): one persisted step during which each round of the
 * configured requests goes through the edge (EdgeClient port, the service's first domain as
 * Host) and, after each round and at the end of the window, the release's live figures since
 * the window started (ReleaseTraffic, as the canary analysis reads them) are judged. The first
 * wrong answer or failing figures end the window at once with SmokeFailed, which the engine
 * turns into a rollback (or, with `rollback: false`, a failed deployment that leaves the release
 * live). The verdicts are pure: core/smoke-checks.ts.
 */
import type { WindowFigures } from '../core/canary-analysis';
import type { Release, ServiceRef } from '../core/domain';
import { formatDuration } from '../core/duration';
import { SlipwayError } from '../core/errors';
import {
  describeSmokeAnswer, describeSmokeWindow, expectedOf, judgeSmokeTraffic, smokeAnswerProblem, smokeFailureMessage, smokeRounds, smokeStepName, type SmokeFailure,
} from '../core/smoke-checks';
import type { DeploymentRecorder } from './deployment-recorder';
import type { EngineContext } from './engine-context';

/** A progress line at most this often (the first round's answers and every failure are always logged). */
const PROGRESS_EVERY_MS = 10_000;

/** A smoke check failed: the engine rolls back (or fails the deployment) with this. */
export class SmokeFailed extends SlipwayError {
  constructor(
    message: string,
    readonly failure: SmokeFailure,
    /** The release that failed it. */
    readonly release: Release,
    /** The release's live figures from the start of the window to the failure; null without request metrics. */
    readonly figures: WindowFigures | null,
    /** When the window started (epoch ms): the engine counts the release's requests from there to the end of its rollback. */
    readonly startedAt: number,
  ) {
    super('SLW_SMOKE_FAILED', message);
  }
}

export interface SmokeOutcome {
  rounds: number;
  requests: number;
  figures: WindowFigures | null;
}

export async function runSmokeChecks(ctx: EngineContext, ref: ServiceRef, release: Release, rec: DeploymentRecorder): Promise<SmokeOutcome> {
  const cfg = release.config.deploy.smoke!;
  const host = release.config.domains[0]!;
  return rec.step(smokeStepName(cfg), async () => {
    const client = ctx.edgeClient;
    if (!client) {
      await rec.log('smoke: this control plane cannot send requests through its edge; the checks are skipped', 'warn');
      return { rounds: 0, requests: 0, figures: null };
    }
    const startedAt = Date.now();
    const rounds = smokeRounds(cfg);
    const limits = [`max_error_rate ${(cfg.maxErrorRate * 100).toFixed(1)} %`, ...(cfg.maxP99Ms !== null ? [`max_p99 ${cfg.maxP99Ms} ms`] : [])].join(', ');
    await rec.log(
      `smoke: ${cfg.requests.map((r) => `GET ${r.path} (expect ${expectedOf(r)})`).join(', ')} through the edge as ${host}, ${rounds.length} round(s) every ${formatDuration(cfg.intervalMs)} over ${formatDuration(cfg.windowMs)}; ` +
        (ctx.traffic ? `live traffic of v${release.number} judged from ${cfg.minRequests} request(s) (${limits}); ` : 'request metrics are off on this server, so only the requests are checked; ') +
        (cfg.rollback ? 'a failure rolls back' : 'a failure fails the deployment and leaves the release live (rollback: false)'),
    );
    const figuresNow = () => ctx.traffic?.window(ref, release.number, startedAt, Date.now()) ?? null;
    const fail = async (failure: SmokeFailure, figures: WindowFigures | null): Promise<never> => {
      if (figures && figures.requests > 0) await rec.log(describeSmokeWindow(Date.now() - startedAt, figures, { release: release.number, cut: true }), 'error');
      throw new SmokeFailed(smokeFailureMessage(failure, release.number), failure, release, figures, startedAt);
    };
    let sent = 0;
    let lastProgress = startedAt;
    for (const [i, at] of rounds.entries()) {
      await sleepUntil(startedAt + at, ctx.signal);
      for (const req of cfg.requests) {
        const answer = await client.get({ host, path: req.path, timeoutMs: cfg.timeoutMs });
        ctx.signal?.throwIfAborted();
        sent++;
        const problem = smokeAnswerProblem(req, answer);
        if (i === 0 || problem) await rec.log(describeSmokeAnswer(req, answer, problem), problem ? 'error' : 'info');
        if (problem) {
          await fail({ kind: 'request', path: req.path, expected: expectedOf(req), status: answer.status, error: answer.error, reason: problem, round: i + 1, afterMs: Date.now() - startedAt }, figuresNow());
        }
      }
      const figures = figuresNow();
      const verdict = figures ? judgeSmokeTraffic(figures, cfg) : null;
      if (figures && verdict?.verdict === 'fail') await fail({ kind: 'traffic', reasons: verdict.reasons, figures, afterMs: Date.now() - startedAt }, figures);
      if (Date.now() - lastProgress >= PROGRESS_EVERY_MS && i < rounds.length - 1) {
        lastProgress = Date.now();
        await rec.log(`smoke: ${i + 1}/${rounds.length} round(s), ${sent} request(s) answered as expected${figures ? `; ${describeSmokeWindow(Date.now() - startedAt, figures, { release: release.number })}` : ''}`);
      }
    }
    await sleepUntil(startedAt + cfg.windowMs, ctx.signal);
    const figures = figuresNow();
    if (figures) {
      const verdict = judgeSmokeTraffic(figures, cfg);
      if (verdict.verdict === 'fail') await fail({ kind: 'traffic', reasons: verdict.reasons, figures, afterMs: Date.now() - startedAt }, figures);
      await rec.log(`${describeSmokeWindow(Date.now() - startedAt, figures, { release: release.number })}${verdict.verdict === 'inconclusive' ? ` — not judged: ${verdict.reasons.join('; ')}` : ' — pass'}`, verdict.verdict === 'inconclusive' ? 'warn' : 'info');
    }
    return { rounds: rounds.length, requests: sent, figures };
  }, (o) => (o.rounds === 0 ? 'skipped' : `${o.requests} request(s) in ${o.rounds} round(s) answered as expected${o.figures ? `; live: ${o.figures.requests} request(s), ${o.figures.errors} 5xx, p99 ${o.figures.p99Ms ?? '–'} ms` : ''}`));
}

/** Waits until `at` (epoch ms); a lost lease ends the wait at once with its reason. */
function sleepUntil(at: number, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  const ms = at - Date.now();
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const stop = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve();
    }, ms);
    signal?.addEventListener('abort', stop, { once: true });
  });
}
