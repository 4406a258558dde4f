import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProjectConfig } from '../core/config';
import type { Release, ServiceRef } from '../core/domain';
import { formatErrors, parseProjectConfig } from '../core/parse-config';
import { countAfter, deploymentKind, planDeploymentSteps, readStoredPlan, replicasAgainstLive, type Plan } from './plan-deployment';

function config(yml: string, env = 'production'): ProjectConfig {
  const r = parseProjectConfig(yml, { env });
  if (!r.ok) throw new Error(formatErrors(r.errors));
  return r.config;
}

const STACK = `project: shop
services:
  web:
    build: .
    port: 3000
    domains: [shop.test]
    release_command: ["node", "migrate.js"]
    uses: [db]
  worker:
    image: shop/worker:1
  nightly:
    image: shop/worker:1
    command: ["node", "report.js"]
    schedule: "0 3 * * *"
accessories:
  db: { kind: postgres, version: "15" }
`;

const ref = (service: string, env = 'production'): ServiceRef => ({ project: 'shop', service, env });

function release(cfg: ProjectConfig, service: string, n = 4): Release {
  return { id: n, serviceId: 1, environmentId: 1, number: n, imageRef: 'shop/web:x', imageDigest: `sha256:${'a'.repeat(64)}`, config: cfg.services[service]!, sourceRef: 'abc', secretsVersion: 2, createdAt: '2026-12-07T00:00:00.000Z' };
}

test('a deploy builds, brings up the accessories, runs the release phase with a backup first in production, and routes', () => {
  const cfg = config(STACK);
  const source = { kind: 'archive' as const, sha256: 'f'.repeat(64), commit: null };
  const steps = planDeploymentSteps({ kind: 'deploy', request: { config: cfg, service: 'web', env: 'production', source, unrestricted: true } }, ref('web'));
  assert.deepEqual(steps.intro, ['deploying shop/web to production']);
  assert.equal(steps.release.kind, 'build');
  assert.deepEqual(steps.release.kind === 'build' && [steps.release.source, steps.release.releaseSource, steps.release.unrestricted], [source, null, true]);
  assert.equal(steps.accessories, cfg, 'slipway.yml names accessories: they come up before the release');
  assert.deepEqual(steps.releasePhase, { allowDestructive: false, promoted: false, backupFirst: true });
  assert.equal(steps.traffic, 'route');
});

test('backup_before_release decides the backup; outside production it is off by default', () => {
  const staging = config(STACK, 'staging');
  const plan = (cfg: ProjectConfig, env: string): Plan => ({ kind: 'deploy', request: { config: cfg, service: 'web', env, source: null, allowDestructive: true } });
  assert.deepEqual(planDeploymentSteps(plan(staging, 'staging'), ref('web', 'staging')).releasePhase, { allowDestructive: true, promoted: false, backupFirst: false });
  const off = config(STACK.replace('accessories:', 'environments:\n  production: { backup_before_release: false }\naccessories:'));
  assert.equal(planDeploymentSteps(plan(off, 'production'), ref('web')).releasePhase?.backupFirst, false);
});

test('workers get replicas and no route; a job gets its schedule; neither has a release phase without a command', () => {
  const cfg = config(STACK);
  const worker = planDeploymentSteps({ kind: 'deploy', request: { config: cfg, service: 'worker', env: 'production', source: null } }, ref('worker'));
  assert.equal(worker.traffic, 'replicas');
  assert.equal(worker.releasePhase, null);
  const job = planDeploymentSteps({ kind: 'deploy', request: { config: cfg, service: 'nightly', env: 'production', source: null } }, ref('nightly'));
  assert.equal(job.traffic, 'schedule');
});

test('a slipway.yml without accessories brings none up', () => {
  const cfg = config('project: shop\nservices:\n  web: { image: shop/web:1, port: 3000 }\n');
  assert.equal(planDeploymentSteps({ kind: 'deploy', request: { config: cfg, service: 'web', env: 'production', source: null } }, ref('web')).accessories, null);
});

