/**
 * The Store contract: the behaviour every Store implementation (SQLite now, Postgres later)
 * must have. Register it from a *.test.ts file:
 *
 *   runStoreContract('sqlite file', () => openSqliteStore({ file: tmpFile() }), { openPersistent });
 *
 * `open` must return a new, empty, not yet migrated store on every call. `openPersistent`
 * (optional) must open the same durable store on every call; it enables the reopen test.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AccessoryConfig, ServiceConfig } from '../core/config';
import { SERVICE_DEFAULTS } from '../core/stored-service-config';
import type { DeploymentState } from '../core/domain';
import { isSlipwayError } from '../core/errors';
import type { AccessoryWrite, NewBackup, NewDeployment, Store } from '../core/ports/store';
import { runRequestMetricsContract } from './request-metrics-contract';
import { runResourceStatsContract } from './resource-stats-contract';

export interface StoreContractOptions {
  /** Opens the same durable store (one file, one database) on every call. */
  openPersistent?: () => Promise<Store>;
}

const config: ServiceConfig = {
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

const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Asserts a promise rejects with a SlipwayError of the given code. */
async function rejectsWithCode(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isSlipwayError(err), `expected a SlipwayError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}

export function runStoreContract(name: string, open: () => Promise<Store>, opts: StoreContractOptions = {}): void {
  describe(`Store contract: ${name}`, () => {
    /** A migrated store with project `shop`, its `production` environment and service `web`; closed after the test. */
    async function fresh(t: TestContext) {
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

    describe('migrations', () => {
      test('running migrate twice is a no-op and keeps data', async (t) => {
        const { store, project } = await fresh(t);
        await store.migrate();
        await store.migrate();
        assert.equal((await store.getProject('shop'))?.id, project.id);
      });
    });

    describe('projects', () => {
      test('upsert creates once, returns the same record after, and ensures production', async (t) => {
        const { store, project } = await fresh(t);
        assert.equal(project.name, 'shop');
        assert.match(project.createdAt, ISO_UTC);
        const again = await store.upsertProject('shop');
        assert.deepEqual(again, project);
        assert.deepEqual((await store.listEnvironments(project.id)).map((e) => e.name), ['production']);
        assert.deepEqual(await store.getProject('shop'), project);
        assert.equal(await store.getProject('nope'), null);
      });

      test('list is ordered by name', async (t) => {
        const { store } = await fresh(t);
        await store.upsertProject('zoo');
        await store.upsertProject('acme');
        assert.deepEqual((await store.listProjects()).map((p) => p.name), ['acme', 'shop', 'zoo']);
      });

      test('delete removes the project and everything recorded for it; another project is untouched', async (t) => {
        const { store, project, env, service, newDeployment, release } = await fresh(t);
        const other = await store.upsertProject('blog');
        const otherEnv = (await store.getEnvironment(other.id, 'production'))!;
        const otherService = await store.upsertService(other.id, 'web', 'web');
        const staging = await store.ensureEnvironment(project.id, 'staging');
        const deploymentIds: string[] = [];
        for (const [s, e] of [[service, env], [service, staging], [otherService, otherEnv]] as const) {
          const r = await release(s.id, e.id);
          await store.setCurrentReleaseId(s.id, e.id, r.id);
          const d = await store.createDeployment(newDeployment({ serviceId: s.id, environmentId: e.id, releaseId: r.id }));
          await store.appendLog(d.id, 'info', 'x');
          await store.startStep(d.id, 'build');
          await store.addSecrets({ environmentId: e.id, version: 1, keyId: 'k1', sealed: 'blob', names: {} });
          await store.createJobRun({ serviceId: s.id, environmentId: e.id, releaseId: r.id, note: null, scheduledAt: '2026-01-01T00:00:00.000Z', startedAt: null, status: 'running' });
          deploymentIds.push(d.id);
        }
        for (const name of ['shop', 'blog']) {
          await store.putWebhook({ project: name, repository: 'https://git.example.com/x.git', path: '', keyId: 'k1', sealed: 'sealed', createdBy: 'admin' });
          await store.recordDelivery(name, 'github:1');
          await store.mergeRequestBuckets([{ project: name, env: 'production', service: 'web', release: 1, route: '/', span: 60, start: 1_800_000_000, requests: 1, statusCounts: [0, 1, 0, 0, 0], bytes: 1, durationMsSum: 1, histogram: [1] }]);
          await store.addResourceSamples([{ replica: `${name}-web-1`, project: name, service: 'web', env: 'production', release: 1, at: 1_800_000_000_000, spanMs: 5000, cpuPercent: 1, memoryUsedBytes: 1, memoryLimitBytes: 2, restarts: 0 }], []);
        }
        const bucketsOf = (p: string) => store.listRequestBuckets({ project: p, env: 'production', span: 60, allRoutes: false, from: 0, to: 2_000_000_000 });

        await store.deleteProject(project.id);
        assert.equal(await store.getProject('shop'), null);
        assert.deepEqual((await store.listProjects()).map((p) => p.name), ['blog']);
        assert.deepEqual(await store.listEnvironments(project.id), []);
        assert.deepEqual(await store.listServices(project.id), []);
        assert.equal(await store.getServiceById(service.id), null);
        for (const e of [env, staging]) {
          assert.equal(await store.getSecrets(e.id), null);
          assert.deepEqual(await store.listReleases(service.id, e.id), []);
          assert.deepEqual(await store.listDeployments({ environmentId: e.id }), []);
          assert.deepEqual(await store.listJobRuns({ environmentId: e.id }), []);
        }
        for (const id of deploymentIds.slice(0, 2)) {
          assert.equal(await store.getDeployment(id), null);
          assert.deepEqual(await store.listLogs(id), []);
          assert.deepEqual(await store.listSteps(id), []);
        }
        assert.equal(await store.getWebhook('shop'), null);
        assert.equal(await store.recordDelivery('shop', 'github:1'), true, 'its delivery ids are forgotten');
        assert.deepEqual(await bucketsOf('shop'), []);
        assert.deepEqual(await store.latestReplicaSamples(['shop-web-1']), []);

        // The other project keeps everything.
        assert.ok(await store.getProject('blog'));
        assert.ok(await store.getSecrets(otherEnv.id));
        assert.equal((await store.listReleases(otherService.id, otherEnv.id)).length, 1);
        assert.equal((await store.listLogs(deploymentIds[2]!)).length, 1);
        assert.equal((await store.listJobRuns({ environmentId: otherEnv.id })).length, 1);
        assert.ok(await store.getWebhook('blog'));
        assert.equal(await store.recordDelivery('blog', 'github:1'), false);
        assert.equal((await bucketsOf('blog')).length, 1);
        assert.equal((await store.latestReplicaSamples(['blog-web-1'])).length, 1);

        await rejectsWithCode(store.deleteProject(project.id), 'SLW_NOT_FOUND');
        const again = await store.upsertProject('shop');
        assert.deepEqual((await store.listEnvironments(again.id)).map((e) => e.name), ['production'], 'the name can be used again');
      });
    });

    describe('environments', () => {
      test('ensure is idempotent; get and list', async (t) => {
        const { store, project, env } = await fresh(t);
        assert.equal(env.projectId, project.id);
        assert.match(env.createdAt, ISO_UTC);
        const staging = await store.ensureEnvironment(project.id, 'staging');
        assert.equal(staging.name, 'staging');
        assert.deepEqual(await store.ensureEnvironment(project.id, 'staging'), staging);
        assert.deepEqual(await store.getEnvironment(project.id, 'staging'), staging);
        assert.equal(await store.getEnvironment(project.id, 'nope'), null);
        await store.ensureEnvironment(project.id, 'preview-x');
        assert.deepEqual((await store.listEnvironments(project.id)).map((e) => e.name), ['preview-x', 'production', 'staging']);
      });

      test('names are per project', async (t) => {
        const { store, env } = await fresh(t);
        const other = await store.upsertProject('other');
        const otherProd = await store.getEnvironment(other.id, 'production');
        assert.ok(otherProd);
        assert.notEqual(otherProd.id, env.id);
        assert.deepEqual((await store.listEnvironments(other.id)).map((e) => e.id), [otherProd.id]);
      });

      test('approval is none until set; set persists per environment; a missing one is SLW_NOT_FOUND', async (t) => {
        const { store, project, env } = await fresh(t);
        assert.equal(env.approval, 'none');
        const staging = await store.ensureEnvironment(project.id, 'staging');
        assert.equal(staging.approval, 'none');
        await store.setEnvironmentApproval(env.id, 'required');
        assert.equal((await store.getEnvironment(project.id, 'production'))?.approval, 'required');
        assert.equal((await store.getEnvironment(project.id, 'staging'))?.approval, 'none', 'other environments untouched');
        assert.deepEqual((await store.listEnvironments(project.id)).map((e) => [e.name, e.approval]), [['production', 'required'], ['staging', 'none']]);
        await store.setEnvironmentApproval(env.id, 'none');
        assert.equal((await store.getEnvironment(project.id, 'production'))?.approval, 'none');
        await rejectsWithCode(store.setEnvironmentApproval(999_999, 'required'), 'SLW_NOT_FOUND');
      });

      test('ensure for a missing project is SLW_NOT_FOUND', async (t) => {
        const { store } = await fresh(t);
        await rejectsWithCode(store.ensureEnvironment(999_999, 'staging'), 'SLW_NOT_FOUND');
      });

      test('delete removes its releases, deployments, steps and logs, nothing else', async (t) => {
        const { store, project, env, service, newDeployment, release } = await fresh(t);
        const staging = await store.ensureEnvironment(project.id, 'staging');
        const ids: string[] = [];
        for (const e of [env, staging]) {
          const r = await release(service.id, e.id);
          await store.setCurrentReleaseId(service.id, e.id, r.id);
          const d = await store.createDeployment(newDeployment({ environmentId: e.id, releaseId: r.id }));
          await store.appendLog(d.id, 'info', 'x');
          await store.startStep(d.id, 'build');
          ids.push(d.id);
        }
        await store.deleteEnvironment(staging.id);
        assert.equal(await store.getEnvironment(project.id, 'staging'), null);
        assert.deepEqual(await store.listReleases(service.id, staging.id), []);
        assert.equal(await store.getCurrentReleaseId(service.id, staging.id), null);
        assert.deepEqual(await store.listDeployments({ environmentId: staging.id }), []);
        assert.equal(await store.getDeployment(ids[1]!), null);
        assert.deepEqual(await store.listLogs(ids[1]!), []);
        assert.deepEqual(await store.listSteps(ids[1]!), []);
        // production untouched
        assert.equal((await store.listReleases(service.id, env.id)).length, 1);
        assert.notEqual(await store.getCurrentReleaseId(service.id, env.id), null);
        assert.equal((await store.listDeployments({ environmentId: env.id })).length, 1);
        assert.equal((await store.listLogs(ids[0]!)).length, 1);
        assert.equal((await store.listSteps(ids[0]!)).length, 1);
        assert.ok(await store.getServiceById(service.id), 'services belong to the project, not the environment');
      });
    });

    describe('services', () => {
      test('upsert, get by name and id, list by name', async (t) => {
        const { store, project, service } = await fresh(t);
        assert.equal(service.name, 'web');
        assert.equal(service.type, 'web');
        assert.equal(service.projectId, project.id);
        assert.match(service.createdAt, ISO_UTC);
        assert.deepEqual(await store.upsertService(project.id, 'web', 'web'), service);
        assert.deepEqual(await store.getService(project.id, 'web'), service);
        assert.deepEqual(await store.getServiceById(service.id), service);
        assert.equal(await store.getService(project.id, 'nope'), null);
        assert.equal(await store.getServiceById(999_999), null);
        await store.upsertService(project.id, 'api', 'web');
        assert.deepEqual((await store.listServices(project.id)).map((s) => s.name), ['api', 'web']);
        const other = await store.upsertProject('other');
        assert.deepEqual(await store.listServices(other.id), []);
        await rejectsWithCode(store.upsertService(999_999, 'web', 'web'), 'SLW_NOT_FOUND');
      });
    });

    describe('releases', () => {
      test('numbers count per service and environment, independently', async (t) => {
        const { store, project, env, service, release } = await fresh(t);
        const staging = await store.ensureEnvironment(project.id, 'staging');
        const worker = await store.upsertService(project.id, 'worker', 'web');
        assert.equal((await release(service.id, env.id)).number, 1);
        assert.equal((await release(service.id, env.id)).number, 2);
        assert.equal((await release(service.id, staging.id)).number, 1);
        assert.equal((await release(worker.id, env.id)).number, 1);
        assert.equal((await release(service.id, env.id)).number, 3);
        assert.equal((await release(worker.id, staging.id)).number, 1);
        assert.equal((await release(service.id, staging.id)).number, 2);
      });

      test('concurrent creation yields distinct consecutive numbers', async (t) => {
        const { release } = await fresh(t);
        const made = await Promise.all(range(1, 20).map(() => release()));
        assert.deepEqual(made.map((r) => r.number).sort((a, b) => a - b), range(1, 20));
      });

      test('fields and JSON config round-trip; get by id and number', async (t) => {
        const { store, env, service } = await fresh(t);
        const r = await store.createRelease({
          serviceId: service.id,
          environmentId: env.id,
          imageRef: 'shop/web:abc',
          imageDigest: 'sha256:0123',
          config,
          sourceRef: 'git:deadbeef',
          secretsVersion: 3,
        });
        assert.equal(r.serviceId, service.id);
        assert.equal(r.environmentId, env.id);
        assert.equal(r.imageRef, 'shop/web:abc');
        assert.equal(r.imageDigest, 'sha256:0123');
        assert.equal(r.sourceRef, 'git:deadbeef');
        assert.equal(r.secretsVersion, 3);
        assert.deepEqual(r.config, config);
        assert.match(r.createdAt, ISO_UTC);
        assert.deepEqual(await store.getRelease(r.id), r);
        assert.deepEqual(await store.getReleaseByNumber(service.id, env.id, 1), r);
        assert.equal(await store.getReleaseByNumber(service.id, env.id, 2), null);
        assert.equal(await store.getRelease(999_999), null);
      });

      test('list is newest first; limit', async (t) => {
        const { store, project, env, service, release } = await fresh(t);
        for (let i = 0; i < 5; i++) await release();
        await release(service.id, (await store.ensureEnvironment(project.id, 'staging')).id);
        assert.deepEqual((await store.listReleases(service.id, env.id)).map((r) => r.number), [5, 4, 3, 2, 1]);
        assert.deepEqual((await store.listReleases(service.id, env.id, 2)).map((r) => r.number), [5, 4]);
        assert.deepEqual(await store.listReleases(service.id, env.id, 0), []);
        await rejectsWithCode(store.listReleases(service.id, env.id, -1), 'SLW_BAD_REQUEST');
      });

      test('creating for a missing service or environment is SLW_NOT_FOUND', async (t) => {
        const { env, service, release } = await fresh(t);
        await rejectsWithCode(release(999_999, env.id), 'SLW_NOT_FOUND');
        await rejectsWithCode(release(service.id, 999_999), 'SLW_NOT_FOUND');
      });

      test('current release per service+environment: unset, set, replace, clear', async (t) => {
        const { store, project, env, service, release } = await fresh(t);
        const staging = await store.ensureEnvironment(project.id, 'staging');
        const [r1, r2] = [await release(), await release()];
        const s1 = await release(service.id, staging.id);
        assert.equal(await store.getCurrentReleaseId(service.id, env.id), null);
        await store.setCurrentReleaseId(service.id, env.id, r1.id);
        await store.setCurrentReleaseId(service.id, staging.id, s1.id);
        assert.equal(await store.getCurrentReleaseId(service.id, env.id), r1.id);
        assert.deepEqual(await store.getCurrentRelease(service.id, env.id), r1);
        assert.equal(await store.getCurrentRelease(service.id, env.id + 1000), null, "no environment, no release");
        await store.setCurrentReleaseId(service.id, env.id, r2.id);
        assert.equal(await store.getCurrentReleaseId(service.id, env.id), r2.id);
        assert.equal(await store.getCurrentReleaseId(service.id, staging.id), s1.id);
        await store.setCurrentReleaseId(service.id, env.id, null);
        assert.equal(await store.getCurrentReleaseId(service.id, env.id), null);
      });

      test('current releases of an environment in one read', async (t) => {
        const { store, project, env, service, release } = await fresh(t);
        const staging = await store.ensureEnvironment(project.id, 'staging');
        const worker = await store.upsertService(project.id, 'worker', 'web');
        const idle = await store.upsertService(project.id, 'idle', 'web');
        assert.deepEqual(await store.listCurrentReleases(env.id), []);
        const [, r2] = [await release(), await release()];
        const w1 = await release(worker.id, env.id);
        const s1 = await release(service.id, staging.id);
        await release(idle.id, env.id); // created, never live
        await store.setCurrentReleaseId(service.id, env.id, r2.id);
        await store.setCurrentReleaseId(worker.id, env.id, w1.id);
        await store.setCurrentReleaseId(service.id, staging.id, s1.id);
        const live = await store.listCurrentReleases(env.id);
        assert.deepEqual(live.map((r) => r.id).sort((a, b) => a - b), [r2.id, w1.id]);
        assert.deepEqual(live.find((r) => r.id === r2.id), await store.getRelease(r2.id), 'whole releases, config included');
        assert.deepEqual((await store.listCurrentReleases(staging.id)).map((r) => r.id), [s1.id]);
      });
    });

    describe('deployments', () => {
      test('created queued with the given fields', async (t) => {
        const { store, env, service, newDeployment, release } = await fresh(t);
        const r = await release();
        const input = newDeployment({ kind: 'rollback', releaseId: r.id, previousReleaseId: r.id });
        const d = await store.createDeployment(input);
        assert.equal(d.id, input.id);
        assert.equal(d.serviceId, service.id);
        assert.equal(d.environmentId, env.id);
        assert.equal(d.kind, 'rollback');
        assert.equal(d.state, 'queued');
        assert.equal(d.releaseId, r.id);
        assert.equal(d.previousReleaseId, r.id);
        assert.equal(d.errorCode, null);
        assert.equal(d.error, null);
        assert.match(d.createdAt, ISO_UTC);
        assert.equal(d.startedAt, null);
        assert.equal(d.finishedAt, null);
        assert.deepEqual(await store.getDeployment(d.id), d);
        assert.equal(await store.getDeployment(randomUUID()), null);
        await rejectsWithCode(store.createDeployment(newDeployment({ serviceId: 999_999 })), 'SLW_NOT_FOUND');
        await rejectsWithCode(store.createDeployment(newDeployment({ environmentId: 999_999 })), 'SLW_NOT_FOUND');
      });

      test('update applies only the given fields; null clears; unknown id is SLW_NOT_FOUND', async (t) => {
        const { store, newDeployment, release } = await fresh(t);
        const d = await store.createDeployment(newDeployment());
        const r = await release();
        const startedAt = new Date().toISOString();
        const a = await store.updateDeployment(d.id, { state: 'building', startedAt });
        assert.deepEqual(a, { ...d, state: 'building', startedAt });
        const b = await store.updateDeployment(d.id, { releaseId: r.id, state: 'rolling' });
        assert.deepEqual(b, { ...a, releaseId: r.id, state: 'rolling' });
        const finishedAt = new Date().toISOString();
        const c = await store.updateDeployment(d.id, { state: 'failed', errorCode: 'SLW_HEALTH_FAILED', error: 'boom', finishedAt });
        assert.deepEqual(c, { ...b, state: 'failed', errorCode: 'SLW_HEALTH_FAILED', error: 'boom', finishedAt });
        assert.deepEqual(await store.updateDeployment(d.id, {}), c, 'an empty patch changes nothing');
        const cleared = await store.updateDeployment(d.id, { errorCode: null, error: null });
        assert.equal(cleared.errorCode, null);
        assert.equal(cleared.error, null);
        assert.deepEqual(await store.getDeployment(d.id), cleared);
        await rejectsWithCode(store.updateDeployment(randomUUID(), { state: 'failed' }), 'SLW_NOT_FOUND');
        await rejectsWithCode(store.updateDeployment(randomUUID(), {}), 'SLW_NOT_FOUND');
      });

      test('list: newest first (even within one millisecond), filters, limit', async (t) => {
        const { store, project, env, service, newDeployment } = await fresh(t);
        const staging = await store.ensureEnvironment(project.id, 'staging');
        const worker = await store.upsertService(project.id, 'worker', 'web');
        const ids: string[] = [];
        for (let i = 0; i < 6; i++) ids.push((await store.createDeployment(newDeployment())).id);
        const stagingId = (await store.createDeployment(newDeployment({ environmentId: staging.id }))).id;
        const workerId = (await store.createDeployment(newDeployment({ serviceId: worker.id }))).id;
        await store.updateDeployment(ids[0]!, { state: 'succeeded' });
        await store.updateDeployment(ids[1]!, { state: 'failed' });
        await store.updateDeployment(ids[2]!, { state: 'rolling' });

        const all = await store.listDeployments({});
        assert.deepEqual(all.map((d) => d.id), [workerId, stagingId, ...[...ids].reverse()]);
        assert.deepEqual((await store.listDeployments({ serviceId: service.id })).map((d) => d.id), [stagingId, ...[...ids].reverse()]);
        assert.deepEqual((await store.listDeployments({ environmentId: staging.id })).map((d) => d.id), [stagingId]);
        assert.deepEqual((await store.listDeployments({ serviceId: worker.id, environmentId: staging.id })).map((d) => d.id), []);
        const active: DeploymentState[] = ['queued', 'building', 'releasing', 'rolling'];
        assert.deepEqual(
          (await store.listDeployments({ serviceId: service.id, environmentId: env.id, states: active })).map((d) => d.id),
          [ids[5], ids[4], ids[3], ids[2]],
        );
        assert.deepEqual((await store.listDeployments({ states: ['succeeded', 'failed'] })).map((d) => d.id), [ids[1], ids[0]]);
        assert.deepEqual((await store.listDeployments({ states: ['cancelled'] })).map((d) => d.id), []);
        assert.deepEqual((await store.listDeployments({ limit: 3 })).map((d) => d.id), all.slice(0, 3).map((d) => d.id));
        assert.deepEqual(await store.listDeployments({ limit: 0 }), []);
        await rejectsWithCode(store.listDeployments({ limit: 1.5 }), 'SLW_BAD_REQUEST');
      });

      test('recent deployments: the newest N of each service in an environment, newest first', async (t) => {
        const { store, project, env, newDeployment } = await fresh(t);
        const staging = await store.ensureEnvironment(project.id, 'staging');
        const worker = await store.upsertService(project.id, 'worker', 'web');
        const web: string[] = [];
        const wrk: string[] = [];
        for (let i = 0; i < 4; i++) {
          web.push((await store.createDeployment(newDeployment())).id);
          if (i < 2) wrk.push((await store.createDeployment(newDeployment({ serviceId: worker.id }))).id);
        }
        await store.createDeployment(newDeployment({ environmentId: staging.id }));
        const recent = await store.listRecentDeployments(env.id, 3);
        const all = (await store.listDeployments({ environmentId: env.id })).map((d) => d.id);
        // The same order as listDeployments, keeping three of web and both of worker.
        assert.deepEqual(recent.map((d) => d.id), all.filter((id) => web.slice(1).includes(id) || wrk.includes(id)));
        assert.deepEqual(recent.find((d) => d.id === web[3]), await store.getDeployment(web[3]!), 'whole deployments');
        assert.deepEqual((await store.listRecentDeployments(env.id, 1)).map((d) => d.id), [web[3], wrk[1]].sort((a, b) => all.indexOf(a!) - all.indexOf(b!)));
        assert.deepEqual(await store.listRecentDeployments(env.id, 0), []);
        await rejectsWithCode(store.listRecentDeployments(env.id, -1), 'SLW_BAD_REQUEST');
      });

      test('newest first also when created in different milliseconds', async (t) => {
        const { store, newDeployment } = await fresh(t);
        const a = await store.createDeployment(newDeployment());
        await sleep(5);
        const b = await store.createDeployment(newDeployment());
        assert.ok(b.createdAt > a.createdAt);
        assert.deepEqual((await store.listDeployments({})).map((d) => d.id), [b.id, a.id]);
      });
    });

    describe('steps', () => {
      test('numbered per deployment; finish records status, time and detail', async (t) => {
        const { store, newDeployment } = await fresh(t);
        const d = await store.createDeployment(newDeployment());
        const other = await store.createDeployment(newDeployment());
        const s1 = await store.startStep(d.id, 'build', 'context 3 MB');
        const s2 = await store.startStep(d.id, 'release');
        const s3 = await store.startStep(d.id, 'rollout');
        assert.deepEqual([s1, s2, s3], [1, 2, 3]);
        assert.equal(await store.startStep(other.id, 'build'), 1, 'seq is per deployment');
        await store.finishStep(d.id, s1, 'done');
        await store.finishStep(d.id, s2, 'failed', 'exit 1');
        const steps = await store.listSteps(d.id);
        assert.deepEqual(
          steps.map((s) => [s.deploymentId, s.seq, s.name, s.status, s.detail]),
          [
            [d.id, 1, 'build', 'done', 'context 3 MB'],
            [d.id, 2, 'release', 'failed', 'exit 1'],
            [d.id, 3, 'rollout', 'running', null],
          ],
        );
        for (const s of steps) assert.match(s.startedAt, ISO_UTC);
        assert.match(steps[0]!.finishedAt ?? '', ISO_UTC);
        assert.match(steps[1]!.finishedAt ?? '', ISO_UTC);
        assert.equal(steps[2]!.finishedAt, null);
        assert.deepEqual(await store.listSteps(randomUUID()), []);
      });

      test('concurrent starts get distinct seqs; unknown deployment or step is SLW_NOT_FOUND', async (t) => {
        const { store, newDeployment } = await fresh(t);
        const d = await store.createDeployment(newDeployment());
        const seqs = await Promise.all(range(1, 20).map((i) => store.startStep(d.id, `step ${i}`)));
        assert.deepEqual([...seqs].sort((a, b) => a - b), range(1, 20));
        await rejectsWithCode(store.startStep(randomUUID(), 'build'), 'SLW_NOT_FOUND');
        await rejectsWithCode(store.finishStep(d.id, 99, 'done'), 'SLW_NOT_FOUND');
      });
    });

    describe('logs', () => {
      test('50 concurrent appends get seq 1..50 without duplicates', async (t) => {
        const { store, newDeployment } = await fresh(t);
        const d = await store.createDeployment(newDeployment());
        const lines = await Promise.all(range(1, 50).map((i) => store.appendLog(d.id, 'info', `line ${i}`)));
        assert.deepEqual(lines.map((l) => l.seq).sort((a, b) => a - b), range(1, 50));
        const listed = await store.listLogs(d.id);
        assert.deepEqual(listed.map((l) => l.seq), range(1, 50), 'listed oldest first');
        assert.equal(new Set(listed.map((l) => l.message)).size, 50, 'every line stored once');
        for (const l of lines) assert.deepEqual(listed[l.seq - 1], l, 'returned line equals the stored one');
      });

      test('fields round-trip; afterSeq; per deployment', async (t) => {
        const { store, newDeployment } = await fresh(t);
        const d = await store.createDeployment(newDeployment());
        const other = await store.createDeployment(newDeployment());
        const a = await store.appendLog(d.id, 'info', 'building');
        const b = await store.appendLog(d.id, 'warn', 'slow health check: "200" after 3 s \u2603');
        const c = await store.appendLog(d.id, 'error', 'failed');
        assert.equal((await store.appendLog(other.id, 'info', 'x')).seq, 1, 'seq is per deployment');
        assert.deepEqual(a, { deploymentId: d.id, seq: 1, level: 'info', message: 'building', at: a.at });
        assert.match(a.at, ISO_UTC);
        assert.deepEqual(await store.listLogs(d.id), [a, b, c]);
        assert.deepEqual(await store.listLogs(d.id, 0), [a, b, c]);
        assert.deepEqual(await store.listLogs(d.id, 1), [b, c]);
        assert.deepEqual(await store.listLogs(d.id, 3), []);
        assert.deepEqual(await store.listLogs(randomUUID()), []);
        await rejectsWithCode(store.appendLog(randomUUID(), 'info', 'x'), 'SLW_NOT_FOUND');
      });
    });

    describe('leases', () => {
      test('exclusive while held; the holder renews; release frees', async (t) => {
        const { store } = await fresh(t);
        assert.equal(await store.getLease('k'), null);
        assert.equal(await store.acquireLease('k', 'a', 10_000), true);
        const first = await store.getLease('k');
        assert.equal(first?.holder, 'a');
        assert.match(first?.expiresAt ?? '', ISO_UTC);
        assert.equal(await store.acquireLease('k', 'b', 10_000), false);
        assert.equal((await store.getLease('k'))?.holder, 'a', 'a refused acquire changes nothing');
        await sleep(5);
        assert.equal(await store.acquireLease('k', 'a', 20_000), true, 'the holder renews');
        assert.ok((await store.getLease('k'))!.expiresAt > first!.expiresAt, 'renewal extends the expiry');
        await store.releaseLease('k', 'b'); // not the holder: no effect
        assert.equal((await store.getLease('k'))?.holder, 'a');
        assert.equal(await store.acquireLease('other', 'b', 10_000), true, 'keys are independent');
        await store.releaseLease('k', 'a');
        assert.equal(await store.getLease('k'), null);
        assert.equal(await store.acquireLease('k', 'b', 10_000), true, 'a released lease can be taken');
      });

      test('an expired lease reads as free and can be taken by another holder', async (t) => {
        const { store } = await fresh(t);
        assert.equal(await store.acquireLease('k', 'a', 20), true);
        await sleep(40);
        assert.equal(await store.getLease('k'), null);
        assert.equal(await store.acquireLease('k', 'b', 10_000), true);
        assert.equal((await store.getLease('k'))?.holder, 'b');
        assert.equal(await store.acquireLease('k', 'a', 10_000), false);
      });

      test('exactly one of many concurrent acquirers wins', async (t) => {
        const { store } = await fresh(t);
        const holders = range(1, 10).map((i) => `h${i}`);
        const results = await Promise.all(holders.map((h) => store.acquireLease('race', h, 10_000)));
        assert.equal(results.filter(Boolean).length, 1);
        assert.equal((await store.getLease('race'))?.holder, holders[results.indexOf(true)]);
      });

      test('a non-positive ttl is refused', async (t) => {
        const { store } = await fresh(t);
        await assert.rejects(store.acquireLease('k', 'a', 0));
        await assert.rejects(store.acquireLease('k', 'a', Number.NaN));
      });
    });

    describe('secrets', () => {
      const names = { API_KEY: { version: 1, updatedAt: '2026-01-01T00:00:00.000Z' } };
      test('none until added; newest or a given version; versions are per environment', async (t) => {
        const { store, project, env } = await fresh(t);
        assert.equal(await store.getSecrets(env.id), null);
        const v1 = await store.addSecrets({ environmentId: env.id, version: 1, keyId: 'k1', sealed: 'blob-1', names });
        assert.match(v1.createdAt, ISO_UTC);
        assert.deepEqual(v1.names, names);
        await store.addSecrets({ environmentId: env.id, version: 2, keyId: 'k1', sealed: 'blob-2', names: {} });
        assert.equal((await store.getSecrets(env.id))?.sealed, 'blob-2');
        assert.equal((await store.getSecrets(env.id, 1))?.sealed, 'blob-1');
        assert.equal(await store.getSecrets(env.id, 7), null);
        const staging = await store.ensureEnvironment(project.id, 'staging');
        assert.equal(await store.getSecrets(staging.id), null);
        await store.addSecrets({ environmentId: staging.id, version: 1, keyId: 'k1', sealed: 'blob-s', names });
        assert.equal((await store.listAllSecrets()).length, 3);
      });

      test('adding an existing version is a conflict and changes nothing', async (t) => {
        const { store, env } = await fresh(t);
        await store.addSecrets({ environmentId: env.id, version: 1, keyId: 'k1', sealed: 'first', names });
        await rejectsWithCode(store.addSecrets({ environmentId: env.id, version: 1, keyId: 'k1', sealed: 'second', names }), 'SLW_CONFLICT');
        assert.equal((await store.getSecrets(env.id))?.sealed, 'first');
        await rejectsWithCode(store.addSecrets({ environmentId: 9999, version: 1, keyId: 'k1', sealed: 'x', names }), 'SLW_NOT_FOUND');
      });

      test('reseal replaces seals atomically; a missing version rolls the whole batch back', async (t) => {
        const { store, env } = await fresh(t);
        await store.addSecrets({ environmentId: env.id, version: 1, keyId: 'old', sealed: 'a', names });
        await store.addSecrets({ environmentId: env.id, version: 2, keyId: 'old', sealed: 'b', names });
        await rejectsWithCode(
          store.resealSecrets([
            { environmentId: env.id, version: 1, keyId: 'new', sealed: 'A' },
            { environmentId: env.id, version: 5, keyId: 'new', sealed: 'X' },
          ]),
          'SLW_NOT_FOUND',
        );
        assert.equal((await store.getSecrets(env.id, 1))?.keyId, 'old');
        await store.resealSecrets([
          { environmentId: env.id, version: 1, keyId: 'new', sealed: 'A' },
          { environmentId: env.id, version: 2, keyId: 'new', sealed: 'B' },
        ]);
        assert.deepEqual((await store.listAllSecrets()).map((s) => [s.version, s.keyId, s.sealed]), [[1, 'new', 'A'], [2, 'new', 'B']]);
      });

      test('destroying an environment deletes its secrets', async (t) => {
        const { store, env } = await fresh(t);
        await store.addSecrets({ environmentId: env.id, version: 1, keyId: 'k', sealed: 's', names });
        await store.deleteEnvironment(env.id);
        assert.deepEqual(await store.listAllSecrets(), []);
      });
    });

    describe('backups', () => {
      const newBackup = (environmentId: number, id: string, over: Partial<NewBackup> = {}): NewBackup => ({
        id,
        environmentId,
        accessory: 'db',
        type: 'full',
        trigger: 'manual',
        deploymentId: null,
        triggeredBy: 'alice',
        ...over,
      });

      test('a backup starts running; its outcome, counts and verification round-trip', async (t) => {
        const { store, env } = await fresh(t);
        const b = await store.createBackup(newBackup(env.id, 'b1'));
        assert.equal(b.state, 'running');
        assert.match(b.startedAt, ISO_UTC);
        assert.deepEqual([b.label, b.finishedAt, b.tableCounts, b.verification, b.expiredAt], [null, null, null, null, null]);
        const verification = { state: 'passed' as const, startedAt: new Date().toISOString(), finishedAt: new Date().toISOString(), durationMs: 1200, checks: [{ name: 'rows', ok: true, detail: 'public.orders 10000' }], error: null };
        const done = await store.updateBackup('b1', { state: 'succeeded', label: '20261207-102339F', restorePoint: 'slipway-b1', sizeBytes: 2 ** 40, storedBytes: 3_077_615, walStart: '000000010000000000000002', walStop: '000000010000000000000002', tableCounts: { 'public.orders': 10_000 }, finishedAt: new Date().toISOString(), verification });
        assert.equal(done.state, 'succeeded');
        assert.equal(done.sizeBytes, 2 ** 40, 'sizes beyond 32 bits');
        assert.deepEqual(done.tableCounts, { 'public.orders': 10_000 });
        assert.deepEqual(done.verification, verification);
        assert.deepEqual(await store.getBackup('b1'), done);
        await rejectsWithCode(store.updateBackup('nope', { state: 'failed' }), 'SLW_NOT_FOUND');
        await rejectsWithCode(store.createBackup(newBackup(9999, 'b2')), 'SLW_NOT_FOUND');
      });

      test('listing: newest first, by accessory, state and deployment; expired ones only when asked; deleted with the environment', async (t) => {
        const { store, env } = await fresh(t);
        await store.createBackup(newBackup(env.id, 'a'));
        await new Promise((r) => setTimeout(r, 5));
        await store.createBackup(newBackup(env.id, 'b', { accessory: 'other', trigger: 'release', deploymentId: 'd1' }));
        await new Promise((r) => setTimeout(r, 5));
        await store.createBackup(newBackup(env.id, 'c'));
        await store.updateBackup('c', { state: 'failed', error: 'boom' });
        assert.deepEqual((await store.listBackups({ environmentId: env.id })).map((b) => b.id), ['c', 'b', 'a']);
        assert.deepEqual((await store.listBackups({ environmentId: env.id, accessory: 'db' })).map((b) => b.id), ['c', 'a']);
        assert.deepEqual((await store.listBackups({ states: ['running'] })).map((b) => b.id), ['b', 'a']);
        assert.deepEqual((await store.listBackups({ deploymentId: 'd1' })).map((b) => b.id), ['b']);
        assert.deepEqual((await store.listBackups({ environmentId: env.id, limit: 1 })).map((b) => b.id), ['c']);
        await store.updateBackup('a', { expiredAt: new Date().toISOString() });
        assert.deepEqual((await store.listBackups({ environmentId: env.id })).map((b) => b.id), ['c', 'b']);
        assert.deepEqual((await store.listBackups({ environmentId: env.id, expired: true })).map((b) => b.id), ['c', 'b', 'a']);
        await store.deleteEnvironment(env.id);
        assert.deepEqual(await store.listBackups({ expired: true }), []);
      });
    });

    describe('applied migrations', () => {
      test('recorded per service and environment, by name; recording again keeps them; deleted with the environment', async (t) => {
        const { store, project, env, service } = await fresh(t);
        const staging = await store.ensureEnvironment(project.id, 'staging');
        const worker = await store.upsertService(project.id, 'worker', 'worker');
        assert.deepEqual(await store.listAppliedMigrations(service.id, env.id), []);
        await store.recordAppliedMigrations(service.id, env.id, ['0002_b.sql', '0001_a.sql']);
        await store.recordAppliedMigrations(service.id, env.id, ['0001_a.sql', '0003_c.sql']);
        await store.recordAppliedMigrations(service.id, env.id, []);
        assert.deepEqual(await store.listAppliedMigrations(service.id, env.id), ['0001_a.sql', '0002_b.sql', '0003_c.sql']);
        await store.recordAppliedMigrations(service.id, staging.id, ['0001_a.sql']);
        assert.deepEqual(await store.listAppliedMigrations(service.id, staging.id), ['0001_a.sql']);
        assert.deepEqual(await store.listAppliedMigrations(worker.id, env.id), [], 'per service');
        const many = range(1, 450).map((n) => `${String(n).padStart(4, '0')}.sql`);
        await store.recordAppliedMigrations(worker.id, env.id, many);
        assert.deepEqual(await store.listAppliedMigrations(worker.id, env.id), many);
        await rejectsWithCode(store.recordAppliedMigrations(999_999, env.id, ['x.sql']), 'SLW_NOT_FOUND');
        await rejectsWithCode(store.recordAppliedMigrations(service.id, 999_999, ['x.sql']), 'SLW_NOT_FOUND');
        await store.deleteEnvironment(staging.id);
        assert.deepEqual(await store.listAppliedMigrations(service.id, staging.id), []);
        assert.equal((await store.listAppliedMigrations(service.id, env.id)).length, 3, 'production untouched');
        await store.deleteProject(project.id);
        assert.deepEqual(await store.listAppliedMigrations(service.id, env.id), []);
      });
    });

    describe('accessories', () => {
      const dbConfig = (over: Partial<AccessoryConfig> = {}): AccessoryConfig => ({
        name: 'db',
        kind: 'postgres',
        image: 'slipway/postgres:15',
        builtIn: true,
        version: '15',
        port: 5432,
        volumes: [{ volume: 'data', path: '/var/lib/postgresql/data', readOnly: false }],
        env: { TZ: 'UTC', QUOTES: 'it\'s "quoted" \u00e9' },
        command: null,
        health: { kind: 'exec', path: null, port: null, command: ['pg_isready', '-q'], intervalMs: 500, timeoutMs: 5000, deadlineMs: 120_000 },
        resources: { memoryBytes: 512 * 1024 * 1024, cpus: 0.5 },
        stopTimeoutMs: 10_000,
        database: 'shop',
        ...over,
      });
      const write = (environmentId: number, over: Partial<AccessoryWrite> = {}): AccessoryWrite => ({
        environmentId,
        name: 'db',
        kind: 'postgres',
        config: dbConfig(),
        imageDigest: 'sha256:pg1',
        specHash: 'hash-1',
        ...over,
      });

      test('save creates, then updates by environment and name keeping id, created_at and the credentials version', async (t) => {
        const { store, env } = await fresh(t);
        assert.deepEqual(await store.listAccessories(env.id), []);
        assert.equal(await store.getAccessory(env.id, 'db'), null);
        const created = await store.saveAccessory(write(env.id));
        assert.equal(created.environmentId, env.id);
        assert.equal(created.name, 'db');
        assert.equal(created.kind, 'postgres');
        assert.deepEqual(created.config, dbConfig(), 'the JSON config round-trips');
        assert.equal(created.imageDigest, 'sha256:pg1');
        assert.equal(created.specHash, 'hash-1');
        assert.equal(created.credentialsVersion, 0);
        assert.match(created.createdAt, ISO_UTC);
        assert.equal(created.updatedAt, created.createdAt);
        assert.deepEqual(await store.getAccessory(env.id, 'db'), created);

        await store.addAccessoryCredentials(created.id, { keyId: 'k1', sealed: 'creds-1' });
        await sleep(2);
        const changed = dbConfig({ version: '16', image: 'postgres:16', builtIn: false });
        const updated = await store.saveAccessory(write(env.id, { config: changed, imageDigest: 'sha256:pg2', specHash: 'hash-2' }));
        assert.equal(updated.id, created.id);
        assert.equal(updated.createdAt, created.createdAt);
        assert.ok(updated.updatedAt > created.updatedAt, 'updated_at moves');
        assert.deepEqual(updated.config, changed);
        assert.equal(updated.imageDigest, 'sha256:pg2');
        assert.equal(updated.specHash, 'hash-2');
        assert.equal(updated.credentialsVersion, 1, 'saving keeps the credentials version');
        assert.equal((await store.listAccessories(env.id)).length, 1);
      });

      test('listed by name per environment, or all of them; saving for a missing environment is SLW_NOT_FOUND', async (t) => {
        const { store, project, env } = await fresh(t);
        const staging = await store.ensureEnvironment(project.id, 'staging');
        await store.saveAccessory(write(env.id, { name: 'cache', kind: 'redis', config: dbConfig({ name: 'cache', kind: 'redis' }) }));
        await store.saveAccessory(write(env.id));
        await store.saveAccessory(write(staging.id));
        assert.deepEqual((await store.listAccessories(env.id)).map((a) => a.name), ['cache', 'db']);
        assert.deepEqual((await store.listAccessories(staging.id)).map((a) => [a.environmentId, a.name]), [[staging.id, 'db']]);
        assert.notEqual((await store.getAccessory(staging.id, 'db'))?.id, (await store.getAccessory(env.id, 'db'))?.id, 'one record per environment');
        const all = await store.listAccessories();
        assert.equal(all.length, 3);
        assert.deepEqual(new Set(all.map((a) => a.environmentId)), new Set([env.id, staging.id]));
        await rejectsWithCode(store.saveAccessory(write(999_999)), 'SLW_NOT_FOUND');
      });

      test('credentials: versions count per accessory, each add becomes current; given or current version; none is null', async (t) => {
        const { store, project, env } = await fresh(t);
        const db = await store.saveAccessory(write(env.id));
        const staging = await store.ensureEnvironment(project.id, 'staging');
        const other = await store.saveAccessory(write(staging.id));
        assert.equal(await store.getAccessoryCredentials(db.id), null, 'no credentials yet');
        assert.equal(await store.getAccessoryCredentials(db.id, 1), null);
        const v1 = await store.addAccessoryCredentials(db.id, { keyId: 'k1', sealed: 'one' });
        assert.deepEqual({ ...v1, createdAt: '' }, { accessoryId: db.id, version: 1, keyId: 'k1', sealed: 'one', createdAt: '' });
        assert.match(v1.createdAt, ISO_UTC);
        assert.equal((await store.getAccessory(env.id, 'db'))?.credentialsVersion, 1);
        const v2 = await store.addAccessoryCredentials(db.id, { keyId: 'k1', sealed: 'two' });
        assert.equal(v2.version, 2);
        assert.equal((await store.getAccessory(env.id, 'db'))?.credentialsVersion, 2);
        assert.equal((await store.getAccessoryCredentials(db.id))?.sealed, 'two');
        assert.equal((await store.getAccessoryCredentials(db.id, 1))?.sealed, 'one', 'older versions stay readable (pinned releases)');
        assert.equal(await store.getAccessoryCredentials(db.id, 3), null);
        assert.equal((await store.addAccessoryCredentials(other.id, { keyId: 'k1', sealed: 'staging' })).version, 1, 'versions are per accessory');
        assert.equal(await store.getAccessoryCredentials(999_999), null);
        await rejectsWithCode(store.addAccessoryCredentials(999_999, { keyId: 'k1', sealed: 'x' }), 'SLW_NOT_FOUND');
        assert.deepEqual((await store.listAllAccessoryCredentials()).map((c) => [c.accessoryId, c.version, c.sealed]), [[db.id, 1, 'one'], [db.id, 2, 'two'], [other.id, 1, 'staging']]);
      });

      test('concurrent credential adds get distinct consecutive versions; the current one is the last', async (t) => {
        const { store, env } = await fresh(t);
        const db = await store.saveAccessory(write(env.id));
        const added = await Promise.all(range(1, 10).map((i) => store.addAccessoryCredentials(db.id, { keyId: 'k', sealed: `s${i}` })));
        assert.deepEqual(added.map((c) => c.version).sort((a, b) => a - b), range(1, 10));
        assert.equal((await store.getAccessory(env.id, 'db'))?.credentialsVersion, 10);
        assert.equal((await store.getAccessoryCredentials(db.id))?.version, 10);
      });

      test('reseal replaces seals atomically; a missing version rolls the whole batch back', async (t) => {
        const { store, env } = await fresh(t);
        const db = await store.saveAccessory(write(env.id));
        await store.addAccessoryCredentials(db.id, { keyId: 'old', sealed: 'a' });
        await store.addAccessoryCredentials(db.id, { keyId: 'old', sealed: 'b' });
        await rejectsWithCode(
          store.resealAccessoryCredentials([
            { accessoryId: db.id, version: 1, keyId: 'new', sealed: 'A' },
            { accessoryId: db.id, version: 9, keyId: 'new', sealed: 'X' },
          ]),
          'SLW_NOT_FOUND',
        );
        assert.equal((await store.getAccessoryCredentials(db.id, 1))?.keyId, 'old');
        await store.resealAccessoryCredentials([
          { accessoryId: db.id, version: 1, keyId: 'new', sealed: 'A' },
          { accessoryId: db.id, version: 2, keyId: 'new', sealed: 'B' },
        ]);
        assert.deepEqual((await store.listAllAccessoryCredentials()).map((c) => [c.version, c.keyId, c.sealed]), [[1, 'new', 'A'], [2, 'new', 'B']]);
        assert.equal((await store.getAccessory(env.id, 'db'))?.credentialsVersion, 2, 'resealing keeps the current version');
      });

      test('delete removes the record and its credentials only; deleting again is a no-op', async (t) => {
        const { store, env } = await fresh(t);
        const db = await store.saveAccessory(write(env.id));
        const cache = await store.saveAccessory(write(env.id, { name: 'cache' }));
        await store.addAccessoryCredentials(db.id, { keyId: 'k', sealed: 'db' });
        await store.addAccessoryCredentials(cache.id, { keyId: 'k', sealed: 'cache' });
        await store.deleteAccessory(db.id);
        assert.equal(await store.getAccessory(env.id, 'db'), null);
        assert.equal(await store.getAccessoryCredentials(db.id, 1), null);
        assert.deepEqual((await store.listAllAccessoryCredentials()).map((c) => c.sealed), ['cache']);
        await store.deleteAccessory(db.id);
        const again = await store.saveAccessory(write(env.id));
        assert.equal(again.credentialsVersion, 0, 'a new record starts without credentials');
        assert.equal((await store.addAccessoryCredentials(again.id, { keyId: 'k', sealed: 'x' })).version, 1);
      });

      test('destroying an environment or deleting the project deletes its accessories and their credentials, nothing else', async (t) => {
        const { store, project, env } = await fresh(t);
        const staging = await store.ensureEnvironment(project.id, 'staging');
        const other = await store.upsertProject('blog');
        const otherEnv = (await store.getEnvironment(other.id, 'production'))!;
        for (const e of [env, staging, otherEnv]) {
          const a = await store.saveAccessory(write(e.id));
          await store.addAccessoryCredentials(a.id, { keyId: 'k', sealed: `env-${e.id}` });
        }
        await store.deleteEnvironment(staging.id);
        assert.deepEqual(await store.listAccessories(staging.id), []);
        assert.deepEqual((await store.listAllAccessoryCredentials()).map((c) => c.sealed).sort(), [`env-${env.id}`, `env-${otherEnv.id}`].sort());
        await store.deleteProject(project.id);
        assert.deepEqual(await store.listAccessories(env.id), []);
        assert.deepEqual((await store.listAccessories()).map((a) => a.environmentId), [otherEnv.id]);
        assert.deepEqual((await store.listAllAccessoryCredentials()).map((c) => c.sealed), [`env-${otherEnv.id}`]);
      });
    });

    describe('job runs', () => {
      test('runs and skips are recorded, finished, filtered and listed newest first', async (t) => {
        const { store, env, service, release } = await fresh(t);
        const r = await release();
        const base = { serviceId: service.id, environmentId: env.id, releaseId: r.id, note: null };
        const run = await store.createJobRun({ ...base, scheduledAt: '2026-01-01T00:00:00.000Z', startedAt: '2026-01-01T00:00:00.100Z', status: 'running' });
        assert.equal(run.finishedAt, null);
        const skip = await store.createJobRun({ ...base, scheduledAt: '2026-01-01T00:00:02.000Z', startedAt: null, status: 'skipped', note: 'busy' });
        assert.match(skip.finishedAt ?? '', ISO_UTC, 'a skip is finished when recorded');
        const done = await store.finishJobRun(run.id, { status: 'failed', exitCode: 7, output: 'line 1\nline 2' });
        assert.deepEqual([done.status, done.exitCode, done.output], ['failed', 7, 'line 1\nline 2']);
        assert.deepEqual((await store.listJobRuns({ environmentId: env.id })).map((x) => x.id), [skip.id, run.id]);
        assert.deepEqual((await store.listJobRuns({ environmentId: env.id, status: 'skipped' })).map((x) => x.note), ['busy']);
        assert.equal((await store.listJobRuns({ environmentId: env.id, limit: 1 })).length, 1);
        assert.deepEqual(await store.getJobRun(run.id), done);
        assert.equal(await store.getJobRun(999_999), null);
        await rejectsWithCode(store.finishJobRun(999_999, { status: 'failed', exitCode: null, output: '' }), 'SLW_NOT_FOUND');
        await store.deleteEnvironment(env.id);
        assert.deepEqual(await store.listJobRuns({ environmentId: env.id }), []);
      });
    });

    describe('settings', () => {
      test('missing is null; set inserts then overwrites', async (t) => {
        const { store } = await fresh(t);
        assert.equal(await store.getSetting('x'), null);
        await store.setSetting('x', '1');
        assert.equal(await store.getSetting('x'), '1');
        await store.setSetting('x', '2');
        await store.setSetting('y', '');
        assert.equal(await store.getSetting('x'), '2');
        assert.equal(await store.getSetting('y'), '');
      });

      test('many at once: only the existing ones, however many keys', async (t) => {
        const { store } = await fresh(t);
        const keys = Array.from({ length: 1200 }, (_, i) => `k${i}`);
        for (const k of ['k0', 'k599', 'k1199']) await store.setSetting(k, `v-${k}`);
        const got = await store.getSettings([...keys, 'absent']);
        assert.deepEqual([...got.entries()].sort(), [['k0', 'v-k0'], ['k1199', 'v-k1199'], ['k599', 'v-k599']]);
        assert.equal((await store.getSettings([])).size, 0);
      });
    });

    describe('outbox', () => {
      test('an event is committed with its state change, or not at all', async (t) => {
        const { store, newDeployment } = await fresh(t);
        const d = await store.createDeployment(newDeployment({ event: { type: 'approval.needed', project: 'shop', payload: { n: 1 } } }));
        await store.updateDeployment(d.id, { state: 'building', event: { type: 'deployment.started', project: 'shop', payload: { n: 2 } } });
        await assert.rejects(store.updateDeployment('00000000-0000-4000-8000-000000000000', { state: 'failed', event: { type: 'deployment.failed', project: 'shop', payload: {} } }));
        const events = await store.listOutbox(0, 10);
        assert.deepEqual(events.map((e) => e.type), ['approval.needed', 'deployment.started'], 'the event of the failed update was rolled back with it');
        assert.equal(new Set(events.map((e) => e.eventId)).size, 2);
        assert.deepEqual(await store.listOutbox(events[0]!.seq, 10).then((r) => r.map((e) => e.payload)), [{ n: 2 }]);
      });

      test('an event of no stored change is appended on its own', async (t) => {
        const { store } = await fresh(t);
        await store.appendOutboxEvent({ type: 'edge.restarted', project: null, payload: { reason: 'test' } });
        const events = await store.listOutbox(0, 10);
        assert.deepEqual(events.map((e) => [e.type, e.project, e.payload]), [['edge.restarted', null, { reason: 'test' }]]);
      });

      test('deliveries: one per event and target, due ones listed, updates kept', async (t) => {
        const { store, newDeployment } = await fresh(t);
        await store.createDeployment(newDeployment({ event: { type: 'approval.needed', project: 'shop', payload: {} } }));
        const [e] = await store.listOutbox(0, 1);
        await store.createNotificationTarget({ id: 'ntf_1', kind: 'webhook', url: 'http://127.0.0.1:9/x', keyId: null, sealed: null, project: null, events: [], createdBy: 'test' });
        await store.addDeliveries(e!.eventId, ['ntf_1'], '2026-01-01T00:00:00.000Z');
        await store.addDeliveries(e!.eventId, ['ntf_1'], '2026-01-01T00:00:00.000Z');
        assert.equal((await store.dueDeliveries('2026-01-01T00:00:01.000Z', 10)).length, 1);
        assert.equal((await store.dueDeliveries('2025-12-31T00:00:00.000Z', 10)).length, 0);
        assert.deepEqual(await store.outboxBacklog(0), { events: 1, pendingDeliveries: 1 });
        assert.deepEqual(await store.outboxBacklog(e!.seq), { events: 0, pendingDeliveries: 1 });
        await store.updateDelivery(e!.eventId, 'ntf_1', { status: 'delivered', attempts: 2, deliveredAt: '2026-01-01T00:00:02.000Z' });
        assert.deepEqual((await store.listDeliveries(10)).map((d) => [d.status, d.attempts]), [['delivered', 2]]);
        assert.equal((await store.dueDeliveries('2027-01-01T00:00:00.000Z', 10)).length, 0);
      });
    });

    describe('webhook deliveries', () => {
      test('a push is accepted once by what was signed, whatever its delivery id; old records are pruned', async (t) => {
        const { store } = await fresh(t);
        const push = { project: 'shop', ref: 'refs/heads/main', commit: 'a'.repeat(40), bodySha256: 'b'.repeat(64), deliveryId: 'github:1' };
        assert.equal(await store.recordDelivery('shop', 'github:1'), true);
        assert.equal(await store.recordDelivery('shop', 'github:1'), false);
        assert.equal(await store.recordWebhookPush(push), true);
        assert.equal(await store.recordWebhookPush({ ...push, deliveryId: 'github:2' }), false, 'same signed push under a new delivery id');
        assert.equal(await store.recordWebhookPush({ ...push, project: 'other' }), true);
        assert.equal(await store.recordWebhookPush({ ...push, bodySha256: 'c'.repeat(64) }), true);
        assert.equal(await store.pruneWebhookDeliveries('2000-01-01T00:00:00.000Z'), 0);
        assert.equal(await store.pruneWebhookDeliveries(new Date(Date.now() + 1000).toISOString()), 4);
        assert.equal(await store.recordDelivery('shop', 'github:1'), true);
        assert.equal(await store.recordWebhookPush(push), true);
      });
    });

    describe('certificates', () => {
      const record = {
        domain: 'shop.example.com',
        source: 'acme' as const,
        status: 'pending' as const,
        certPem: null,
        keyId: null,
        sealedKey: null,
        domains: [],
        notBefore: null,
        notAfter: null,
        issuer: null,
        fingerprint256: null,
        renewAt: null,
        issuedAt: null,
        lastError: null,
        failures: 0,
        nextAttemptAt: null,
      };

      test('put creates then replaces by domain, keeping created_at; its event lands in the outbox with it', async (t) => {
        const { store } = await fresh(t);
        const first = await store.putCertificate(record);
        assert.equal(first.status, 'pending');
        const issued = await store.putCertificate(
          { ...record, status: 'valid', certPem: 'PEM', keyId: 'k1', sealedKey: 's1', domains: ['shop.example.com', 'www.shop.example.com'], notAfter: '2027-01-01T00:00:00.000Z', renewAt: '2026-11-01T00:00:00.000Z' },
          { type: 'certificate.issued', project: null, payload: { domain: 'shop.example.com' } },
        );
        assert.equal(issued.createdAt, first.createdAt);
        assert.deepEqual(issued.domains, ['shop.example.com', 'www.shop.example.com']);
        assert.deepEqual(await store.getCertificate('shop.example.com'), issued);
        assert.deepEqual((await store.listOutbox(0, 10)).map((e) => e.type), ['certificate.issued']);
        await store.putCertificate({ ...record, domain: 'a.example.com' });
        assert.deepEqual((await store.listCertificates()).map((c) => c.domain), ['a.example.com', 'shop.example.com']);
        await store.resealCertificates([{ domain: 'shop.example.com', keyId: 'k2', sealedKey: 's2' }]);
        assert.deepEqual(await store.getCertificate('shop.example.com').then((c) => [c?.keyId, c?.sealedKey]), ['k2', 's2']);
        assert.equal(await store.deleteCertificate('shop.example.com'), true);
        assert.equal(await store.deleteCertificate('shop.example.com'), false);
        assert.equal(await store.getCertificate('shop.example.com'), null);
      });
    });

    describe('users, tokens, audit', () => {
      test('user names are unique; deleting a user removes the tokens issued to them', async (t) => {
        const { store } = await fresh(t);
        const alice = await store.createUser({ name: 'alice', passwordHash: 'h', scope: 'deploy' });
        await assert.rejects(store.createUser({ name: 'alice', passwordHash: 'h2', scope: 'read' }), { code: 'SLW_CONFLICT' });
        assert.equal((await store.getUserByName('alice'))?.passwordHash, 'h');
        const tok = await store.createToken({ id: 'tok_a', name: 'login alice', tokenHash: 'th1', scope: 'deploy', project: null, userId: alice.id, createdBy: 'user:alice', parentTokenId: null, expiresAt: null });
        assert.deepEqual(await store.getTokenByHash('th1'), tok);
        assert.equal(await store.deleteUser('alice'), true);
        assert.equal(await store.getTokenByHash('th1'), null);
        assert.equal(await store.deleteUser('alice'), false);
      });

      test('tokens: revoke once, touch last use; the hash is never listed', async (t) => {
        const { store } = await fresh(t);
        await store.createToken({ id: 'tok_b', name: 'ci', tokenHash: 'th2', scope: 'read', project: 'shop', userId: null, createdBy: 'system', parentTokenId: null, expiresAt: '2030-01-01T00:00:00.000Z' });
        await store.touchToken('tok_b', '2026-01-01T00:00:00.000Z');
        const [listed] = await store.listTokens();
        assert.equal(listed?.lastUsedAt, '2026-01-01T00:00:00.000Z');
        assert.ok(!JSON.stringify(listed).includes('th2'));
        assert.equal(await store.revokeToken('tok_b'), true);
        assert.equal(await store.revokeToken('tok_b'), false);
        assert.ok((await store.getTokenByHash('th2'))?.revokedAt);
      });

      test('a token keeps the token it was created with', async (t) => {
        const { store } = await fresh(t);
        await store.createToken({ id: 'tok_p', name: 'parent', tokenHash: 'thp', scope: 'admin', project: null, userId: null, createdBy: 'system', parentTokenId: null, expiresAt: null });
        const child = await store.createToken({ id: 'tok_c', name: 'child', tokenHash: 'thc', scope: 'read', project: null, userId: null, createdBy: 'token:parent (tok_p)', parentTokenId: 'tok_p', expiresAt: null });
        assert.equal(child.parentTokenId, 'tok_p');
        assert.deepEqual(new Map((await store.listTokens()).map((x) => [x.id, x.parentTokenId])), new Map([['tok_p', null], ['tok_c', 'tok_p']]));
        assert.equal((await store.getTokenByHash('thc'))?.parentTokenId, 'tok_p');
      });

      test('audit entries append in order and filter by project and time', async (t) => {
        const { store } = await fresh(t);
        const entry = { actor: 'user:a', action: 'POST /x', target: null, clientIp: '127.0.0.1', outcome: 'ok' as const, status: 200, detail: null };
        await store.appendAudit({ ...entry, project: 'shop' });
        await store.appendAudit({ ...entry, project: 'blog' });
        const last = await store.appendAudit({ ...entry, project: 'shop', outcome: 'denied', status: 403 });
        assert.deepEqual((await store.listAudit({ project: 'shop' })).map((e) => e.status), [403, 200]);
        assert.equal((await store.listAudit({ limit: 1 }))[0]?.seq, last.seq);
        assert.deepEqual(await store.listAudit({ since: '2999-01-01T00:00:00.000Z' }), []);
        assert.equal(last.count, 1, 'one call unless told');
        const repeated = await store.appendAudit({ ...entry, project: null, outcome: 'denied', status: 401, count: 37 });
        assert.equal(repeated.count, 37);
        assert.equal((await store.listAudit({ limit: 1 }))[0]?.count, 37);
      });
    });

    const openPersistent = opts.openPersistent;
    describe('persistence', { skip: openPersistent ? false : 'no openPersistent given' }, () => {
      test('reopening keeps every kind of record', async () => {
        const name = `kept-${randomUUID()}`;
        const a = await openPersistent!();
        let ids: { projectId: number; envId: number; serviceId: number; releaseId: number; deploymentId: string };
        try {
          await a.migrate();
          const project = await a.upsertProject(name);
          const env = (await a.getEnvironment(project.id, 'production'))!;
          const service = await a.upsertService(project.id, 'web', 'web');
          const release = await a.createRelease({ serviceId: service.id, environmentId: env.id, imageRef: 'i', imageDigest: 'sha256:x', config, sourceRef: null, secretsVersion: null });
          await a.setCurrentReleaseId(service.id, env.id, release.id);
          const d = await a.createDeployment({ id: randomUUID(), serviceId: service.id, environmentId: env.id, kind: 'deploy', previousReleaseId: null, releaseId: release.id });
          await a.startStep(d.id, 'build');
          await a.appendLog(d.id, 'info', 'hello');
          await a.acquireLease(`lease-${name}`, 'me', 60_000);
          await a.setSetting(`setting-${name}`, 'v');
          ids = { projectId: project.id, envId: env.id, serviceId: service.id, releaseId: release.id, deploymentId: d.id };
        } finally {
          await a.close();
        }
        const b = await openPersistent!();
        try {
          await b.migrate();
          assert.equal((await b.getProject(name))?.id, ids.projectId);
          assert.equal((await b.getServiceById(ids.serviceId))?.name, 'web');
          assert.deepEqual((await b.getRelease(ids.releaseId))?.config, config);
          assert.equal(await b.getCurrentReleaseId(ids.serviceId, ids.envId), ids.releaseId);
          assert.equal((await b.getDeployment(ids.deploymentId))?.state, 'queued');
          assert.equal((await b.listSteps(ids.deploymentId)).length, 1);
          assert.deepEqual((await b.listLogs(ids.deploymentId)).map((l) => l.message), ['hello']);
          assert.equal((await b.getLease(`lease-${name}`))?.holder, 'me');
          assert.equal(await b.getSetting(`setting-${name}`), 'v');
          assert.equal((await b.createRelease({ serviceId: ids.serviceId, environmentId: ids.envId, imageRef: 'i', imageDigest: 'sha256:y', config, sourceRef: null, secretsVersion: null })).number, 2, 'numbering continues');
        } finally {
          await b.close();
        }
      });
    });

    runResourceStatsContract(open);
    runRequestMetricsContract(open);
  });
}
