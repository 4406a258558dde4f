/**
 * The control plane is SIGKILLed in the middle of a rolling deploy and restarted.
 * The edge serves without error throughout, and the deployment resolves to a
 * consistent state: one release fully live, no orphan containers.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Docker from 'dockerode';
import { startLoad } from '../bench/lib/load-generator';
import { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject } from './support/test-project';
import { deployAndWait, deploymentLog, waitDeployment } from './support/wait-deployment';
import { deployDirectory } from '../src/client/upload-contexts';

const cp = await ControlPlaneProcess.create('crash');
const app = new TestProject('crash');

before(async () => {
  await cp.start();
  await cp.client.createBaseImage('node');
});
after(() => cp.destroy());

test('SIGKILL mid-deploy: the edge keeps serving and restart resolves the deployment', async (t) => {
  const v1 = await deployAndWait(cp.client, app.write({ version: 'one' }));
  assert.equal(v1.state, 'succeeded', await deploymentLog(cp.client, v1.id));

  const load = startLoad({ url: cp.edgeUrl, hostHeader: app.domain, concurrency: 8 });
  try {
    // Slow readiness (grace) keeps the deploy in its rolling phase long enough to kill it there.
    const { deployments } = await deployDirectory(cp.client, app.write({ version: 'two', health: { grace: '1500ms' } }));
    const id = deployments[0]!.id;
    for (let i = 0; i < 150; i++) {
      const log = await deploymentLog(cp.client, id);
      if (/started .* probing/.test(log)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    cp.kill();
    t.diagnostic('control plane killed while a new replica was being probed');
    await new Promise((r) => setTimeout(r, 2000)); // the edge alone serves meanwhile
    await cp.start();
    const resolved = await waitDeployment(cp.client, id);
    t.diagnostic(`deployment resolved as ${resolved.state}: ${resolved.error ?? ''}`);
    assert.ok(['succeeded', 'failed'].includes(resolved.state));
    if (resolved.state === 'failed') assert.equal(resolved.errorCode, 'SLW_INTERRUPTED');
    assert.match(await deploymentLog(cp.client, id), /control plane restarted/);

    const web = (await cp.client.status('crash')).services[0]!;
    const live = web.currentRelease!.number;
    assert.equal(live, resolved.state === 'succeeded' ? resolved.releaseNumber : v1.releaseNumber);
    assert.equal(web.replicas.length, 2, `exactly the desired replicas: ${JSON.stringify(web.replicas)}`);
    assert.ok(web.replicas.every((r) => r.release === live && r.edge === 'ready' && r.state === 'running'), JSON.stringify(web.replicas));

    // No orphan containers: everything Slipway runs for this service is accounted for above.
    const docker = new Docker();
    const containers = await docker.listContainers({ all: true, filters: { label: ['slipway.project=crash'] } });
    assert.equal(containers.length, 2, containers.map((c) => `${c.Names[0]} ${c.State}`).join(', '));
  } finally {
    const report = await load.stop();
    t.diagnostic(`load: ${report.total} requests, ${report.failed} failed`);
    assert.equal(report.failed, 0, `${JSON.stringify(report.errors)} ${JSON.stringify(report.firstFailures.slice(0, 5))}`);
  }
});
