/**
 * `slipway scale` and `slipway restart` from the command line against a real control plane,
 * Docker and HAProxy, under load through the edge: scaling web from 2 to 4 (and back to 2) and
 * restarting it drop no request, run the asked count of ready replicas of a new release (its
 * image, config and secrets those of the one before), record the deployment with who asked and
 * audit it; the next deploy from slipway.yml runs its own count again and says so. `slipway stop`
 * under load: requests sent before it and a slow one in flight all answer 200 (the replicas are
 * drained), every later one gets the edge's 503 page naming the service (never a connection error
 * or HAProxy's own 503), no container is left, status says stopped; `slipway start`: 200 again
 * with the count from before the stop.
 *
 * Run: SLIPWAY_STRICT_RESPONSES=1 node --import tsx --test --test-concurrency=1 test/scale.test.ts
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startLoad, type LoadRun } from '../bench/lib/load-generator';
import { cliFor } from './support/cli';
import { getWithHost } from './support/http-get';
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

test('slipway stop under load: requests before it and in flight answer 200, then the 503 page names the service; status says stopped; slipway start runs the count before', async (t) => {
  const edgePort = Number(new URL(cp.edgeUrl).port);
  const v = (await web()).release.number;
  assert.equal((await web()).ready.length, 2);
  /** Every answer: when it was sent, its status, and whether it was the stopped page (header and text). */
  const answers: Array<{ sentAt: number; status: number; page: boolean }> = [];
  const stopLoad = startLoad({
    url: cp.edgeUrl,
    hostHeader: app.domain,
    concurrency: 6,
    path: '/',
    inspect: ({ status, headers, body, sentAt }) => answers.push({ sentAt, status, page: headers['x-slipway-stopped'] === 'web' && body.includes('<h1>web is stopped</h1>') }),
  });
  try {
    await new Promise((r) => setTimeout(r, 800));
    // A request in flight when the stop comes: its replica is drained, not stopped under it.
    const slow = getWithHost(edgePort, app.domain, '/slow?ms=2500');
    await new Promise((r) => setTimeout(r, 300));
    const askedAt = Date.now();
    const r = await slipway('stop', 'web');
    const stoppedAt = Date.now();
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, new RegExp(`stopping scale/web in production: v${v} as a new release with 0 replicas`));
    assert.match(r.stdout, /✔ web is stopped \(v\d+, 0 replicas\); slipway start web runs it again/);
    const inFlight = await slow;
    assert.equal(inFlight.status, 200, `the request in flight during the stop finished: ${inFlight.status} ${inFlight.body}`);
    assert.ok(stoppedAt - askedAt >= 1500, 'the stop waited for it (drain)');
    await new Promise((r) => setTimeout(r, 500));

    // Status: stopped, nothing runs, the domain answers the page.
    const s = (await cp.client.status('scale')).services.find((x) => x.service === 'web')!;
    assert.deepEqual([s.stopped, s.desiredReplicas, s.readyReplicas, s.replicas.length, s.currentRelease!.number], [true, 0, 0, 0, v + 1]);
    const st = await slipway('status');
    assert.equal(st.code, 0, st.stderr);
    assert.match(st.stdout, new RegExp(`web: v${v + 1}, stopped \\(slipway start web runs it again`));
    const direct = await getWithHost(edgePort, app.domain, '/');
    assert.equal(direct.status, 503);
    assert.equal(direct.headers['x-slipway-stopped'], 'web');
    assert.match(direct.body, /<title>web is stopped<\/title>/);
    const { deployments } = await cp.client.deployments('scale', { service: 'web', limit: 1 });
    assert.deepEqual([deployments[0]!.kind, deployments[0]!.state], ['stop', 'succeeded']);

    const before = answers.filter((a) => a.sentAt < askedAt);
    assert.ok(before.length > 50, `traffic before the stop (${before.length})`);
    assert.deepEqual(before.filter((a) => a.status !== 200), [], 'every request sent before the stop was answered 200');
    const after = answers.filter((a) => a.sentAt > stoppedAt);
    assert.ok(after.length > 20, `traffic after the stop (${after.length})`);
    assert.ok(after.every((a) => a.status === 503 && a.page), 'every request after the stop got the stopped page');
    const during = answers.filter((a) => a.sentAt >= askedAt && a.sentAt <= stoppedAt);
    assert.ok(during.every((a) => a.status === 200 || (a.status === 503 && a.page)), 'during the stop: a replica answered, or the page (never HAProxy\'s bare 503)');
    const snap = stopLoad.snapshot();
    assert.deepEqual(Object.keys(snap.errors).filter((k) => k !== 'non2xx:503'), [], `no connection error, timeout or other status: ${JSON.stringify(snap.errors)}`);
    t.diagnostic(`stop: ${before.length} request(s) before (all 200), ${during.length} during, ${after.length} after (all the page); stop took ${stoppedAt - askedAt} ms`);

    // Start: the count from before the stop, 200 again.
    const started = await slipway('start', 'web');
    const startedAt = Date.now();
    assert.equal(started.code, 0, `${started.stdout}\n${started.stderr}`);
    assert.match(started.stdout, /starting scale\/web in production: v\d+ as a new release with the 2 replica\(s\) it ran before it was stopped/);
    const back = await web();
    assert.deepEqual([back.release.number, back.ready.length, back.all.length], [v + 2, 2, 2], 'the count from before the stop');
    assert.equal((await cp.client.status('scale')).services.find((x) => x.service === 'web')!.stopped, false);
    await new Promise((r) => setTimeout(r, 500));
    const again = answers.filter((a) => a.sentAt > startedAt);
    assert.ok(again.length > 20 && again.every((a) => a.status === 200), `every request after the start answered 200 (${again.length})`);
    assert.equal((await getWithHost(edgePort, app.domain, '/')).status, 200);
    const report = await stopLoad.stop();
    assert.deepEqual(Object.keys(report.errors).filter((k) => k !== 'non2xx:503'), [], JSON.stringify(report.firstFailures.slice(0, 5)));
    assert.ok(answers.filter((a) => a.status === 503).every((a) => a.page), "every 503 was the stopped page, never HAProxy's own");

    // A running service is not started again.
    const twice = await slipway('start', 'web');
    assert.notEqual(twice.code, 0);
    assert.match(twice.stderr, /web in production is not stopped/);
  } finally {
    await stopLoad.stop();
  }
});
