import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProjectConfig, formatErrors } from './parse-config';
import { projectConfigJsonSchema } from './json-schema';

const valid = `
project: shop
services:
  web:
    build: .
    port: 3000
    domains: [shop.localhost]
    health: { path: /health, interval: 500ms, successes: 3 }
    replicas: 2
    deploy: { max_surge: 1, drain_timeout: 10s }
    env: { GREETING: hi, WORKERS: 4 }
`;

function errorsOf(text: string): string {
  const r = parseProjectConfig(text);
  assert.equal(r.ok, false, 'expected the config to be rejected');
  return formatErrors(r.ok ? [] : r.errors);
}

test('a valid file normalizes durations, defaults and env values', () => {
  const r = parseProjectConfig(valid);
  assert.ok(r.ok, r.ok ? '' : formatErrors(r.errors));
  const web = r.config.services.web!;
  assert.deepEqual(web.source, { kind: 'build', context: '.', dockerfile: 'Dockerfile', args: {} });
  assert.equal(web.health.intervalMs, 500);
  assert.equal(web.health.timeoutMs, 2000);
  assert.equal(web.health.successes, 3);
  assert.equal(web.deploy.drainTimeoutMs, 10_000);
  assert.equal(web.deploy.maxUnavailable, 0);
  assert.equal(web.deploy.stopTimeoutMs, 10_000);
  assert.deepEqual(web.env, { GREETING: 'hi', WORKERS: '4' });
});

test('health path must start with "/" and the error names the path', () => {
  const msg = errorsOf(valid.replace('path: /health', 'path: health'));
  assert.match(msg, /^services\.web\.health\.path: must start with "\/"$/m);
});

