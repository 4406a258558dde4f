/**
 * `slipway scale` and `slipway restart` on the real engine and the memory ports: a new release
 * with only the replica count changed (or nothing), rolled out replica by replica without a build
 * or the release command, never below the floor; the next deploy from slipway.yml runs the file's
 * count again and says so, unless the file says `replicas: { min: N }`.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { isSlipwayError } from '../core/errors';
import { ENV, PROJECT, SERVICE, assertReleaseServes, engineWorld, type EngineWorld } from './engine-world.test-support';

const worlds: EngineWorld[] = [];
after(async () => {
  for (const w of worlds) await w.close();
});

async function serving(shape: Parameters<EngineWorld['deploy']>[0]): Promise<EngineWorld> {
  const w = await engineWorld();
  worlds.push(w);
  const d = await w.deploy(shape);
  assert.equal(d.state, 'succeeded', d.error ?? '');
  await w.monitor.reset();
  return w;
}

const ref = { project: PROJECT, service: SERVICE, env: ENV };
const rejects = (p: Promise<unknown>, code: string, re: RegExp) => assert.rejects(p, (e: unknown) => isSlipwayError(e) && e.code === code && re.test(e.message));

test('scale: a new release with only the count changed, rolled out without a build or the release command, never below the floor', async () => {
  const w = await serving({ tag: '1', replicas: 2, releaseCommand: ['node', 'migrate.js'] });
  const { serviceId, environmentId } = await w.ids();
  const v1 = (await w.store.getCurrentRelease(serviceId, environmentId))!;
  const runs = w.runtime.oneOffs.length;
  const d = await w.settle((await w.engine.scale({ ...ref, replicas: 4, triggeredBy: 'test' })).id);
  assert.equal(d.state, 'succeeded', d.error ?? '');
  assert.equal(d.kind, 'scale');
  assert.equal(d.triggeredBy, 'test');
  const v2 = (await w.store.getRelease(d.releaseId!))!;
  assert.equal(v2.number, 2);
  assert.deepEqual({ ...v2.config, replicas: 0 }, { ...v1.config, replicas: 0 }, 'nothing but the count changed');
  assert.deepEqual([v2.config.replicas, v2.imageDigest, v2.secretsVersion], [4, v1.imageDigest, v1.secretsVersion]);
  assert.equal(w.runtime.oneOffs.length, runs, 'the release command did not run');
  assert.ok((await w.logs(d.id)).some((l) => /^scaling shop\/web in production from 2 to 4 replica\(s\)/.test(l)));
  await assertReleaseServes(w, 2, 4);
  assert.deepEqual(w.monitor.violations, [], 'never below 2 serving, never an unready replica in rotation');

  // Down again: 4 → 1.
  const down = await w.settle((await w.engine.scale({ ...ref, replicas: 1 })).id);
  assert.equal(down.state, 'succeeded', down.error ?? '');
  await assertReleaseServes(w, 3, 1);
});

test('scale refuses what it cannot do, naming the field, and records nothing', async () => {
  const w = await serving({ tag: '1', replicas: 2 });
  const before = (await w.store.listDeployments({})).length;
  await rejects(w.engine.scale({ ...ref, replicas: 0 }), 'SLW_BAD_REQUEST', /replicas must be a whole number from 1 to 100, got 0/);
  await rejects(w.engine.scale({ ...ref, replicas: 101 }), 'SLW_BAD_REQUEST', /from 1 to 100/);
  await rejects(w.engine.scale({ ...ref, replicas: 2 }), 'SLW_CONFLICT', /already runs 2 replica\(s\) \(v1\): nothing to scale/);
  await rejects(w.engine.scale({ ...ref, service: 'nope', replicas: 3 }), 'SLW_NOT_FOUND', /service "nope" does not exist/);
  assert.equal((await w.store.listDeployments({})).length, before);
});

test('restart: the live release again as a new release, every replica replaced one by one', async () => {
  const w = await serving({ tag: '1', replicas: 2 });
  const old = (await w.replicas()).map((r) => r.name);
  const d = await w.settle((await w.engine.restart(ref)).id);
  assert.equal(d.state, 'succeeded', d.error ?? '');
  assert.equal(d.kind, 'restart');
  const now = (await w.replicas()).map((r) => r.name);
  assert.equal(now.filter((n) => old.includes(n)).length, 0, 'every container is new');
  await assertReleaseServes(w, 2, 2);
  assert.deepEqual(w.monitor.violations, []);
});

test('the next deploy runs slipway.yml\'s count again and says so; replicas: { min } keeps a count scale raised', async () => {
  const w = await serving({ tag: '1', replicas: 2 });
  assert.equal((await w.settle((await w.engine.scale({ ...ref, replicas: 3 })).id)).state, 'succeeded');
  const plain = await w.deploy({ tag: '2', replicas: 2 });
  assert.equal(plain.state, 'succeeded', plain.error ?? '');
  assert.ok((await w.logs(plain.id)).includes('replicas: 2 from slipway.yml (v2 runs 3; to keep a count raised by slipway scale, write replicas: { min: 2 })'), (await w.logs(plain.id)).join('\n'));
  await assertReleaseServes(w, 3, 2);

  assert.equal((await w.settle((await w.engine.scale({ ...ref, replicas: 4 })).id)).state, 'succeeded');
  const kept = await w.deploy({ tag: '3', replicasMin: 2 });
  assert.equal(kept.state, 'succeeded', kept.error ?? '');
  assert.ok((await w.logs(kept.id)).includes('replicas: keeping the 4 v4 runs (slipway.yml asks for at least 2)'));
  await assertReleaseServes(w, 5, 4);
});
