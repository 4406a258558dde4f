/**
 * The projects, environments and services (and what deleting a project or an environment takes
 * with it) part of the Store contract (the ProjectStore role of the port); registered by
 * runStoreContract, so every Store implementation runs it.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { freshStore, ISO_UTC, rejectsWithCode, type OpenStore } from './test-support/contract-fixture';

export function runProjectContract(open: OpenStore): void {
  const fresh = (t: TestContext) => freshStore(open, t);

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

    test('upsert of an existing project leaves its environments alone: a destroyed production stays destroyed', async (t) => {
      const { store, project, env } = await fresh(t);
      const staging = await store.ensureEnvironment(project.id, 'staging');
      await store.deleteEnvironment(env.id);
      assert.deepEqual(await store.upsertProject('shop'), project);
      assert.deepEqual((await store.listEnvironments(project.id)).map((e) => e.id), [staging.id]);
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
}
