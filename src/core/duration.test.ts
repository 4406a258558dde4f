/** Durations (issue 18, item 8): bounded below setTimeout's limit, never Infinity, errors naming the field. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { MAX_TIMER_MS, durationProblem, parseDuration } from './duration';
import { formatErrors, parseProjectConfig } from './parse-config';
import { runBody, tokenBody } from './contract/requests';

test('parseDuration never returns Infinity, NaN or an inexact number', () => {
  for (const v of [1e308, Infinity, -Infinity, NaN, -1, '1e308', '1000000000000000d', `${'9'.repeat(400)}s`, 'Infinity', 'NaNs', '']) {
    assert.equal(parseDuration(v), null, String(v));
  }
  assert.equal(parseDuration('24d'), MAX_TIMER_MS);
  assert.equal(parseDuration(1.5), 1500);
  assert.ok(MAX_TIMER_MS < 2 ** 31 - 1, 'below the largest setTimeout delay');
  assert.equal(durationProblem('25d', MAX_TIMER_MS), 'must be at most 24d');
  assert.equal(durationProblem(null, MAX_TIMER_MS), 'must be a duration such as "500ms", "2s" or "1m"');
});

const config = (web: Record<string, unknown>, rest: Record<string, unknown> = {}) =>
  stringify({ project: 'shop', services: { web: { image: 'slipway/node:20', port: 3000, ...web } }, ...rest });

function errorsOf(text: string, env?: string): string {
  const r = parseProjectConfig(text, { env });
  assert.equal(r.ok, false, 'expected the config to be rejected');
  return formatErrors(r.ok ? [] : r.errors);
}

test('every duration of slipway.yml refuses more than 24d and non-finite numbers, naming the field', () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ release_timeout: '30d' }, 'services.web.release_timeout'],
    [{ min_ready: '25d' }, 'services.web.min_ready'],
    [{ health: { deadline: 1e308 } }, 'services.web.health.deadline'],
    [{ health: { interval: '30d' } }, 'services.web.health.interval'],
    [{ health: { timeout: 3e6 } }, 'services.web.health.timeout'],
    [{ health: { grace: '1000000000000000d' } }, 'services.web.health.grace'],
    [{ deploy: { drain_timeout: '30d' } }, 'services.web.deploy.drain_timeout'],
    [{ deploy: { stop_timeout: '30d' } }, 'services.web.deploy.stop_timeout'],
    [{ deploy: { strategy: 'blue-green', keep_warm: '30d' } }, 'services.web.deploy.keep_warm'],
    [{ deploy: { strategy: 'canary', steps: [{ weight: 10, pause: '30d' }] } }, 'services.web.deploy.steps.0.pause'],
    [{ deploy: { strategy: 'canary', analysis: { interval: '30d' } } }, 'services.web.deploy.analysis.interval'],
    [{ deploy: { strategy: 'canary', analysis: { max_p99: '30d' } } }, 'services.web.deploy.analysis.max_p99'],
    [{ deploy: { strategy: 'canary', analysis: { p99_tolerance: 1e308 } } }, 'services.web.deploy.analysis.p99_tolerance'],
    [{ port: undefined, schedule: '0 * * * *', job_timeout: '30d' }, 'services.web.job_timeout'],
    [{ https: { hsts: 1e308 } }, 'services.web.https.hsts'],
    [{ https: { hsts: '4000d' } }, 'services.web.https.hsts'],
  ];
  for (const [web, field] of cases) {
    const msg = errorsOf(config(web));
    assert.match(msg, new RegExp(`^${field.replace(/\./g, '\\.')}: must (be at most (24|3650)d|be a duration|be false or a max-age duration)`, 'm'), `${JSON.stringify(web)} → ${msg}`);
  }
  // Overrides of an environment are bounded the same way, named where they are written.
  const over = errorsOf(config({}, { environments: { staging: { services: { web: { release_timeout: '30d', health: { deadline: '30d' } } } } } }));
  assert.match(over, /^environments\.staging\.services\.web\.release_timeout: must be at most 24d$/m);
  assert.match(over, /^environments\.staging\.services\.web\.health\.deadline: must be at most 24d$/m);
  // The limit itself is accepted.
  const ok = parseProjectConfig(config({ release_timeout: '24d', health: { deadline: 2073600 }, https: { hsts: '730d' } }));
  assert.ok(ok.ok, ok.ok ? '' : formatErrors(ok.errors));
  assert.equal(ok.config.services.web!.releaseTimeoutMs, MAX_TIMER_MS);
  assert.equal(ok.config.services.web!.health.deadlineMs, MAX_TIMER_MS);
});

test('API durations: run timeout at most 24d, token lifetimes finite, errors naming the field', () => {
  const run = runBody.safeParse({ argv: ['true'], timeout: '30d' });
  assert.equal(run.success, false);
  assert.deepEqual(run.error!.issues.map((i) => [i.path.join('.'), i.message]), [['timeout', 'must be at most 24d']]);
  assert.equal(runBody.parse({ argv: ['true'], timeout: '24d' }).timeout, MAX_TIMER_MS);
  const token = tokenBody.safeParse({ name: 'ci', scope: 'deploy', expiresIn: '1000000000000000d' });
  assert.equal(token.success, false);
  assert.equal(token.error!.issues[0]!.path.join('.'), 'expiresIn');
  assert.ok(tokenBody.safeParse({ name: 'ci', scope: 'deploy', expiresIn: '365d' }).success);
});
