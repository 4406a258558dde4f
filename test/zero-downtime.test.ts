/**
 * The promise of the product: under keep-alive load through the edge, five
 * consecutive rolling deploys of a 2-replica service and a rollback complete with
 * zero failed requests, and after each one every response comes from the new release.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startLoad, type LoadRun } from '../bench/lib/load-generator';
import { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject } from './support/test-project';
import { deployAndWait, deploymentLog, waitDeployment } from './support/wait-deployment';

const cp = await ControlPlaneProcess.create('zdt');
const app = new TestProject('zdt');
let load: LoadRun | null = null;
/** Completion time and release of every response seen by the load generator. */
const seen: Array<{ at: number; release: string }> = [];

before(async () => {
  await cp.start();
  await cp.client.createBaseImage('node');
});

after(async () => {
  await load?.stop();
  await cp.destroy();
});

function releasesSince(t: number): Set<string> {
  return new Set(seen.filter((s) => s.at > t).map((s) => s.release));
}

test('five consecutive deploys and a rollback under load drop no request', async (t) => {
  const first = await deployAndWait(cp.client, app.write({ version: 'a' }));
  assert.equal(first.state, 'succeeded', await deploymentLog(cp.client, first.id));

  load = startLoad({
    url: cp.edgeUrl,
    hostHeader: app.domain,
    concurrency: 8,
    inspect: (res) => seen.push({ at: res.at, release: String(res.headers['x-slipway-release'] ?? '?') }),
  });
  await new Promise((r) => setTimeout(r, 500));

  for (let i = 0; i < 5; i++) {
    const version = i % 2 === 0 ? 'b' : 'a';
    const d = await deployAndWait(cp.client, app.write({ version }));
    assert.equal(d.state, 'succeeded', `deploy ${i + 1} failed:\n${await deploymentLog(cp.client, d.id)}\n${cp.tail()}`);
    const doneAt = Date.now();
    await new Promise((r) => setTimeout(r, 400));
    assert.deepEqual([...releasesSince(doneAt + 50)], [`v${d.releaseNumber}`], `after deploy ${i + 1} only v${d.releaseNumber} answers`);
    t.diagnostic(`deploy ${i + 1}: v${d.releaseNumber} live, ${load.snapshot().total} requests so far, ${load.snapshot().failed} failed`);
  }

  const releasesBefore = (await cp.client.releases('zdt', 'web')).releases;
  const { deployment } = await cp.client.rollback('zdt', 'web', {});
  const rb = await waitDeployment(cp.client, deployment.id);
  assert.equal(rb.state, 'succeeded', await deploymentLog(cp.client, rb.id));
  assert.equal(rb.kind, 'rollback');
  assert.ok(!rb.steps.some((s) => s.name === 'build'), 'a rollback never builds');
  const releasesAfter = (await cp.client.releases('zdt', 'web')).releases;
  assert.equal(releasesAfter.length, releasesBefore.length, 'a rollback creates no release');
  assert.equal(rb.releaseNumber, releasesBefore[1]!.number, 'rolled back to the release before the live one');
  const doneAt = Date.now();
  await new Promise((r) => setTimeout(r, 400));
  assert.deepEqual([...releasesSince(doneAt + 50)], [`v${rb.releaseNumber}`]);

  const report = await load.stop();
  load = null;
  t.diagnostic(`load: ${report.total} requests, ${report.failed} failed, p99 ${report.latencyMs.p99.toFixed(1)} ms`);
  assert.ok(report.total > 500, `enough traffic to mean something (${report.total})`);
  assert.equal(report.failed, 0, `failed requests: ${JSON.stringify(report.errors)} first: ${JSON.stringify(report.firstFailures.slice(0, 5))}`);

  const status = await cp.client.status('zdt');
  const web = status.services.find((s) => s.service === 'web')!;
  assert.equal(web.currentRelease?.number, rb.releaseNumber);
  assert.equal(web.replicas.length, 2, 'no leftover replicas');
  assert.ok(web.replicas.every((r) => r.edge === 'ready' && r.release === rb.releaseNumber));
});
