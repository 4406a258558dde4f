/**
 * The Store contract: every implementation (SQLite now, Postgres later) must pass it.
 * Register with runStoreContract(name, open) from a *.test.ts file.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { ServiceConfig } from '../core/config';
import type { Store } from '../core/ports/store';

const config: ServiceConfig = {
  name: 'web',
  type: 'web',
  source: { kind: 'build', context: '.', dockerfile: 'Dockerfile', args: {} },
  port: 3000,
  domains: ['a.localhost'],
  health: { path: '/health', intervalMs: 500, timeoutMs: 1000, graceMs: 0, successes: 2, deadlineMs: 30_000 },
  replicas: 2,
  deploy: { strategy: 'rolling', maxSurge: 1, maxUnavailable: 0, drainTimeoutMs: 10_000, stopTimeoutMs: 5000 },
  env: { A: '1' },
  releaseCommand: ['node', 'migrate.js'],
  releaseTimeoutMs: 60_000,
};

export function runStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    async function fresh() {
      const store = await open();
      await store.migrate();
      const project = await store.upsertProject('shop');
      const env = (await store.getEnvironment(project.id, 'production'))!;
      const service = await store.upsertService(project.id, 'web', 'web');
      return { store, project, env, service };
    }

    test('migrations are idempotent and a project gets a production environment', async () => {
      const { store, project, env } = await fresh();
      await store.migrate();
      assert.equal(env.name, 'production');
      assert.equal((await store.upsertProject('shop')).id, project.id);
      assert.deepEqual((await store.listEnvironments(project.id)).map((e) => e.name), ['production']);
      const staging = await store.ensureEnvironment(project.id, 'staging');
      assert.equal((await store.ensureEnvironment(project.id, 'staging')).id, staging.id);
      assert.equal(await store.getProject('nope'), null);
      await store.close();
    });

    test('release numbers count per service and environment, config round-trips', async () => {
      const { store, project, env, service } = await fresh();
      const staging = await store.ensureEnvironment(project.id, 'staging');
      const worker = await store.upsertService(project.id, 'worker', 'web');
      const mk = (serviceId: number, environmentId: number) =>
        store.createRelease({ serviceId, environmentId, imageRef: 'img:1', imageDigest: 'sha256:abc', config, sourceRef: null });
      assert.equal((await mk(service.id, env.id)).number, 1);
      assert.equal((await mk(service.id, env.id)).number, 2);
      assert.equal((await mk(service.id, staging.id)).number, 1);
      assert.equal((await mk(worker.id, env.id)).number, 1);
      const list = await store.listReleases(service.id, env.id);
      assert.deepEqual(list.map((r) => r.number), [2, 1]);
      assert.deepEqual(list[0]!.config, config);
      assert.equal((await store.getReleaseByNumber(service.id, env.id, 1))!.imageDigest, 'sha256:abc');
      assert.equal(await store.getReleaseByNumber(service.id, env.id, 9), null);
      assert.equal((await store.listReleases(service.id, env.id, 1)).length, 1);
      assert.equal(await store.getCurrentReleaseId(service.id, env.id), null);
      await store.setCurrentReleaseId(service.id, env.id, list[0]!.id);
      assert.equal(await store.getCurrentReleaseId(service.id, env.id), list[0]!.id);
      await store.setCurrentReleaseId(service.id, env.id, list[1]!.id);
      assert.equal(await store.getCurrentReleaseId(service.id, env.id), list[1]!.id);
      await store.close();
    });

    test('deployments: create, patch, query by state, newest first', async () => {
      const { store, env, service } = await fresh();
      const ids = [randomUUID(), randomUUID(), randomUUID()];
      for (const id of ids) await store.createDeployment({ id, serviceId: service.id, environmentId: env.id, kind: 'deploy', previousReleaseId: null, releaseId: null });
      const d = await store.updateDeployment(ids[0]!, { state: 'failed', errorCode: 'SLW_HEALTH_FAILED', error: 'boom', finishedAt: new Date().toISOString() });
      assert.equal(d.state, 'failed');
      assert.equal(d.errorCode, 'SLW_HEALTH_FAILED');
      assert.deepEqual((await store.listDeployments({ serviceId: service.id })).map((x) => x.id), [...ids].reverse());
      assert.deepEqual((await store.listDeployments({ states: ['queued'] })).map((x) => x.id).sort(), [ids[1], ids[2]].sort());
      assert.equal((await store.listDeployments({ limit: 1 })).length, 1);
      await assert.rejects(store.updateDeployment(randomUUID(), { state: 'failed' }), /does not exist/);
      assert.equal(await store.getDeployment(randomUUID()), null);
      await store.close();
    });

    test('steps and log lines are numbered in order, even when written concurrently', async () => {
      const { store, env, service } = await fresh();
      const id = randomUUID();
      await store.createDeployment({ id, serviceId: service.id, environmentId: env.id, kind: 'deploy', previousReleaseId: null, releaseId: null });
      const s1 = await store.startStep(id, 'build');
      await store.finishStep(id, s1, 'done', 'ok');
      const s2 = await store.startStep(id, 'release');
      assert.deepEqual((await store.listSteps(id)).map((s) => [s.seq, s.name, s.status]), [[1, 'build', 'done'], [2, 'release', 'running']]);
      assert.equal(s2, 2);
      const lines = await Promise.all(Array.from({ length: 50 }, (_, i) => store.appendLog(id, 'info', `line ${i}`)));
      assert.deepEqual(lines.map((l) => l.seq).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i + 1));
      assert.equal((await store.listLogs(id)).length, 50);
      assert.deepEqual((await store.listLogs(id, 48)).map((l) => l.seq), [49, 50]);
      await store.close();
    });

    test('leases are exclusive until they expire; the holder renews', async () => {
      const { store } = await fresh();
      assert.equal(await store.acquireLease('k', 'a', 10_000), true);
      assert.equal(await store.acquireLease('k', 'b', 10_000), false);
      assert.equal(await store.acquireLease('k', 'a', 10_000), true);
      assert.equal((await store.getLease('k'))!.holder, 'a');
      await store.releaseLease('k', 'b'); // not the holder: no effect
      assert.equal((await store.getLease('k'))!.holder, 'a');
      await store.releaseLease('k', 'a');
      assert.equal(await store.getLease('k'), null);
      assert.equal(await store.acquireLease('k', 'b', 1), true);
      await new Promise((r) => setTimeout(r, 10));
      assert.equal(await store.acquireLease('k', 'c', 10_000), true, 'an expired lease can be taken');
      const results = await Promise.all(['x', 'y', 'z'].map((h) => store.acquireLease('race', h, 10_000)));
      assert.equal(results.filter(Boolean).length, 1, 'exactly one concurrent acquirer wins');
      await store.close();
    });

    test('deleting an environment removes its releases and deployments, nothing else', async () => {
      const { store, project, env, service } = await fresh();
      const staging = await store.ensureEnvironment(project.id, 'staging');
      for (const e of [env, staging]) {
        const r = await store.createRelease({ serviceId: service.id, environmentId: e.id, imageRef: 'i', imageDigest: 'sha256:x', config, sourceRef: null });
        await store.setCurrentReleaseId(service.id, e.id, r.id);
        const id = randomUUID();
        await store.createDeployment({ id, serviceId: service.id, environmentId: e.id, kind: 'deploy', previousReleaseId: null, releaseId: r.id });
        await store.appendLog(id, 'info', 'x');
        await store.startStep(id, 'build');
      }
      await store.deleteEnvironment(staging.id);
      assert.equal(await store.getEnvironment(project.id, 'staging'), null);
      assert.equal((await store.listReleases(service.id, staging.id)).length, 0);
      assert.equal((await store.listDeployments({ environmentId: staging.id })).length, 0);
      assert.equal((await store.listReleases(service.id, env.id)).length, 1, 'production untouched');
      assert.equal((await store.listDeployments({ environmentId: env.id })).length, 1);
      await store.close();
    });

    test('settings', async () => {
      const { store } = await fresh();
      assert.equal(await store.getSetting('x'), null);
      await store.setSetting('x', '1');
      await store.setSetting('x', '2');
      assert.equal(await store.getSetting('x'), '2');
      await store.close();
    });
  });
}
