import { test } from 'node:test';
import assert from 'node:assert/strict';
import { figures, judgeWindow, DEFAULT_P99_TOLERANCE_MS } from './canary-analysis';
import type { CanaryAnalysisConfig } from './config';

const cfg: CanaryAnalysisConfig = { intervalMs: 10_000, minRequests: 50, maxErrorRate: 0.05, maxErrorRateIncrease: 0.02, maxP99Ms: 500, maxP99Ratio: 2, p99ToleranceMs: DEFAULT_P99_TOLERANCE_MS, failureLimit: 1 };
const healthyStable = figures(900, 0, 12);

test('a window with fewer canary requests than min_requests is inconclusive, whatever its figures', () => {
  const j = judgeWindow(figures(49, 49, 9000), healthyStable, cfg);
  assert.equal(j.verdict, 'inconclusive');
  assert.match(j.reasons[0]!, /49 canary request\(s\), fewer than min_requests 50/);
});

test('a healthy canary passes', () => {
  assert.deepEqual(judgeWindow(figures(100, 1, 15), healthyStable, cfg), { verdict: 'pass', reasons: [] });
});

test('20 % of 5xx fails on the absolute threshold and on the increase over the stable release', () => {
  const j = judgeWindow(figures(100, 20, 10), healthyStable, cfg);
  assert.equal(j.verdict, 'fail');
  assert.equal(j.reasons.length, 2);
  assert.match(j.reasons[0]!, /error rate 20\.0 % > max_error_rate 5\.0 % \(20\/100\)/);
  assert.match(j.reasons[1]!, /exceeds the stable 0\.0 %/);
});

test('the error increase is judged against the stable release of the same window', () => {
  // 4 % is under the absolute 5 %, but the stable release had none: +4 points > 2.
  assert.equal(judgeWindow(figures(100, 4, 10), healthyStable, cfg).verdict, 'fail');
  // Both at 4 % (a shared dependency failing): not the canary's fault.
  assert.equal(judgeWindow(figures(100, 4, 10), figures(900, 36, 12), cfg).verdict, 'pass');
  // A stable side with too few requests is no reference: only the absolute threshold applies.
  assert.equal(judgeWindow(figures(100, 4, 10), figures(10, 0, 12), cfg).verdict, 'pass');
});

test('p99 fails above max_p99, and above max_p99_ratio × the stable p99', () => {
  assert.match(judgeWindow(figures(100, 0, 600), figures(900, 0, 400), cfg).reasons.join(), /p99 600 ms > max_p99 500 ms/);
  const ratio = judgeWindow(figures(100, 0, 120), figures(900, 0, 25), { ...cfg, maxP99Ms: null });
  assert.equal(ratio.verdict, 'fail');
  assert.match(ratio.reasons[0]!, /p99 120 ms > 2× the stable p99 25 ms/);
  assert.equal(judgeWindow(figures(100, 0, 60), figures(900, 0, 25), { ...cfg, maxP99Ms: null }).verdict, 'pass');
  assert.equal(judgeWindow(figures(100, 0, 600), figures(900, 0, 250), { ...cfg, maxP99Ms: null }).verdict, 'fail');
});

test(`p99 differences under p99_tolerance (default ${DEFAULT_P99_TOLERANCE_MS} ms) are never a ratio failure`, () => {
  assert.equal(judgeWindow(figures(100, 0, 50), figures(900, 0, 2), cfg).verdict, 'pass');
  assert.equal(judgeWindow(figures(100, 0, 60), figures(900, 0, 2), cfg).verdict, 'fail');
  assert.equal(judgeWindow(figures(100, 0, 30), figures(900, 0, 2), { ...cfg, p99ToleranceMs: 20 }).verdict, 'fail');
});

test('figures: rates and p99 are null without requests', () => {
  assert.deepEqual(figures(0, 0, 5), { requests: 0, errors: 0, errorRate: null, p99Ms: null });
  assert.deepEqual(figures(4, 1, 5), { requests: 4, errors: 1, errorRate: 0.25, p99Ms: 5 });
});
