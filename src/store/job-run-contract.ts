/**
 * The job-runs part of the Store contract (the JobRunStore role of the port); registered by
 * runStoreContract, so every Store implementation runs it.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { freshStore, ISO_UTC, rejectsWithCode, type OpenStore } from './test-support/contract-fixture';

export function runJobRunContract(open: OpenStore): void {
  const fresh = (t: TestContext) => freshStore(open, t);

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
}
