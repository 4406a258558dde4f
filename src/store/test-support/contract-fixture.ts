/**
 * What the Store contract suites (`*-contract.ts`, one per role of the port) share: a fresh
 * migrated store with one project, environment and service, a service config, and assertions.
 */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { ServiceConfig } from '../../core/config';
import { SERVICE_DEFAULTS } from '../../core/stored-service-config';
import { isSlipwayError } from '../../core/errors';
import type { NewDeployment, Store } from '../../core/ports/store';

/** How a contract gets a store: a new, empty, not yet migrated one on every call. */
export type OpenStore = () => Promise<Store>;

export const config: ServiceConfig = {
  ...SERVICE_DEFAULTS,
  name: 'web',
  type: 'web',
  source: { kind: 'build', context: '.', dockerfile: 'Dockerfile', args: { NODE_ENV: 'production' } },
  port: 3000,
  domains: ['a.localhost', 'b.localhost'],
  health: { ...SERVICE_DEFAULTS.health, path: '/health', intervalMs: 500, timeoutMs: 1000, graceMs: 0, successes: 2, deadlineMs: 30_000 },
  replicas: 2,
  deploy: { ...SERVICE_DEFAULTS.deploy, strategy: 'rolling', maxSurge: 1, maxUnavailable: 0, drainTimeoutMs: 10_000, stopTimeoutMs: 5000 },
  env: { A: '1', QUOTES: 'it\'s "quoted" \u00e9\u2603\n' },
  releaseCommand: ['node', 'migrate.js', '--yes'],
  releaseTimeoutMs: 60_000,
};

export const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Asserts a promise rejects with a SlipwayError of the given code. */
export async function rejectsWithCode(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isSlipwayError(err), `expected a SlipwayError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}

/** A migrated store with project `shop`, its `production` environment and service `web`; closed after the test. */
export async function freshStore(open: OpenStore, t: TestContext) {
  const store = await open();
  t.after(() => store.close());
  await store.migrate();
  const project = await store.upsertProject('shop');
  const env = await store.getEnvironment(project.id, 'production');
  assert.ok(env, 'upsertProject creates the production environment');
  const service = await store.upsertService(project.id, 'web', 'web');
  const newDeployment = (over: Partial<NewDeployment> = {}): NewDeployment => ({
    id: randomUUID(),
    serviceId: service.id,
    environmentId: env.id,
    kind: 'deploy',
    previousReleaseId: null,
    releaseId: null,
    ...over,
  });
  const release = (serviceId = service.id, environmentId = env.id) =>
    store.createRelease({ serviceId, environmentId, imageRef: 'shop/web:latest', imageDigest: 'sha256:abc', config, sourceRef: null, secretsVersion: null });
  return { store, project, env, service, newDeployment, release };
}
