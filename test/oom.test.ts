/**
 * OOM kills reported, against a real control plane, Docker (a real memory limit, the kernel's
 * real OOM killer) and HAProxy: a worker with `resources: { memory: 32m }` that allocates until
 * killed is repaired by the reconciler, whose repair log says it was the OOM killer with the
 * limit, and a `replica.oom_killed` event reaches a webhook target and a Slack-compatible one.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject } from './support/test-project';
import { deployAndWait, deploymentLog, waitDeployment } from './support/wait-deployment';

const cp = await ControlPlaneProcess.create('oom');
const app = new TestProject('oom');

const received: Array<{ path: string; type: string | null; body: Record<string, unknown> }> = [];
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    received.push({ path: req.url ?? '', type: (req.headers['x-slipway-event'] as string | undefined) ?? null, body: JSON.parse(body) as Record<string, unknown> });
    res.writeHead(200).end();
  });
});

before(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  await cp.start({ SLIPWAY_RECONCILE_INTERVAL: '500ms' });
  await cp.client.createBaseImage('node');
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  await cp.client.addNotificationTarget({ kind: 'webhook', url: `${url}/hook`, project: 'oom', events: ['replica.oom_killed'] });
  await cp.client.addNotificationTarget({ kind: 'slack', url: `${url}/slack`, project: 'oom', events: ['replica.oom_killed'] });
});
after(async () => {
  await cp.destroy();
  receiver.close();
});

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${cp.tail(30)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('a replica killed by the OOM killer is reported by the repair and in notifications', async () => {
  const worker = {
    build: '.',
    // Passes min_ready, then allocates 8 MB every 50 ms until the kernel kills it at 32 MiB.
    command: ['node', '-e', 'console.log("up"); setTimeout(() => { const a = []; setInterval(() => a.push(Buffer.alloc(8e6, 1)), 50); }, 3000)'],
    min_ready: '1s',
    resources: { memory: '32m' },
  };
  const d = await deployAndWait(cp.client, { ...app.write({ version: 'one', replicas: 1, services: { worker } }), services: ['worker'] });
  assert.equal(d.state, 'succeeded', await deploymentLog(cp.client, d.id));

  const repair = await until('a repair deployment', async () => (await cp.client.deployments('oom')).deployments.find((x) => x.kind === 'repair' && x.service === 'worker'));
  await waitDeployment(cp.client, repair.id);
  const log = await deploymentLog(cp.client, repair.id);
  assert.match(log, /replica oom-worker-\S+ \(v1\) was killed by the kernel's OOM killer \(memory limit 32 MiB\): removing it/, log);

  const hook = await until('the replica.oom_killed webhook', () => received.find((r) => r.path === '/hook' && r.type === 'replica.oom_killed'));
  const data = hook.body.data as Record<string, unknown>;
  assert.equal(hook.body.project, 'oom');
  assert.deepEqual(
    { service: data.service, env: data.env, release: data.release, memoryLimitMiB: data.memoryLimitMiB, memoryLimitBytes: data.memoryLimitBytes, deploymentId: data.deploymentId },
    { service: 'worker', env: 'production', release: 1, memoryLimitMiB: 32, memoryLimitBytes: 32 * 1024 * 1024, deploymentId: repair.id },
  );
  assert.match(String(data.replica), /^oom-worker-/);
  const slack = await until('the Slack text', () => received.find((r) => r.path === '/slack'));
  assert.match(String(slack.body.text), /oom\/worker\/production: replica oom-worker-\S+ \(v1\) was killed by the kernel's OOM killer \(memory limit 32 MiB\)/);
});
