/**
 * The replica-restart part of the Store contract (the ReplicaRestartStore role: restarts of
 * replica slots); registered by runStoreContract, so every Store implementation runs it.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { ReplicaRestart } from '../core/replica-restarts';
import { freshStore, type OpenStore } from './test-support/contract-fixture';

export function runReplicaRestartContract(open: OpenStore): void {
  const fresh = (t: TestContext) => freshStore(open, t);
  const T0 = 1_800_000_000_000;
  const restart = (over: Partial<ReplicaRestart> = {}): ReplicaRestart => ({
    project: 'shop',
    env: 'production',
    service: 'web',
    release: 3,
    slot: 0,
    at: T0,
    reason: 'exited',
    exitCode: 137,
    replica: 'shop-web-production-v3-aaaaaa',
    deploymentId: 'd1',
    ...over,
  });

  describe('replica restarts', () => {
    test('counted per service, release and slot since a time; per service for an alert window; listed newest first', async (t) => {
      const { store } = await fresh(t);
      await store.recordReplicaRestart(restart({ at: T0 }));
      await store.recordReplicaRestart(restart({ at: T0 + 1000, reason: 'oom_killed' }));
      await store.recordReplicaRestart(restart({ at: T0 + 2000, slot: 1, reason: 'unhealthy', exitCode: null }));
      await store.recordReplicaRestart(restart({ at: T0 + 3000, release: 2, slot: 0, reason: 'removed', exitCode: null, replica: null }));
      await store.recordReplicaRestart(restart({ at: T0 + 4000, service: 'worker' }));
      // Other environments and projects are counted apart.
      await store.recordReplicaRestart(restart({ at: T0 + 5000, env: 'staging' }));
      await store.recordReplicaRestart(restart({ at: T0 + 6000, project: 'blog' }));

      assert.deepEqual(await store.restartCounts({ project: 'shop', env: 'production', since: T0 }), [
        { service: 'web', release: 2, slot: 0, count: 1, lastAt: T0 + 3000 },
        { service: 'web', release: 3, slot: 0, count: 2, lastAt: T0 + 1000 },
        { service: 'web', release: 3, slot: 1, count: 1, lastAt: T0 + 2000 },
        { service: 'worker', release: 3, slot: 0, count: 1, lastAt: T0 + 4000 },
      ]);
      assert.deepEqual(
        (await store.restartCounts({ project: 'shop', env: 'production', service: 'web', since: T0 + 1000 })).map((c) => [c.release, c.slot, c.count]),
        [[2, 0, 1], [3, 0, 1], [3, 1, 1]],
        '`since` is inclusive and drops the older ones',
      );
      assert.deepEqual(await store.restartCounts({ project: 'shop', env: 'production', service: 'api', since: 0 }), []);
      assert.deepEqual(
        (await store.allRestartCounts(T0 + 4000)).map((c) => [c.project, c.env, c.service, c.count]),
        [['blog', 'production', 'web', 1], ['shop', 'production', 'worker', 1], ['shop', 'staging', 'web', 1]],
      );

      assert.equal(await store.serviceRestartsSince({ project: 'shop', env: 'production', service: 'web', since: T0 }), 4);
      assert.equal(await store.serviceRestartsSince({ project: 'shop', env: 'production', service: 'web', since: T0 + 2000 }), 2);
      assert.equal(await store.serviceRestartsSince({ project: 'shop', env: 'production', service: 'web', since: T0 + 10_000 }), 0);

      const listed = await store.listReplicaRestarts({ project: 'shop', env: 'production', service: 'web', since: 0 });
      assert.deepEqual(listed.map((r) => [r.at - T0, r.reason, r.exitCode, r.replica]), [
        [3000, 'removed', null, null],
        [2000, 'unhealthy', null, 'shop-web-production-v3-aaaaaa'],
        [1000, 'oom_killed', 137, 'shop-web-production-v3-aaaaaa'],
        [0, 'exited', 137, 'shop-web-production-v3-aaaaaa'],
      ]);
      assert.deepEqual(listed[3], restart(), 'every field round-trips');
      assert.equal((await store.listReplicaRestarts({ project: 'shop', env: 'production', since: 0, limit: 2 })).length, 2);
    });

    test('pruned by age; an environment\'s and a project\'s go with them', async (t) => {
      const { store, project } = await fresh(t);
      const staging = await store.ensureEnvironment(project.id, 'staging');
      for (const [env, at] of [['production', T0], ['production', T0 + 10_000], ['staging', T0 + 10_000]] as const) await store.recordReplicaRestart(restart({ env, at }));
      await store.recordReplicaRestart(restart({ project: 'blog', at: T0 + 10_000 }));

      assert.equal(await store.pruneReplicaRestarts(T0 + 1), 1);
      assert.equal(await store.pruneReplicaRestarts(T0 + 1), 0);
      assert.equal(await store.serviceRestartsSince({ project: 'shop', env: 'production', service: 'web', since: 0 }), 1);

      await store.deleteEnvironment(staging.id);
      assert.equal(await store.serviceRestartsSince({ project: 'shop', env: 'staging', service: 'web', since: 0 }), 0, 'a preview environment made again starts from none');
      assert.equal(await store.serviceRestartsSince({ project: 'shop', env: 'production', service: 'web', since: 0 }), 1);
      await store.deleteProject(project.id);
      assert.equal(await store.serviceRestartsSince({ project: 'shop', env: 'production', service: 'web', since: 0 }), 0);
      assert.equal(await store.serviceRestartsSince({ project: 'blog', env: 'production', service: 'web', since: 0 }), 1, 'another project keeps its own');
    });
  });
}
