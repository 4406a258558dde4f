/**
 * Health check kinds of services against a real control plane, Docker and HAProxy:
 * `health: { kind: tcp }` gates readiness on a TCP connect and gets TCP checks at the edge (an
 * app whose HTTP /health fails keeps serving); `kind: exec` runs a command inside the replica
 * (exit 0 = ready), and a failing one fails the deploy naming the check and its exit code while
 * the live release keeps serving; a worker with `kind: exec` is ready by its command instead of
 * "running for min_ready".
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ControlPlaneProcess } from './support/control-plane-process';
import { getWithHost } from './support/http-get';
import { TestProject } from './support/test-project';
import { deployAndWait, deploymentLog } from './support/wait-deployment';

const cp = await ControlPlaneProcess.create('health-kinds');
const app = new TestProject('hkinds');

before(async () => {
  await cp.start();
  await cp.client.createBaseImage('node');
});
after(() => cp.destroy());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('kind tcp: ready on a TCP connect, checked by TCP at the edge: a failing HTTP /health does not matter', async () => {
  // HEALTH_FAIL=1: /health answers 503. With HTTP readiness the deploy would fail, with HTTP edge checks the replica would leave rotation.
  const d = await deployAndWait(cp.client, app.write({ version: 'tcp', replicas: 1, env: { HEALTH_FAIL: '1' }, health: { kind: 'tcp' } }));
  const log = await deploymentLog(cp.client, d.id);
  assert.equal(d.state, 'succeeded', log);
  assert.match(log, /probing tcp connect to port 3000/);

  const cfg = readFileSync(path.join(cp.dataDir, 'edge', 'haproxy.cfg'), 'utf8');
  const backend = cfg.slice(cfg.indexOf('backend be_hkinds_web_production'));
  const section = backend.slice(0, backend.indexOf('\n\n'));
  assert.doesNotMatch(section, /httpchk|http-check/, section);
  assert.match(section, /timeout check 1000ms/, 'the backend is checked (a TCP connect: check without httpchk)');

  // Longer than fall × interval of the edge's checks (3 × 1 s): the replica stays in rotation.
  await sleep(4500);
  for (let i = 0; i < 5; i++) assert.equal((await getWithHost(cp.httpPort, app.domain)).status, 200);
  const web = (await cp.client.status('hkinds')).services.find((s) => s.service === 'web')!;
  assert.deepEqual(web.replicas.map((r) => r.edge), ['ready']);
});

test('kind exec: a command that exits 0 inside the replica makes it ready; one that exits 1 fails the deploy and the live release serves on', async () => {
  const ok = await deployAndWait(cp.client, app.write({ version: 'exec-ok', replicas: 1, health: { kind: 'exec', command: ['node', '-e', 'process.exit(0)'] } }));
  const okLog = await deploymentLog(cp.client, ok.id);
  assert.equal(ok.state, 'succeeded', okLog);
  assert.match(okLog, /probing exec \["node","-e","process.exit\(0\)"\]/);
  const live = ok.releaseNumber;

  const bad = await deployAndWait(cp.client, app.write({ version: 'exec-bad', replicas: 1, health: { kind: 'exec', command: ['node', '-e', 'process.exit(1)'], deadline: '3s' } }));
  const badLog = await deploymentLog(cp.client, bad.id);
  assert.equal(bad.state, 'failed', badLog);
  assert.equal(bad.errorCode, 'SLW_HEALTH_FAILED');
  assert.match(bad.error ?? '', /did not pass readiness \(exec \["node","-e","process.exit\(1\)"\]\) within 3s \(last probe: exit code 1; 2 consecutive successes needed\)/);

  const web = (await cp.client.status('hkinds')).services.find((s) => s.service === 'web')!;
  assert.equal(web.currentRelease?.number, live, 'the previous release is still live');
  const res = await getWithHost(cp.httpPort, app.domain);
  assert.equal(res.status, 200);
  assert.match(res.body, /"version":"exec-ok"/);
});

test('a worker with kind exec is ready once its command passes, not after min_ready', async () => {
  const worker = {
    build: '.',
    command: ['node', '/app/worker.js'],
    // The worker's own heartbeat check; min_ready so long that a min_ready wait could not pass the deadline.
    health: { kind: 'exec', command: ['node', '/app/worker.js', '--check'], interval: '300ms', deadline: '20s' },
    min_ready: '10m',
  };
  const d = await deployAndWait(cp.client, { ...app.write({ version: 'exec-ok', replicas: 1, health: { kind: 'exec', command: ['node', '-e', 'process.exit(0)'] }, services: { worker } }), services: ['worker'] });
  const log = await deploymentLog(cp.client, d.id);
  assert.equal(d.state, 'succeeded', log);
  assert.match(log, /checking exec \["node","\/app\/worker.js","--check"\]/);
  assert.match(log, /is ready \(\d+ check\(s\) run after \d+ ms\)/);
});
