/**
 * The releases, deployments, steps, logs, leases and applied migrations part of the Store
 * contract (the DeploymentStore role of the port); registered by runStoreContract, so every
 * Store implementation runs it.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { DeploymentState } from '../core/domain';
import { freshStore, ISO_UTC, sleep, range, rejectsWithCode, config, type OpenStore } from './test-support/contract-fixture';

export function runDeploymentContract(open: OpenStore): void {
  const fresh = (t: TestContext) => freshStore(open, t);

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

    test('the pushed git ref and commit round-trip (push webhooks); null otherwise', async (t) => {
      const { store, newDeployment } = await fresh(t);
      const git = { ref: 'refs/tags/v1.0.0', commit: 'c'.repeat(40) };
      const pushed = await store.createDeployment(newDeployment({ git }));
      assert.deepEqual(pushed.git, git);
      assert.deepEqual((await store.getDeployment(pushed.id))?.git, git);
      assert.equal((await store.createDeployment(newDeployment({}))).git, null);
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
}
