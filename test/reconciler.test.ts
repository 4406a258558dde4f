/**
 * The reconciler against real Docker and HAProxy: a replica killed behind Slipway's back is
 * replaced by a `repair` deployment (same release, no build) and the edge serves from two
 * replicas again; the dead container and its edge server are gone. The replacement took the
 * dead replica's slot (the `slipway.slot` label read back from Docker), and status and the stats
 * API count that slot's restart (1) and the service's, the other slot none.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Docker from 'dockerode';
import { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject } from './support/test-project';
import { deployAndWait, deploymentLog, waitDeployment } from './support/wait-deployment';
import { getWithHost } from './support/http-get';

const cp = await ControlPlaneProcess.create('reconciler');
const app = new TestProject('reconcile');
const docker = new Docker();

before(async () => {
  await cp.start({ SLIPWAY_RECONCILE_INTERVAL: '500ms' });
  await cp.client.createBaseImage('node');
});

after(async () => {
  await cp.destroy();
});

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${cp.tail(30)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('a killed replica is replaced by a repair of the live release', async () => {
  const first = await deployAndWait(cp.client, app.write({ version: 'a', replicas: 2 }));
  assert.equal(first.state, 'succeeded', await deploymentLog(cp.client, first.id));
  const before = (await cp.client.status('reconcile')).services[0]!;
  assert.equal(before.readyReplicas, 2);
  const victim = before.replicas[0]!;
  assert.deepEqual(before.replicas.map((r) => [r.slot, r.restarts]).sort(), [[0, 0], [1, 0]], 'a deploy gives slots 0 and 1 and no restart');
  assert.deepEqual(before.restarts, { lastHour: 0, last24h: 0 });

  const containers = await docker.listContainers({ all: true, filters: { name: [victim.name] } });
  await docker.getContainer(containers[0]!.Id).kill({ signal: 'SIGKILL' });

  const repair = await until('a repair deployment', async () => (await cp.client.deployments('reconcile')).deployments.find((d) => d.kind === 'repair'));
  const done = await waitDeployment(cp.client, repair.id);
  const log = await deploymentLog(cp.client, repair.id);
  assert.equal(done.state, 'succeeded', log);
  assert.equal(done.triggeredBy, 'reconciler');
  assert.equal(done.releaseNumber, 1, 'the live release, no new one');
  assert.match(log, new RegExp(`replica ${victim.name} \\(v1\\) exited with code 137 \\(killed: SIGKILL or out of memory\\): removing it`));
  assert.match(log, /start 1 replacement replica\(s\) of v1|receives traffic/);
  assert.deepEqual((await cp.client.releases('reconcile', 'web')).releases.map((r) => r.number), [1]);

  const after = (await cp.client.status('reconcile')).services[0]!;
  assert.equal(after.readyReplicas, 2);
  assert.ok(!after.replicas.some((r) => r.name === victim.name), 'the dead container is gone');
  assert.deepEqual(after.replicas.map((r) => [r.state, r.edge, r.release]), [['running', 'ready', 1], ['running', 'ready', 1]]);
  // One restart of the victim's slot, which its replacement took; none of the other.
  assert.deepEqual(after.replicas.map((r) => [r.slot, r.restarts]).sort(), [0, 1].map((slot) => [slot, slot === victim.slot ? 1 : 0]));
  assert.deepEqual(after.restarts, { lastHour: 1, last24h: 1 });
  const replacement = after.replicas.find((r) => r.slot === victim.slot)!;
  // The stats API says the same once the sampler (every 5 s) has read the replacement.
  const stats = await until('the replacement in the stats', async () => {
    const s = await cp.client.serviceStats('reconcile', 'web', { env: 'production', since: '15m' });
    return s.replicas.some((r) => r.replica === replacement.name) ? s : undefined;
  }, 30_000);
  assert.deepEqual(stats.restarts, { lastHour: 1, last24h: 1 });
  const series = stats.replicas.find((r) => r.replica === replacement.name)!;
  assert.deepEqual([series.slot, series.restarts, series.points.at(-1)?.restarts], [victim.slot, 1, 1]);
  for (let i = 0; i < 4; i++) assert.equal((await getWithHost(cp.httpPort, app.domain)).status, 200);

  // Nothing more to do: no second repair.
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await cp.client.deployments('reconcile')).deployments.filter((d) => d.kind === 'repair').length, 1);
});
