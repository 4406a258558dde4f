/**
 * `slipway scale` and `slipway restart` from the command line against a real control plane,
 * Docker and HAProxy, under load through the edge: scaling web from 2 to 4 (and back to 2) and
 * restarting it drop no request, run the asked count of ready replicas of a new release (its
 * image, config and secrets those of the one before), record the deployment with who asked and
 * audit it; the next deploy from slipway.yml runs its own count again and says so.
 *
 * Run: SLIPWAY_STRICT_RESPONSES=1 node --import tsx --test --test-concurrency=1 test/scale.test.ts
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startLoad, type LoadRun } from '../bench/lib/load-generator';
import { cliFor } from './support/cli';
import { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject } from './support/test-project';
import { deployAndWait, deploymentLog } from './support/wait-deployment';

const cp = await ControlPlaneProcess.create('scale');
const app = new TestProject('scale');
const slipway = cliFor(cp, app.dir);
let load: LoadRun | null = null;

before(async () => {
  await cp.start();
  await cp.client.createBaseImage('node');
  const d = await deployAndWait(cp.client, app.write({ version: 'one', replicas: 2 }));
  assert.equal(d.state, 'succeeded', await deploymentLog(cp.client, d.id));
  load = startLoad({ url: cp.edgeUrl, hostHeader: app.domain, concurrency: 6, path: '/' });
});

after(async () => {
  await load?.stop();
  await cp.destroy();
});

/** The web service's ready replicas (in rotation at the edge) and its live release. */
async function web() {
  const s = (await cp.client.status('scale')).services.find((x) => x.service === 'web')!;
  return { release: s.currentRelease!, ready: s.replicas.filter((r) => r.state === 'running' && r.edge === 'ready'), all: s.replicas };
}

function assertNoFailures(what: string): void {
  const snap = load!.snapshot();
  assert.equal(snap.failed, 0, `${what}: ${snap.failed} of ${snap.total} requests failed: ${JSON.stringify(snap.firstFailures.slice(0, 5))}`);
  assert.ok(snap.total > 100, `${what}: enough traffic to mean something (${snap.total})`);
}

test('slipway scale web 4 under load: 0 failed requests, 4 ready replicas of a new release with only the count changed, recorded and audited', async (t) => {
  const before = await web();
  const r = await slipway('scale', 'web', '4');
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /scaling scale\/web in production from 2 to 4 replica\(s\)/);
  assert.match(r.stdout, /✔ web runs 4 replica\(s\) of v2/);
  const after = await web();
  assert.equal(after.release.number, before.release.number + 1, 'a new release');
  assert.equal(after.ready.length, 4);
  assert.equal(after.all.length, 4, 'no leftover replica');
  assert.equal(after.release.imageDigest, before.release.imageDigest, 'the same image');
  const { deployments } = await cp.client.deployments('scale', { service: 'web', limit: 1 });
  assert.deepEqual([deployments[0]!.kind, deployments[0]!.state], ['scale', 'succeeded']);
  assert.ok(deployments[0]!.triggeredBy, 'who asked is recorded');
  const audit = (await cp.client.audit({ limit: 20 })).entries;
  const entry = audit.find((e) => e.action === 'POST /api/v1/projects/:project/services/:service/scale');
  assert.ok(entry && /replicas 4/.test(entry.detail ?? '') && entry.actor === deployments[0]!.triggeredBy, JSON.stringify(audit.slice(0, 3)));
  assertNoFailures('scale to 4');
  t.diagnostic(`load so far: ${JSON.stringify({ total: load!.snapshot().total, failed: load!.snapshot().failed })}`);

  // Bad input is refused, naming what is wrong, and starts nothing.
  const bad = await slipway('scale', 'web', '0');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /<replicas> must be a whole number from 1 to 100, got "0"/);
  const same = await slipway('scale', 'web', '4');
  assert.notEqual(same.code, 0);
  assert.match(same.stderr, /already runs 4 replica\(s\) \(v2\): nothing to scale/);
  assert.equal((await web()).release.number, after.release.number);
});

test('slipway restart under load: every container replaced, 0 failed requests; back to 2', async () => {
  const before = await web();
  const r = await slipway('restart', 'web');
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const after = await web();
  assert.equal(after.release.number, before.release.number + 1);
  assert.equal(after.ready.length, 4);
  assert.equal(after.all.filter((x) => before.all.some((b) => b.name === x.name)).length, 0, 'every replica is a new container');
  const down = await slipway('scale', 'web', '2', '--json');
  assert.equal(down.code, 0, down.stderr);
  assert.equal((JSON.parse(down.stdout) as { state: string }).state, 'succeeded');
  assert.equal((await web()).ready.length, 2);
  assertNoFailures('restart and scale to 2');
});

test("the next deploy from slipway.yml runs the file's count again and says so", async () => {
  assert.equal((await slipway('scale', 'web', '3')).code, 0);
  const d = await deployAndWait(cp.client, app.write({ version: 'two', replicas: 2 }));
  assert.equal(d.state, 'succeeded');
  const log = await deploymentLog(cp.client, d.id);
  assert.match(log, /replicas: 2 from slipway\.yml \(v\d+ runs 3; to keep a count raised by slipway scale, write replicas: \{ min: 2 \}\)/);
  assert.equal((await web()).ready.length, 2);
  const report = await load!.stop();
  load = null;
  assert.equal(report.failed, 0, JSON.stringify(report.firstFailures.slice(0, 5)));
});
