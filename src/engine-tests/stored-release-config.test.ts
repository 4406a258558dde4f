/**
 * Issue 22 item 5: a release the first version of Slipway stored (fixtures/: no release
 * command, health kinds, edge checks, canary, keep_warm, HTTPS, retention, uses or volumes in
 * its config) is read through readStoredServiceConfig with today's defaults, and the real
 * engine rolls it out, keeps it as the previous release of a new deploy, and rolls back to it.
 */
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ServiceConfig } from '../core/config';
import { engineWorld, ENV, PROJECT, SERVICE, type EngineWorld } from './engine-world.test-support';

const FIRST_VERSION = readFileSync(path.join(import.meta.dirname, 'fixtures/release-config-first-version.json'), 'utf8');
let w: EngineWorld;

beforeEach(async () => {
  w = await engineWorld();
});

afterEach(async () => {
  await w.close();
});

/** v2: the fixture stored as it was written then (raw JSON through createRelease, as the first version did). */
async function storeFirstVersionRelease(): Promise<number> {
  const { serviceId, environmentId } = await w.ids();
  const image = (await w.runtime.inspectImage('shop/web:1'))!;
  const r = await w.store.createRelease({ serviceId, environmentId, imageRef: 'shop/web:1', imageDigest: image.id, config: JSON.parse(FIRST_VERSION) as ServiceConfig, sourceRef: null, secretsVersion: null });
  return r.number;
}

async function serving(release: number): Promise<string[]> {
  const replicas = (await w.replicas()).filter((r) => r.state === 'running');
  assert.deepEqual([...new Set(replicas.map((r) => r.labels.release))], [release], 'only the release runs');
  const servers = (await w.servers()).filter((s) => s.state === 'ready').map((s) => s.name);
  assert.deepEqual(servers, replicas.map((r) => r.name).sort(), 'edge servers = its running replicas');
  return servers;
}

test('a release stored by the first version rolls out, stays the previous release of a new deploy, and is rolled back to', { timeout: 20_000 }, async () => {
  assert.equal((await w.deploy({ tag: '1', replicas: 1 })).state, 'succeeded');
  const old = await storeFirstVersionRelease();
  const release = await w.store.getReleaseByNumber((await w.ids()).serviceId, (await w.ids()).environmentId, old);
  assert.equal(release?.config.health.kind, 'http', 'read with today\'s defaults');

  const forced = await w.settle((await w.engine.rollback({ project: PROJECT, service: SERVICE, env: ENV, release: old, force: true, triggeredBy: 'test' })).id);
  assert.equal(forced.state, 'succeeded', (await w.logs(forced.id)).join('\n'));
  assert.equal((await serving(old)).length, 2, 'its two replicas serve');
  const replica = (await w.replicas()).find((r) => r.labels.release === old)!;
  assert.equal(w.runtime.containerInfo(replica.id)?.env.GREETING, 'hello', 'its env reaches the replicas');

  // A new deploy with it as the previous release, then a rollback to it (it went live: no force).
  assert.equal((await w.deploy({ tag: '1', replicas: 1 })).state, 'succeeded');
  await serving(old + 1);
  const back = await w.settle((await w.engine.rollback({ project: PROJECT, service: SERVICE, env: ENV, triggeredBy: 'test' })).id);
  assert.equal(back.state, 'succeeded', (await w.logs(back.id)).join('\n'));
  assert.equal(await w.liveRelease(), old);
  assert.equal((await serving(old)).length, 2);
});
