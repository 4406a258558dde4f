/**
 * Rollback goes to the last release that was live: v1 live, v2 fails readiness, v3 live →
 * `slipway rollback web` returns to v1 and says v2 never went live; `rollback web v2` is
 * refused (409) without --force; `slipway releases web` shows each release's outcome.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject } from './support/test-project';
import { cliFor } from './support/cli';
import { deployAndWait, deploymentLog } from './support/wait-deployment';

const cp = await ControlPlaneProcess.create('rbtarget');
const app = new TestProject('rbtarget');

before(async () => {
  await cp.start();
  await cp.client.createBaseImage('node');
});
after(() => cp.destroy());

test('rollback with no version skips a release that never went live; naming it needs --force; releases show outcomes', async () => {
  const v1 = await deployAndWait(cp.client, app.write({ version: 'one', replicas: 1 }));
  assert.equal(v1.state, 'succeeded', await deploymentLog(cp.client, v1.id));
  const v2 = await deployAndWait(cp.client, app.write({ version: 'two', replicas: 1, env: { HEALTH_FAIL: '1' }, health: { deadline: '3s' } }));
  assert.equal(v2.state, 'failed', 'v2 fails readiness');
  const v3 = await deployAndWait(cp.client, app.write({ version: 'three', replicas: 1 }));
  assert.equal(v3.state, 'succeeded', await deploymentLog(cp.client, v3.id));
  assert.deepEqual([v1.releaseNumber, v2.releaseNumber, v3.releaseNumber], [1, 2, 3]);

  const slipway = cliFor(cp, app.dir);
  const before = await slipway('releases', 'web');
  assert.equal(before.code, 0, before.stderr);
  assert.match(before.stdout, /^v2\s+never live\s/m, before.stdout);
  assert.match(before.stdout, /^v1\s+was live \(until .+ago\)\s/m, before.stdout);

  // The old code went to v2 (the release just below the live one) and waited for a readiness that never came.
  const back = await slipway('rollback', 'web');
  assert.equal(back.code, 0, `${back.stdout}\n${back.stderr}`);
  assert.match(back.stdout, /rolling back to v1 \(live until \d{4}-\d\d-\d\dT[^;]+; v2 never went live\)/, back.stdout);
  assert.match(back.stdout, /web is back on v1/);
  const status = await cp.client.status(app.project);
  assert.equal(status.services.find((s) => s.service === 'web')?.currentRelease?.number, 1);

  const refused = await slipway('rollback', 'web', 'v2');
  assert.equal(refused.code, 1, refused.stdout);
  assert.match(refused.stderr, /v2 of web never went live in production/);
  assert.match(refused.stderr, /--force/);
  assert.match(refused.stderr, /\[SLW_CONFLICT\]/);
  await assert.rejects(cp.client.rollback(app.project, 'web', { env: 'production', release: 2 }), (err: { status: number; code: string }) => err.status === 409 && err.code === 'SLW_CONFLICT');
  assert.equal((await cp.client.status(app.project)).services.find((s) => s.service === 'web')?.currentRelease?.number, 1, 'a refused rollback changed nothing');

  const { releases } = await cp.client.releases(app.project, 'web', 'production');
  assert.deepEqual(releases.map((r) => [r.number, r.outcome]), [[3, 'rolled_back'], [2, 'never_live'], [1, 'live']]);
  assert.ok(releases[0]!.liveUntil, 'v3 records when it stopped being live');
  const listed = await slipway('releases', 'web');
  assert.match(listed.stdout, /^v3\s+rolled back \(until/m, listed.stdout);
  assert.match(listed.stdout, /^v2\s+never live\s/m);
  assert.match(listed.stdout, /^v1 \(live\)\s+live\s/m);

  // --force reaches the engine: the rollback to v2 starts (and fails its readiness, as v2 always did).
  const forced = await slipway('rollback', 'web', 'v2', '--force');
  assert.match(forced.stdout, /rolling back to v2 \(never went live; forced\)/, `${forced.stdout}\n${forced.stderr}`);
  assert.equal(forced.code, 2, 'the forced rollback ran and failed readiness');
  assert.equal((await cp.client.status(app.project)).services.find((s) => s.service === 'web')?.currentRelease?.number, 1);
});
