/**
 * `schedule` per environment (issue 24, item 1): a job's schedule is overridable, `off` keeps
 * it a job that is never run on schedule there, and an override cannot turn a web service or a
 * worker into a job (a service has one type in every environment).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatErrors, parseProjectConfig } from './parse-config';
import type { ServiceConfig } from './config';

const FILE = `project: p
services:
  web:
    build: .
    port: 3000
  worker:
    build: .
    command: [node, worker.js]
  report:
    build: .
    command: [node, report.js]
    schedule: "0 3 * * *"
  manual:
    build: .
    type: job
    schedule: off
`;

const withEnvs = (envs: string) => `${FILE}environments:\n${envs}`;

function servicesIn(text: string, env: string): Record<string, ServiceConfig> {
  const r = parseProjectConfig(text, { env });
  assert.ok(r.ok, r.ok ? '' : formatErrors(r.errors));
  return r.config.services;
}

function errorsOf(text: string, env = 'production'): string {
  const r = parseProjectConfig(text, { env });
  assert.ok(!r.ok, `expected errors for env ${env}`);
  return formatErrors(r.errors);
}

const jobOf = (s: ServiceConfig) => [s.type, s.schedule];

test('a job\'s schedule changes per environment; off keeps it a job with no schedule there; other environments keep the base', () => {
  const text = withEnvs(`  staging:
    services:
      report: { schedule: "*/15 * * * *" }
      manual: { schedule: "@hourly" }
  production:
    services:
      report: { schedule: off }
`);
  const production = servicesIn(text, 'production');
  assert.deepEqual(jobOf(production.report!), ['job', null], 'off in production: still a job, no schedule');
  assert.deepEqual(jobOf(production.manual!), ['job', null], 'off under services: a job run by hand only');
  const staging = servicesIn(text, 'staging');
  assert.deepEqual(jobOf(staging.report!), ['job', '*/15 * * * *']);
  assert.deepEqual(jobOf(staging.manual!), ['job', '@hourly'], 'an environment turns on a job that is off under services');
  const preview = servicesIn(text, 'preview-x');
  assert.deepEqual(jobOf(preview.report!), ['job', '0 3 * * *'], 'no override: the schedule under services');
  assert.deepEqual(jobOf(preview.manual!), ['job', null]);
  assert.deepEqual(jobOf(preview.web!), ['web', null]);
  assert.deepEqual(jobOf(preview.worker!), ['worker', null]);
});

test('a bad schedule override names the override, in whichever environment is parsed', () => {
  const text = withEnvs('  staging:\n    services:\n      report: { schedule: "61 * * * *" }\n');
  for (const env of ['production', 'staging']) {
    assert.match(errorsOf(text, env), /^environments\.staging\.services\.report\.schedule: minute field "61": expected 0-59/m);
  }
  assert.match(errorsOf(withEnvs('  staging:\n    services:\n      report: { schedule: 5 }\n')), /^environments\.staging\.services\.report\.schedule: must be a cron expression such as "0 \*\/6 \* \* \*", or off$/m);
  assert.match(errorsOf(withEnvs('  staging:\n    services:\n      report: { schedule: nope }\n')), /^environments\.staging\.services\.report\.schedule: .*expected 5 fields/m);
});

test('an override cannot make a web service or a worker a job: refused naming the override, in every environment', () => {
  const web = withEnvs('  staging:\n    services:\n      web: { schedule: "@daily" }\n');
  for (const env of ['production', 'staging']) {
    assert.match(
      errorsOf(web, env),
      /^environments\.staging\.services\.web\.schedule: web is a web service \(it has a port under services\.web\): an environment cannot make it a scheduled job, because a service is of the same type in every environment\./m,
    );
  }
  assert.match(errorsOf(withEnvs('  staging:\n    services:\n      web: { schedule: off }\n')), /^environments\.staging\.services\.web\.schedule: web is a web service.*make it a job under services \(without its port\) with schedule: off/m, 'off too: there is no job to turn off');
  assert.match(errorsOf(withEnvs('  production:\n    services:\n      worker: { schedule: "@daily" }\n')), /^environments\.production\.services\.worker\.schedule: worker is a worker \(no schedule under services\): an environment cannot make it a scheduled job.*make it a job under services with schedule: off, and set its schedule in those environments$/m);
});

test('schedule: off under services is still a job: no port, and `type: job` is satisfied', () => {
  assert.match(errorsOf('project: p\nservices:\n  n:\n    build: .\n    port: 80\n    schedule: off\n'), /^services\.n\.port: a scheduled job has no port/m);
  assert.deepEqual(jobOf(servicesIn('project: p\nservices:\n  n:\n    build: .\n    schedule: off\n', 'production').n!), ['job', null]);
});
