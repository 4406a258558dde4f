import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseProjectConfig } from './parse-config';
import { readStoredServiceConfig, SERVICE_DEFAULTS } from './stored-service-config';

/** A release's config exactly as the first version of Slipway stored it (src/engine-tests/fixtures/). */
const FIRST = JSON.parse(readFileSync(path.join(import.meta.dirname, '../engine-tests/fixtures/release-config-first-version.json'), 'utf8')) as Record<string, unknown>;

test('a release stored by the first version reads with every later field at the default slipway.yml gives', () => {
  const c = readStoredServiceConfig(FIRST, 'release 1');
  assert.equal(c.name, 'web');
  assert.deepEqual(c.env, { GREETING: 'hello' });
  assert.deepEqual([c.releaseCommand, c.command, c.schedule, c.uses, c.volumes], [null, null, null, [], []]);
  assert.deepEqual(c.health, { ...SERVICE_DEFAULTS.health, path: '/health', intervalMs: 5, timeoutMs: 100, graceMs: 0, successes: 1, deadlineMs: 2000 });
  assert.equal(c.health.kind, 'http');
  assert.deepEqual(c.deploy, { ...SERVICE_DEFAULTS.deploy, strategy: 'rolling', maxSurge: 1, maxUnavailable: 0, drainTimeoutMs: 1000, stopTimeoutMs: 1000 });
  assert.deepEqual([c.https, c.retention, c.minReadyMs, c.jobTimeoutMs, c.releaseTimeoutMs], [SERVICE_DEFAULTS.https, SERVICE_DEFAULTS.retention, SERVICE_DEFAULTS.minReadyMs, SERVICE_DEFAULTS.jobTimeoutMs, SERVICE_DEFAULTS.releaseTimeoutMs]);
  assert.equal('resources' in c || 'release' in c || 'migrations' in c, false, 'optional features stay absent');
});

test('the defaults are the config schema\'s: the documented values', () => {
  assert.deepEqual([SERVICE_DEFAULTS.health.fall, SERVICE_DEFAULTS.health.rise, SERVICE_DEFAULTS.health.replaceAfterMs], [3, 2, 60_000]);
  assert.deepEqual(SERVICE_DEFAULTS.deploy.steps, [{ weight: 10, pauseMs: 60_000 }, { weight: 50, pauseMs: 60_000 }]);
  assert.equal(SERVICE_DEFAULTS.deploy.keepWarmMs, 5 * 60_000);
  assert.equal(SERVICE_DEFAULTS.deploy.analysis.p99ToleranceMs, 50);
  assert.equal(SERVICE_DEFAULTS.retention.releases, 10);
});

test('a config written today reads back unchanged', () => {
  const r = parseProjectConfig(
    'project: shop\nservices:\n  web:\n    image: shop/web:2\n    port: 3000\n    domains: [shop.test]\n    health: { kind: exec, command: [check-ready] }\n    deploy: { strategy: canary, steps: [{ weight: 20, pause: 5s }] }\n    resources: { memory: 256m, cpus: 0.5 }\n    release_command: [node, migrate.js]\n',
  );
  assert.ok(r.ok);
  const written = r.config.services.web!;
  assert.deepEqual(readStoredServiceConfig(JSON.parse(JSON.stringify(written)), 'release 9'), written);
});

test('a stored config that is not a service config is an error naming the field, not a crash later', () => {
  assert.throws(() => readStoredServiceConfig({ ...FIRST, replicas: 'two' }, 'release 7'), (e: Error & { code?: string }) => e.code === 'SLW_INTERNAL' && /release 7: the stored config is not a service config \(replicas: /.test(e.message));
  assert.throws(() => readStoredServiceConfig(null, 'release 8'), /release 8: the stored config is not a service config \(\(root\)/);
});