test('unknown fields, bad durations, bad ports and names are named precisely', () => {
  assert.match(errorsOf(valid.replace('replicas: 2', 'replica: 2')), /services\.web: unknown field "replica"/);
  assert.match(errorsOf(valid.replace('interval: 500ms', 'interval: soon')), /services\.web\.health\.interval: must be a duration/);
  assert.match(errorsOf(valid.replace('port: 3000', 'port: 70000')), /services\.web\.port: must be between 1 and 65535/);
  assert.match(errorsOf(valid.replace('project: shop', 'project: Shop!')), /^project: must be a lowercase name/m);
  assert.match(errorsOf(valid.replace('port: 3000', '')), /services\.web\.domains: a service without a port gets no traffic, so it cannot have domains \(add the port/);
  assert.match(errorsOf(valid.replace('domains: [shop.localhost]', 'domains: ["http://x"]')), /services\.web\.domains\.0: must be a lowercase host name/);
});

test('build and image are mutually exclusive', () => {
  assert.match(errorsOf(valid.replace('build: .', 'build: .\n    image: x:1')), /services\.web\.build: set exactly one of/);
  assert.match(errorsOf(valid.replace('build: .', '')), /services\.web\.build: set exactly one of/);
});

test('a deploy that could never progress is rejected', () => {
  assert.match(errorsOf(valid.replace('max_surge: 1', 'max_surge: 0')), /services\.web\.deploy\.max_surge: max_surge and max_unavailable cannot both be 0/);
});

test('YAML syntax errors give a line number; an empty file says what is expected', () => {
  assert.match(errorsOf('project: [unclosed'), /^line \d+:\d+: /);
  assert.match(errorsOf(''), /expected "project" and "services"/);
});

test('the JSON Schema describes the file for editors', () => {
  const schema = projectConfigJsonSchema() as { properties: Record<string, unknown>; required: string[] };
  assert.ok(schema.properties.project);
  assert.ok(schema.properties.services);
  assert.deepEqual([...schema.required].sort(), ['project', 'services']);
});

test('release_command must be an argv list; release_timeout a duration', () => {
  const withCmd = valid.replace('replicas: 2', 'replicas: 2\n    release_command: ["node", "migrate.js"]\n    release_timeout: 90s');
  const r = parseProjectConfig(withCmd);
  assert.ok(r.ok, r.ok ? '' : formatErrors(r.errors));
  assert.deepEqual(r.config.services.web!.releaseCommand, ['node', 'migrate.js']);
  assert.equal(r.config.services.web!.releaseTimeoutMs, 90_000);
  assert.equal((parseProjectConfig(valid) as { ok: true; config: { services: Record<string, { releaseCommand: unknown }> } }).config.services.web!.releaseCommand, null);
  assert.match(errorsOf(valid.replace('replicas: 2', 'replicas: 2\n    release_command: node migrate.js')), /services\.web\.release_command: must be a command as a list of arguments/);
  assert.match(errorsOf(valid.replace('replicas: 2', 'replicas: 2\n    release_command: []')), /services\.web\.release_command: must have at least the program to run/);
});

const withEnvs = `${valid}
environments:
  staging:
    services:
      web:
        replicas: 1
        domains: [staging.shop.localhost]
        env: { GREETING: hello-staging }
        deploy: { drain_timeout: 2s }
  preview-feature-x:
    services:
      web:
        image: shop:preview
`;

test('environment overrides merge maps key by key and replace the rest', () => {
  const prod = parseProjectConfig(withEnvs);
  assert.ok(prod.ok, prod.ok ? '' : formatErrors(prod.errors));
  assert.equal(prod.config.env, 'production');
  assert.deepEqual(prod.config.environments, ['staging', 'preview-feature-x']);
  assert.equal(prod.config.services.web!.replicas, 2);
  const staging = parseProjectConfig(withEnvs, { env: 'staging' });
  assert.ok(staging.ok, staging.ok ? '' : formatErrors(staging.errors));
  const web = staging.config.services.web!;
  assert.equal(web.replicas, 1);
  assert.deepEqual(web.domains, ['staging.shop.localhost']);
  assert.deepEqual(web.env, { GREETING: 'hello-staging', WORKERS: '4' });
  assert.equal(web.deploy.drainTimeoutMs, 2000);
  assert.equal(web.deploy.maxSurge, 1, 'unset deploy fields keep the base value');
  const preview = parseProjectConfig(withEnvs, { env: 'preview-feature-x' });
  assert.ok(preview.ok, preview.ok ? '' : formatErrors(preview.errors));
  assert.deepEqual(preview.config.services.web!.source, { kind: 'image', ref: 'shop:preview' }, 'an image override replaces the build');
  const other = parseProjectConfig(withEnvs, { env: 'qa' });
  assert.ok(other.ok && other.config.services.web!.replicas === 2, 'an environment without overrides gets the base');
});

test('override errors name the path where the value was written', () => {
  assert.match(errorsOf(withEnvs.replace('replicas: 1', 'replicas: 0')), /^environments\.staging\.services\.web\.replicas: must be between 1 and 100 \(to run no replica and keep the service, its config and releases, use slipway stop\)$/m);
  assert.match(errorsOf(withEnvs.replace('        replicas: 1', '        replica: 1')), /environments\.staging\.services\.web: unknown field "replica"/);
  assert.match(errorsOf(withEnvs.replace('  staging:\n    services:\n      web:', '  staging:\n    services:\n      api:')), /environments\.staging\.services\.api: no service "api" is defined under services/);
  assert.match(errorsOf(withEnvs.replace('  staging:', '  Staging:')), /environments\.Staging: environment names are lowercase/);
});

test('a service without a port is a worker; type, port and domains must agree', () => {
  const r = parseProjectConfig(`
project: shop
services:
  jobs:
    build: .
    command: [node, worker.js]
    min_ready: 2s
    deploy: { strategy: recreate }
`);
  assert.ok(r.ok, r.ok ? '' : formatErrors(r.errors));
  const jobs = r.config.services.jobs!;
  assert.deepEqual([jobs.type, jobs.port, jobs.command, jobs.minReadyMs, jobs.deploy.strategy], ['worker', null, ['node', 'worker.js'], 2000, 'recreate']);
  const web = parseProjectConfig(valid);
  assert.equal(web.ok && web.config.services.web!.type, 'web');
  assert.match(errorsOf('project: p\nservices:\n  w:\n    build: .\n    type: web\n'), /services\.w\.port: a web service needs the port it listens on/);
  assert.match(errorsOf('project: p\nservices:\n  w:\n    build: .\n    type: worker\n    port: 80\n'), /services\.w\.port: a worker has no port/);
  assert.match(errorsOf('project: p\nservices:\n  w:\n    build: .\n    domains: [a.localhost]\n'), /services\.w\.domains: a service without a port gets no traffic/);
  assert.match(errorsOf('project: p\nservices:\n  w:\n    build: .\n    port: 80\n    deploy: { strategy: sideways }\n'), /services\.w\.deploy\.strategy: must be "rolling", "recreate", "blue-green" or "canary"/);
  assert.match(errorsOf('project: p\nservices:\n  w:\n    build: .\n    min_ready: soon\n'), /services\.w\.min_ready: must be a duration/);
});

test('approval is per environment and defaults to none', () => {
  const text = `${valid}environments:\n  production: { approval: required }\n  staging: {}\n`;
  const prod = parseProjectConfig(text);
  const staging = parseProjectConfig(text, { env: 'staging' });
  assert.ok(prod.ok && staging.ok);
  assert.equal(prod.config.approval, 'required');
  assert.equal(staging.config.approval, 'none');
  assert.match(errorsOf(`${valid}environments:\n  production: { approval: maybe }\n`), /environments\.production\.approval: must be "required" or "none"/);
});

test('a service with a schedule is a job; an invalid cron is named precisely', () => {
  const r = parseProjectConfig('project: p\nservices:\n  nightly:\n    build: .\n    command: [node, cleanup.js]\n    schedule: "0 3 * * *"\n    job_timeout: 10m\n');
  assert.ok(r.ok, r.ok ? '' : formatErrors(r.errors));
  assert.deepEqual([r.config.services.nightly!.type, r.config.services.nightly!.schedule, r.config.services.nightly!.jobTimeoutMs], ['job', '0 3 * * *', 600_000]);
  assert.match(errorsOf('project: p\nservices:\n  n:\n    build: .\n    schedule: "61 * * * *"\n'), /services\.n\.schedule: minute field "61": expected 0-59/);
  assert.match(errorsOf('project: p\nservices:\n  n:\n    build: .\n    schedule: "every day"\n'), /services\.n\.schedule: .*expected 5 fields/);
  assert.match(errorsOf('project: p\nservices:\n  n:\n    build: .\n    port: 80\n    schedule: "@daily"\n'), /services\.n\.port: a scheduled job has no port/);
  assert.match(errorsOf('project: p\nservices:\n  n:\n    build: .\n    type: job\n'), /services\.n\.schedule: a job needs a schedule/);
});

test('blue-green: web services only, keep_warm a duration (default 5m, 0s allowed), overridable per environment', () => {
  const r = parseProjectConfig(valid.replace('deploy: { max_surge: 1, drain_timeout: 10s }', 'deploy: { strategy: blue-green, keep_warm: 90s }'));
  assert.ok(r.ok, r.ok ? '' : formatErrors(r.errors));
  assert.deepEqual([r.config.services.web!.deploy.strategy, r.config.services.web!.deploy.keepWarmMs], ['blue-green', 90_000]);
  const dflt = parseProjectConfig(valid.replace('deploy: { max_surge: 1, drain_timeout: 10s }', 'deploy: { strategy: blue-green }'));
  assert.equal(dflt.ok && dflt.config.services.web!.deploy.keepWarmMs, 300_000);
  const zero = parseProjectConfig(valid.replace('deploy: { max_surge: 1, drain_timeout: 10s }', 'deploy: { strategy: blue-green, keep_warm: 0s }'));
  assert.equal(zero.ok && zero.config.services.web!.deploy.keepWarmMs, 0);
  assert.match(errorsOf(valid.replace('drain_timeout: 10s', 'keep_warm: later')), /^services\.web\.deploy\.keep_warm: must be a duration/m);
  assert.match(errorsOf('project: p\nservices:\n  w:\n    build: .\n    deploy: { strategy: blue-green }\n'), /^services\.w\.deploy\.strategy: blue-green switches traffic at the edge, so it needs a web service/m);
  assert.match(errorsOf('project: p\nservices:\n  n:\n    build: .\n    schedule: "@daily"\n    deploy: { strategy: blue-green }\n'), /services\.n\.deploy\.strategy: blue-green .* needs a web service/);
  const staged = parseProjectConfig(`${valid}environments:\n  staging:\n    services:\n      web: { deploy: { strategy: blue-green, keep_warm: 3s } }\n`, { env: 'staging' });
  assert.ok(staged.ok, staged.ok ? '' : formatErrors(staged.errors));
  assert.deepEqual([staged.config.services.web!.deploy.strategy, staged.config.services.web!.deploy.keepWarmMs, staged.config.services.web!.deploy.drainTimeoutMs], ['blue-green', 3000, 10_000]);
});

test('canary: steps and analysis with defaults, validated field by field, web services only', () => {
  const r = parseProjectConfig(valid.replace('deploy: { max_surge: 1, drain_timeout: 10s }', 'deploy: { strategy: canary, steps: [{ weight: 20, pause: 3s }, { weight: 60 }], analysis: { interval: 2s, min_requests: 10, max_p99: 300ms } }'));
  assert.ok(r.ok);
  const d = r.config.services.web!.deploy;
  assert.equal(d.strategy, 'canary');
  assert.deepEqual(d.steps, [{ weight: 20, pauseMs: 3000 }, { weight: 60, pauseMs: 60_000 }]);
  assert.deepEqual(d.analysis, { intervalMs: 2000, minRequests: 10, maxErrorRate: 0.05, maxErrorRateIncrease: 0.02, maxP99Ms: 300, maxP99Ratio: 2, p99ToleranceMs: 50, failureLimit: 1 });
  const dflt = parseProjectConfig(valid.replace('deploy: { max_surge: 1, drain_timeout: 10s }', 'deploy: { strategy: canary }'));
  assert.ok(dflt.ok);
  assert.deepEqual(dflt.config.services.web!.deploy.steps, [{ weight: 10, pauseMs: 60_000 }, { weight: 50, pauseMs: 60_000 }]);
  assert.equal(dflt.config.services.web!.deploy.analysis!.maxP99Ms, null);
  const bad = (deploy: string) => errorsOf(valid.replace('deploy: { max_surge: 1, drain_timeout: 10s }', `deploy: ${deploy}`));
  assert.match(bad('{ strategy: canary, steps: [{ weight: 100 }] }'), /services\.web\.deploy\.steps\.0\.weight: must be between 1 and 99/);
  assert.match(bad('{ strategy: canary, steps: [{ weight: 50 }, { weight: 10 }] }'), /services\.web\.deploy\.steps: weights must increase/);
  assert.match(bad('{ strategy: canary, steps: [] }'), /services\.web\.deploy\.steps: must have at least one step/);
  assert.match(bad('{ strategy: canary, analysis: { max_error_rate: 5 } }'), /services\.web\.deploy\.analysis\.max_error_rate: must be between 0 and 1/);
  assert.match(bad('{ strategy: canary, analysis: { interval: soon } }'), /services\.web\.deploy\.analysis\.interval: must be a duration/);
  assert.match(bad('{ strategy: canary, analysis: { failure_limit: 0 } }'), /services\.web\.deploy\.analysis\.failure_limit: must be between 1 and 100/);
  assert.match(bad('{ strategy: canary, analysis: { max_p99_ratio: 0.5 } }'), /services\.web\.deploy\.analysis\.max_p99_ratio: must be 1 or more/);
  assert.match(bad('{ strategy: canary, analysis: { thresholds: 1 } }'), /services\.web\.deploy\.analysis: unknown field "thresholds"/);
  assert.match(errorsOf('project: p\nservices:\n  w:\n    build: .\n    deploy: { strategy: canary }\n'), /^services\.w\.deploy\.strategy: canary splits traffic at the edge/m);
});

test('https: redirect default (null: decided by the certificate), HSTS max-age in seconds, per-environment overrides merge', () => {
  const r = parseProjectConfig(valid);
  assert.ok(r.ok);
  assert.deepEqual(r.config.services.web!.https, { redirect: null, hstsMaxAgeS: null, hstsIncludeSubdomains: false });
  const withHttps = `${valid}    https: { hsts: 365d, hsts_include_subdomains: true }
environments:
  staging:
    services:
      web: { https: { redirect: false } }
`;
  const prod = parseProjectConfig(withHttps);
  assert.ok(prod.ok, prod.ok ? '' : formatErrors(prod.errors));
  assert.deepEqual(prod.config.services.web!.https, { redirect: null, hstsMaxAgeS: 31_536_000, hstsIncludeSubdomains: true });
  const staging = parseProjectConfig(withHttps, { env: 'staging' });
  assert.ok(staging.ok, staging.ok ? '' : formatErrors(staging.errors));
  assert.deepEqual(staging.config.services.web!.https, { redirect: false, hstsMaxAgeS: 31_536_000, hstsIncludeSubdomains: true });
  assert.match(errorsOf(`${valid}    https: { hsts: soon }\n`), /services\.web\.https\.hsts: must be false or a max-age duration/);
  assert.match(errorsOf(`${valid}    https: { redirect: yes please }\n`), /services\.web\.https\.redirect: must be true or false/);
  assert.match(errorsOf(`${valid}    https: { hsts_max: 1d }\n`), /services\.web\.https: unknown field "hsts_max"/);
});
