/**
 * `deploy.smoke` in slipway.yml (normalized, defaults, refusals naming the field) and the pure
 * parts of the smoke checks: which deployments run them, the rounds, the verdict on an answer
 * and on live figures, the log lines, and the warm hold of blue-green.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { figures } from './canary-analysis';
import type { ServiceConfig, SmokeConfig } from './config';
import { formatErrors, parseProjectConfig } from './parse-config';
import {
  describeSmokeAnswer, describeSmokeWindow, expectedOf, isSmokeStep, judgeSmokeTraffic, smokeAnswerProblem, smokeApplies, smokeFailureMessage, smokeHoldMs, smokeRounds, smokeStepName,
} from './smoke-checks';
import { readStoredServiceConfig, SERVICE_DEFAULTS } from './stored-service-config';

const web = (deploy: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  stringify({ project: 'shop', services: { web: { image: 'shop/web:1', port: 3000, domains: ['shop.example.com'], deploy, ...extra } } });

function serviceOf(text: string, env?: string): ServiceConfig {
  const r = parseProjectConfig(text, { env });
  assert.ok(r.ok, r.ok ? '' : formatErrors(r.errors));
  return r.config.services.web!;
}

function errorsOf(text: string): string {
  const r = parseProjectConfig(text);
  assert.equal(r.ok, false, 'expected the config to be rejected');
  return formatErrors(r.ok ? [] : r.errors);
}

const smokeOf = (smoke: unknown) => serviceOf(web({ smoke })).deploy.smoke;

test('deploy.smoke: written keys normalized, defaults filled in; absent is none', () => {
  assert.equal(serviceOf(web({})).deploy.smoke, null);
  assert.equal(SERVICE_DEFAULTS.deploy.smoke, null);
  assert.deepEqual(smokeOf({ requests: [{ path: '/api/health', expect: 200 }, { path: '/', expect_body: 'Welcome' }] }), {
    requests: [
      { path: '/api/health', expectStatus: 200, expectBody: null },
      { path: '/', expectStatus: null, expectBody: 'Welcome' },
    ],
    through: 'edge',
    windowMs: 60_000,
    intervalMs: 5000,
    timeoutMs: 5000,
    rollback: true,
    maxErrorRate: 0.05,
    maxP99Ms: null,
    minRequests: 20,
  } satisfies SmokeConfig);
  const all = smokeOf({ requests: [{ path: '/up?deep=1' }], through: 'edge', window: '10m', interval: '30s', timeout: '2s', rollback: false, max_error_rate: 0.01, max_p99: '800ms', min_requests: 100 })!;
  assert.deepEqual([all.windowMs, all.intervalMs, all.timeoutMs, all.rollback, all.maxErrorRate, all.maxP99Ms, all.minRequests], [600_000, 30_000, 2000, false, 0.01, 800, 100]);
  assert.equal(smokeOf({ requests: [{ path: '/' }], window: '0s' })!.windowMs, 0, 'window 0s: one round');
});

test('deploy.smoke: bad values are refused naming the field', () => {
  const e = (smoke: unknown) => errorsOf(web({ smoke }));
  assert.match(e({ requests: [{ path: '/', expect: 700 }] }), /^services\.web\.deploy\.smoke\.requests\.0\.expect: must be an HTTP status 100–599$/m);
  assert.match(e({ requests: [{ path: '/', expect: '200' }] }), /^services\.web\.deploy\.smoke\.requests\.0\.expect: must be an HTTP status 100–599$/m);
  assert.match(e({ requests: [{ path: '/', expect: 200.5 }] }), /^services\.web\.deploy\.smoke\.requests\.0\.expect: must be an HTTP status 100–599$/m);
  assert.match(e({ requests: [{ path: '/' }, { path: 'health' }] }), /^services\.web\.deploy\.smoke\.requests\.1\.path: must start with "\/"$/m);
  assert.match(e({ requests: [{ path: '/a b' }] }), /^services\.web\.deploy\.smoke\.requests\.0\.path: must be a URL path/m);
  assert.match(e({ requests: [{}] }), /^services\.web\.deploy\.smoke\.requests\.0\.path: is required$/m);
  assert.match(e({ requests: [{ path: '/', expect_body: '' }] }), /^services\.web\.deploy\.smoke\.requests\.0\.expect_body: must not be empty$/m);
  assert.match(e({ requests: [{ path: '/', method: 'POST' }] }), /^services\.web\.deploy\.smoke\.requests\.0: unknown field "method"$/m);
  assert.match(e({ requests: [] }), /^services\.web\.deploy\.smoke\.requests: must have at least one request$/m);
  assert.match(e({}), /^services\.web\.deploy\.smoke\.requests: is required$/m);
  assert.match(e({ requests: Array.from({ length: 21 }, () => ({ path: '/' })) }), /^services\.web\.deploy\.smoke\.requests: must have at most 20 requests$/m);
  assert.match(e({ requests: [{ path: '/' }], through: 'direct' }), /^services\.web\.deploy\.smoke\.through: must be "edge"/m);
  assert.match(e({ requests: [{ path: '/' }], window: '11m' }), /^services\.web\.deploy\.smoke\.window: must be at most 10m$/m);
  assert.match(e({ requests: [{ path: '/' }], window: 'soon' }), /^services\.web\.deploy\.smoke\.window: must be a duration such as "60s"$/m);
  assert.match(e({ requests: [{ path: '/' }], interval: '10ms' }), /^services\.web\.deploy\.smoke\.interval: must be at least 100ms$/m);
  assert.match(e({ requests: [{ path: '/' }], timeout: '2m' }), /^services\.web\.deploy\.smoke\.timeout: must be at most 1m$/m);
  assert.match(e({ requests: [{ path: '/' }], rollback: 'yes' }), /^services\.web\.deploy\.smoke\.rollback: must be true or false$/m);
  assert.match(e({ requests: [{ path: '/' }], max_error_rate: 5 }), /^services\.web\.deploy\.smoke\.max_error_rate: must be between 0 and 1$/m);
  assert.match(e({ requests: [{ path: '/' }], min_requests: 0 }), /^services\.web\.deploy\.smoke\.min_requests: must be 1 or more$/m);
  assert.match(e({ requests: [{ path: '/' }], retries: 3 }), /^services\.web\.deploy\.smoke: unknown field "retries"$/m);
});

test('deploy.smoke needs a web service with a domain (the requests go through the edge by host)', () => {
  const smoke = { requests: [{ path: '/' }] };
  const noDomain = stringify({ project: 'shop', services: { web: { image: 'shop/web:1', port: 3000, deploy: { smoke } } } });
  assert.match(errorsOf(noDomain), /^services\.web\.deploy\.smoke: smoke checks send requests through the edge with the service's domain as Host, so they need a web service with a port and at least one domain$/m);
  const worker = stringify({ project: 'shop', services: { jobs: { image: 'shop/web:1', deploy: { smoke } } } });
  assert.match(errorsOf(worker), /^services\.jobs\.deploy\.smoke: smoke checks send requests/m);
});

test('deploy.smoke per environment: replaced whole, or turned off with null', () => {
  const text = stringify({
    project: 'shop',
    services: { web: { image: 'shop/web:1', port: 3000, domains: ['shop.example.com'], deploy: { strategy: 'blue-green', smoke: { requests: [{ path: '/api/health' }], window: '2m' } } } },
    environments: {
      staging: { services: { web: { deploy: { smoke: { requests: [{ path: '/' }] } } } } },
      preview: { services: { web: { deploy: { smoke: null } } } },
    },
  });
  assert.deepEqual([serviceOf(text).deploy.smoke!.requests[0]!.path, serviceOf(text).deploy.smoke!.windowMs, serviceOf(text).deploy.strategy], ['/api/health', 120_000, 'blue-green']);
  const staging = serviceOf(text, 'staging').deploy;
  assert.deepEqual([staging.smoke!.requests[0]!.path, staging.smoke!.windowMs, staging.strategy], ['/', 60_000, 'blue-green'], 'deploy merges key by key; smoke is replaced');
  assert.equal(serviceOf(text, 'preview').deploy.smoke, null);
});

test('a release stored before smoke checks reads as having none; a stored one reads back', () => {
  const withSmoke = serviceOf(web({ smoke: { requests: [{ path: '/' }] } }));
  const { smoke, ...deployBefore } = withSmoke.deploy;
  assert.equal(readStoredServiceConfig({ ...withSmoke, deploy: deployBefore }, 'v1').deploy.smoke, null);
  assert.deepEqual(readStoredServiceConfig(JSON.parse(JSON.stringify(withSmoke)), 'v2').deploy.smoke, smoke);
});

test('which deployments run the smoke checks', () => {
  const cfg = serviceOf(web({ smoke: { requests: [{ path: '/' }] } }));
  assert.deepEqual(
    (['deploy', 'promote', 'secrets', 'rollback', 'scale', 'restart', 'repair', 'stop', 'start'] as const).filter((k) => smokeApplies(k, cfg)),
    ['deploy', 'promote', 'secrets'],
  );
  assert.equal(smokeApplies('deploy', serviceOf(web({}))), false);
  // A stopped service's release (a secrets rollout or a redeploy of it) has nothing to check: its domains answer the stopped page.
  assert.equal(smokeApplies('secrets', { ...cfg, replicas: 0, stoppedReplicas: 2 }), false);
});

test('rounds: at once, then every interval while the window lasts', () => {
  assert.deepEqual(smokeRounds({ windowMs: 60_000, intervalMs: 5000 }), [0, 5000, 10_000, 15_000, 20_000, 25_000, 30_000, 35_000, 40_000, 45_000, 50_000, 55_000]);
  assert.deepEqual(smokeRounds({ windowMs: 0, intervalMs: 5000 }), [0]);
  assert.deepEqual(smokeRounds({ windowMs: 300, intervalMs: 100 }), [0, 100, 200]);
  assert.equal(smokeRounds({ windowMs: 600_000, intervalMs: 100 }).length, 6000, 'bounded by the window (≤ 10m) and the interval (≥ 100ms)');
});

test('an answer: the expected status (default any 2xx), the body text, or no answer at all', () => {
  const plain = { path: '/api/health', expectStatus: null, expectBody: null };
  const ok = (status: number | null, body = '', error: string | null = null) => ({ status, body, durationMs: 12, error });
  assert.equal(smokeAnswerProblem(plain, ok(204)), null);
  assert.equal(smokeAnswerProblem(plain, ok(301)), 'answered 301, expected 2xx');
  assert.equal(smokeAnswerProblem(plain, ok(500)), 'answered 500, expected 2xx');
  assert.equal(smokeAnswerProblem({ ...plain, expectStatus: 404 }, ok(404)), null, 'an expected 404 passes');
  assert.equal(smokeAnswerProblem({ ...plain, expectStatus: 200 }, ok(201)), 'answered 201, expected 200');
  assert.equal(smokeAnswerProblem({ ...plain, expectBody: '"db":"ok"' }, ok(200, '{"db":"ok"}')), null);
  assert.equal(smokeAnswerProblem({ ...plain, expectBody: '"db":"ok"' }, ok(200, '{"db":"down"}')), 'answered 200 without ""db":"ok"" in its body');
  assert.equal(smokeAnswerProblem(plain, ok(null, '', 'ECONNREFUSED')), 'no answer (ECONNREFUSED), expected 2xx');
  assert.equal(expectedOf({ ...plain, expectStatus: 200, expectBody: 'Welcome' }), '200 with "Welcome" in the body');
  assert.equal(describeSmokeAnswer({ ...plain, expectStatus: 200 }, ok(200), null), 'smoke: GET /api/health → 200 (12 ms)');
  assert.equal(describeSmokeAnswer({ ...plain, expectStatus: 200 }, ok(500), 'answered 500, expected 200'), 'smoke: GET /api/health → 500 (12 ms): FAIL, answered 500, expected 200');
  assert.equal(describeSmokeAnswer(plain, ok(null, '', 'timed out after 5000 ms'), 'no answer'), 'smoke: GET /api/health → timed out after 5000 ms (12 ms): FAIL, no answer');
});

test('live figures: judged from min_requests against max_error_rate and max_p99', () => {
  const cfg = { minRequests: 20, maxErrorRate: 0.05, maxP99Ms: 500 };
  assert.deepEqual(judgeSmokeTraffic(figures(19, 19, 900), cfg), { verdict: 'inconclusive', reasons: ['19 live request(s), fewer than min_requests 20'] });
  assert.deepEqual(judgeSmokeTraffic(figures(100, 5, 500), cfg), { verdict: 'pass', reasons: [] }, 'at the limits passes');
  assert.deepEqual(judgeSmokeTraffic(figures(100, 6, 600), cfg), { verdict: 'fail', reasons: ['error rate 6.0 % > max_error_rate 5.0 % (6/100)', 'p99 600 ms > max_p99 500 ms'] });
  assert.equal(judgeSmokeTraffic(figures(100, 0, 9000), { ...cfg, maxP99Ms: null }).verdict, 'pass', 'no p99 limit by default');
  assert.equal(describeSmokeWindow(60_000, figures(1234, 0, 23)), 'smoke window 60 s: 1,234 request(s), 0 5xx (0.0 % errors), p99 23 ms');
  assert.equal(describeSmokeWindow(2345, figures(40, 10, 8), { release: 2, cut: true }), 'smoke window 2.3 s (cut short): 40 request(s) to v2, 10 5xx (25.0 % errors), p99 8 ms');
});

test('the failure message names the check and when it failed; the step is recognised by name', () => {
  assert.equal(
    smokeFailureMessage({ kind: 'request', path: '/api/health', expected: '200', status: 500, error: null, reason: 'answered 500, expected 200', round: 1, afterMs: 12 }, 2),
    'smoke check failed: GET /api/health answered 500, expected 200 (round 1, 0.0 s after traffic moved)',
  );
  assert.equal(
    smokeFailureMessage({ kind: 'traffic', reasons: ['error rate 20.0 % > max_error_rate 5.0 % (20/100)'], figures: figures(100, 20, 5), afterMs: 3200 }, 4),
    'smoke check failed: the live traffic of v4: error rate 20.0 % > max_error_rate 5.0 % (20/100) (3.2 s after traffic moved)',
  );
  const cfg = smokeOf({ requests: [{ path: '/' }, { path: '/api' }], window: '90s' })!;
  assert.equal(smokeStepName(cfg), 'smoke checks: 2 request(s) through the edge for 1m30s');
  assert.ok(isSmokeStep(smokeStepName(cfg)));
  assert.ok(!isSmokeStep('smoke'));
  // Blue-green holds the previous set through the window when a failure rolls back.
  assert.equal(smokeHoldMs(cfg), 90_000 + 2 * 5000 + 60_000);
  assert.equal(smokeHoldMs({ ...cfg, rollback: false }), 0);
  assert.equal(smokeHoldMs(null), 0);
});
