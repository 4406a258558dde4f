/**
 * The canary verdict of one analysis window, pure: the canary release's 5xx share and p99
 * against absolute thresholds and against the stable release over the same window.
 */
import type { CanaryAnalysisConfig } from './config';

/** What one release answered during a window (from the edge's request lines). */
export interface WindowFigures {
  requests: number;
  /** Answers with a 5xx status. */
  errors: number;
  /** errors / requests; null without requests. */
  errorRate: number | null;
  /** p99 of the edge's total request time, ms (histogram bucket upper bound); null without requests. */
  p99Ms: number | null;
}

export type WindowVerdict = 'pass' | 'fail' | 'inconclusive';

export interface WindowJudgement {
  verdict: WindowVerdict;
  /** Why it failed (each broken threshold with the figures), or why it was not judged. */
  reasons: string[];
}

/**
 * Default of `p99_tolerance`: p99 differences below it are never judged against the ratio. At a
 * few milliseconds the histogram buckets (≈ 25 % wide) and scheduling noise alone make ratios of
 * 2 or more, and with under 100 requests in a window the p99 is the slowest request (one GC pause
 * in a freshly started canary).
 */
export const DEFAULT_P99_TOLERANCE_MS = 50;

const pct = (r: number) => `${(r * 100).toFixed(1)} %`;

export function judgeWindow(canary: WindowFigures, stable: WindowFigures, cfg: CanaryAnalysisConfig): WindowJudgement {
  if (canary.requests < cfg.minRequests) {
    return { verdict: 'inconclusive', reasons: [`${canary.requests} canary request(s), fewer than min_requests ${cfg.minRequests}`] };
  }
  const reasons: string[] = [];
  const canaryRate = canary.errorRate ?? 0;
  if (canaryRate > cfg.maxErrorRate) reasons.push(`error rate ${pct(canaryRate)} > max_error_rate ${pct(cfg.maxErrorRate)} (${canary.errors}/${canary.requests})`);
  // The stable side is only a reference when it had enough requests itself.
  const stableJudged = stable.requests >= cfg.minRequests;
  if (stableJudged && canaryRate - (stable.errorRate ?? 0) > cfg.maxErrorRateIncrease) {
    reasons.push(`error rate ${pct(canaryRate)} exceeds the stable ${pct(stable.errorRate ?? 0)} by more than max_error_rate_increase ${pct(cfg.maxErrorRateIncrease)}`);
  }
  if (canary.p99Ms !== null && cfg.maxP99Ms !== null && canary.p99Ms > cfg.maxP99Ms) reasons.push(`p99 ${canary.p99Ms} ms > max_p99 ${cfg.maxP99Ms} ms`);
  if (stableJudged && canary.p99Ms !== null && stable.p99Ms !== null) {
    const limit = Math.max(stable.p99Ms * cfg.maxP99Ratio, stable.p99Ms + cfg.p99ToleranceMs);
    if (canary.p99Ms > limit) reasons.push(`p99 ${canary.p99Ms} ms > ${cfg.maxP99Ratio}× the stable p99 ${stable.p99Ms} ms`);
  }
  return reasons.length > 0 ? { verdict: 'fail', reasons } : { verdict: 'pass', reasons: [] };
}

/** Figures of a window from raw counts. */
export function figures(requests: number, errors: number, p99Ms: number | null): WindowFigures {
  return { requests, errors, errorRate: requests > 0 ? errors / requests : null, p99Ms: requests > 0 ? p99Ms : null };
}
