/**
 * A release whose health endpoint never passes is rejected while the old release
 * keeps serving under load with zero failed requests; the deployment log says why.
 * A second deploy while one runs is refused with a clear message.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startLoad } from '../bench/lib/load-generator';
import { ApiError } from '../src/client/api-client';
import { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject } from './support/test-project';
import { deployAndWait, deploymentLog, waitDeployment } from './support/wait-deployment';
import { deployDirectory } from '../src/client/upload-contexts';

const cp = await ControlPlaneProcess.create('health');
const app = new TestProject('health');

before(async () => {
  await cp.start();
  await cp.client.createBaseImage('node');
});
after(() => cp.destroy());

test('an unhealthy release is rejected and the old one keeps serving', async (t) => {
  const v1 = await deployAndWait(cp.client, app.write({ version: 'good' }));
  assert.equal(v1.state, 'succeeded', await deploymentLog(cp.client, v1.id));

  const releases = new Set<string>();
  const load = startLoad({
    url: cp.edgeUrl,
    hostHeader: app.domain,
    concurrency: 8,
    inspect: (res) => releases.add(String(res.headers['x-slipway-release'])),
  });
  try {
    const { deployments } = await deployDirectory(cp.client, app.write({ version: 'bad', env: { HEALTH_FAIL: '1' }, health: { deadline: '4s' } }));
    const bad = deployments[0]!;

    // One active deployment per service+environment.
    await assert.rejects(deployDirectory(cp.client, app.write({ version: 'other' })), (err: ApiError) => {
      assert.equal(err.status, 409);
      assert.equal(err.code, 'SLW_DEPLOY_LOCKED');
      assert.match(err.message, new RegExp(`already being deployed by deployment ${bad.id}`));
      return true;
    });

    const done = await waitDeployment(cp.client, bad.id);
    assert.equal(done.state, 'failed');
    assert.equal(done.errorCode, 'SLW_HEALTH_FAILED');
    const log = await deploymentLog(cp.client, bad.id);
    assert.match(log, /did not pass readiness on \/health within 4s \(last probe: HTTP 503/);
    t.diagnostic(done.error ?? '');
  } finally {
    const report = await load.stop();
    t.diagnostic(`load: ${report.total} requests, ${report.failed} failed`);
    assert.equal(report.failed, 0, JSON.stringify(report.errors));
  }
  assert.deepEqual([...releases], [`v${v1.releaseNumber}`], 'only the old release ever answered');
  const web = (await cp.client.status('health')).services[0]!;
  assert.equal(web.currentRelease?.number, v1.releaseNumber);
  assert.equal(web.replicas.length, 2);
  assert.ok(web.replicas.every((r) => r.release === v1.releaseNumber && r.edge === 'ready'), JSON.stringify(web.replicas));
});