test('a promotion builds nothing, runs the release phase as promoted, and keeps its own backup decision', () => {
  const cfg = config(STACK);
  const image = { ref: 'slipway/shop-web:staging-v3', digest: `sha256:${'b'.repeat(64)}`, sourceRef: 'abc' };
  const steps = planDeploymentSteps({ kind: 'promote', config: cfg.services.web!, image, source: { env: 'staging', release: 3 } as never, backupBeforeRelease: false }, ref('web'));
  assert.deepEqual(steps.release, { kind: 'image', config: cfg.services.web, image });
  assert.match(steps.intro[0]!, /^promoting shop\/web: staging v3 \(sha256:bbbbbbbbbbbb\) to production, with production's config and secrets; no build$/);
  assert.equal(steps.accessories, null);
  assert.deepEqual(steps.releasePhase, { allowDestructive: false, promoted: true, backupFirst: false });
});

test('a redeploy and a secrets rollout make a new release of a known image and run the release command again', () => {
  const cfg = config(STACK);
  const base = release(cfg, 'web');
  const same = planDeploymentSteps({ kind: 'redeploy', base, image: { ref: base.imageRef, digest: base.imageDigest, sourceRef: base.sourceRef } }, ref('web'));
  assert.deepEqual(same.intro, ['redeploying v4 of shop/web in production (same image and config, no build)']);
  assert.equal(same.release.kind, 'image');
  assert.deepEqual(same.releasePhase, { allowDestructive: false, promoted: false, backupFirst: true });
  const other = planDeploymentSteps({ kind: 'redeploy', base, image: { ref: 'shop/web:hotfix', digest: `sha256:${'c'.repeat(64)}`, sourceRef: null } }, ref('web'));
  assert.match(other.intro[0]!, /with image shop\/web:hotfix \(sha256:cccccccccccc\) and the same config/);
  const secrets = planDeploymentSteps({ kind: 'secrets', base }, ref('web'));
  assert.deepEqual(secrets.release, { kind: 'image', config: base.config, image: { ref: base.imageRef, digest: base.imageDigest, sourceRef: 'abc' } });
  assert.equal(deploymentKind({ kind: 'redeploy', base, image: { ref: '', digest: '', sourceRef: null } }), 'deploy', 'a redeploy is listed as a deploy');
});

test('a rollback rolls an existing release out again: no build, no new release, the release command not re-run', () => {
  const cfg = config(STACK);
  const steps = planDeploymentSteps({ kind: 'rollback', release: release(cfg, 'web', 2), why: 'v3 never went live: skipped' }, ref('web'));
  assert.deepEqual(steps.intro, [
    'v3 never went live: skipped',
    'rolling back shop/web in production to v2 (image sha256:aaaaaaaaaaaa, secrets version 2, no build, release command not re-run)',
  ]);
  assert.equal(steps.release.kind, 'release');
  assert.equal(steps.releasePhase, null);
  assert.equal(steps.traffic, 'route');
});

test('a stored plan read back gets today\'s defaults in its service configs', () => {
  const cfg = config(STACK);
  const stored = JSON.parse(JSON.stringify({ kind: 'rollback', release: release(cfg, 'web', 2) })) as { release: { config: Record<string, unknown> } };
  delete stored.release.config.minReadyMs;
  const back = readStoredPlan(stored, 'd1');
  assert.equal(back?.kind, 'rollback');
  assert.equal(back?.kind === 'rollback' && typeof back.release.config.minReadyMs, 'number', 'a field missing from an older plan gets its default');
  assert.equal(readStoredPlan(null, 'd1'), null);
  assert.throws(() => readStoredPlan({ kind: 'teleport' }, 'd1'), /deployment d1: its stored plan has an unknown kind/);
});

test('stop: the live release with 0 replicas remembering its count; start: that count again; neither builds, runs the release command nor changes the secrets', () => {
  const cfg = config(STACK.replace('    uses: [db]\n', '    uses: [db]\n    replicas: 3\n'));
  const live = release(cfg, 'web', 4);
  const image = { ref: live.imageRef, digest: live.imageDigest, sourceRef: 'abc' };
  const stop = planDeploymentSteps({ kind: 'stop', base: live }, ref('web'));
  assert.deepEqual(stop.intro, ['stopping shop/web in production: v4 as a new release with 0 replicas (its 3 drained and stopped; config, releases and domains kept; slipway start runs 3 again)']);
  assert.deepEqual(stop.release, { kind: 'image', config: { ...live.config, replicas: 0, stoppedReplicas: 3 }, image, secretsVersion: 2 });
  assert.deepEqual([stop.releasePhase, stop.accessories, stop.traffic, stop.replicasFromFile], [null, null, 'route', false], 'the edge route stays (its stopped page)');
  assert.equal(deploymentKind({ kind: 'stop', base: live }), 'stop');

  const stopped = { ...live, number: 5, config: { ...live.config, replicas: 0, stoppedReplicas: 3 } };
  const start = planDeploymentSteps({ kind: 'start', base: stopped }, ref('web'));
  assert.match(start.intro[0]!, /^starting shop\/web in production: v5 as a new release with the 3 replica\(s\) it ran before it was stopped/);
  assert.deepEqual(start.release, { kind: 'image', config: { ...live.config, replicas: 3, stoppedReplicas: null }, image, secretsVersion: 2 });
  assert.equal(start.releasePhase, null);
  assert.equal(deploymentKind({ kind: 'start', base: stopped }), 'start');

  // A worker stops too (no route); a scale of a stopped service starts it with its count and forgets the stop.
  assert.equal(planDeploymentSteps({ kind: 'stop', base: release(cfg, 'worker') }, ref('worker')).traffic, 'replicas');
  assert.deepEqual(countAfter({ kind: 'scale', base: stopped, replicas: 2 }), { replicas: 2, stoppedReplicas: null });
  assert.match(planDeploymentSteps({ kind: 'scale', base: stopped, replicas: 2 }, ref('web')).intro[0]!, /^scaling shop\/web in production from 0 \(stopped\) to 2 replica\(s\)/);
  assert.deepEqual(countAfter({ kind: 'restart', base: live }), { replicas: 3, stoppedReplicas: null });
  // A stopped release without its count (written by hand): start runs one.
  assert.deepEqual(countAfter({ kind: 'start', base: { ...stopped, config: { ...stopped.config, stoppedReplicas: null } } }), { replicas: 1, stoppedReplicas: null });

  const back = readStoredPlan(JSON.parse(JSON.stringify({ kind: 'stop', base: live })), 'd2');
  assert.deepEqual(back, { kind: 'stop', base: live }, 'a stored stop plan reads back as it was');
  const older = JSON.parse(JSON.stringify({ kind: 'start', base: live })) as { base: { config: Record<string, unknown> } };
  delete older.base.config.stoppedReplicas;
  const read = readStoredPlan(older, 'd3');
  assert.equal(read?.kind === 'start' && read.base.config.stoppedReplicas, null, 'a config stored before stop/start reads stoppedReplicas as null');
});

test('a deploy of a stopped service runs slipway.yml\'s count and says the service runs again', () => {
  const cfg = config(STACK);
  const live = release(cfg, 'web', 6);
  const file = { ...cfg.services.web!, replicas: 2 };
  assert.deepEqual(replicasAgainstLive(file, { ...live, config: { ...live.config, replicas: 0, stoppedReplicas: 4 } }), {
    replicas: 2,
    note: 'web was stopped (v6 runs no replica): this deploy starts it again with 2 replica(s) from slipway.yml',
  });
  assert.deepEqual(replicasAgainstLive({ ...file, keepScaledReplicas: true }, { ...live, config: { ...live.config, replicas: 0, stoppedReplicas: 4 } }).replicas, 2, 'replicas: { min } keeps a raised count, never 0');
  assert.deepEqual(replicasAgainstLive(file, { ...live, config: { ...live.config, replicas: 2 } }), { replicas: 2, note: null });
});
