/**
 * The placement part of the Store contract (the PlacementStore role: which server each replica
 * runs on); registered by runStoreContract, so every Store implementation runs it.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { ReplicaPlacement } from '../core/domain';
import { freshStore, type OpenStore } from './test-support/contract-fixture';

export function runPlacementContract(open: OpenStore): void {
  const fresh = (t: TestContext) => freshStore(open, t);
  const at = '2026-12-07T21:00:00.000Z';

  describe('placements', () => {
    test('recorded by replica name, listed by service and environment or by server, moved idempotently, forgotten', async (t) => {
      const { store, project, env, service } = await fresh(t);
      const staging = await store.ensureEnvironment(project.id, 'staging');
      const place = (replica: string, over: Partial<ReplicaPlacement> = {}): ReplicaPlacement => ({ replica, server: 'local', serviceId: service.id, environmentId: env.id, release: 1, deploymentId: 'd1', placedAt: at, ...over });
      await store.recordPlacement(place('shop-web-production-v1-a'));
      await store.recordPlacement(place('shop-web-production-v1-b', { server: 'edge-2' }));
      await store.recordPlacement(place('shop-web-staging-v1-c', { environmentId: staging.id }));
      assert.deepEqual(await store.listPlacements({ serviceId: service.id, environmentId: env.id }), [place('shop-web-production-v1-a'), place('shop-web-production-v1-b', { server: 'edge-2' })]);
      assert.deepEqual((await store.listPlacements({ server: 'edge-2' })).map((p) => p.replica), ['shop-web-production-v1-b']);
      assert.equal((await store.listPlacements({})).length, 3);

      // Recording the same replica again replaces it (a crash between start and record, then recovery).
      await store.recordPlacement(place('shop-web-production-v1-a', { release: 2, deploymentId: 'd2' }));
      assert.deepEqual((await store.listPlacements({ server: 'local', environmentId: env.id })).map((p) => [p.replica, p.release, p.deploymentId]), [['shop-web-production-v1-a', 2, 'd2']]);

      await store.forgetPlacements(['shop-web-production-v1-a', 'never-placed']);
      assert.deepEqual((await store.listPlacements({ environmentId: env.id })).map((p) => p.replica), ['shop-web-production-v1-b']);
      await store.forgetPlacements([]);

      // An environment's placements go with it; the others stay.
      await store.deleteEnvironment(staging.id);
      assert.deepEqual((await store.listPlacements({})).map((p) => p.replica), ['shop-web-production-v1-b']);
      await store.deleteProject(project.id);
      assert.deepEqual(await store.listPlacements({}), [], 'and a project\'s with it');
    });

    test('many replicas forgotten at once', async (t) => {
      const { store, env, service } = await fresh(t);
      const names = Array.from({ length: 1100 }, (_, i) => `r${i}`);
      for (const replica of names) await store.recordPlacement({ replica, server: 'local', serviceId: service.id, environmentId: env.id, release: 1, deploymentId: 'd', placedAt: at });
      await store.forgetPlacements(names.slice(0, 1050));
      assert.deepEqual((await store.listPlacements({})).map((p) => p.replica).sort(), names.slice(1050).sort());
    });
  });
}
