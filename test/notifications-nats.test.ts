/**
 * With NATS_URL set, the control plane publishes the outbox events to a real nats-server
 * (Debian's, started here on loopback): `slipway.events.<type>`, with the event id as
 * Nats-Msg-Id; the deliveries are recorded like any target's.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type NatsConnection } from 'nats';
import { ControlPlaneProcess } from './support/control-plane-process';
import { freePort } from './support/free-port';
import { TestProject } from './support/test-project';
import { deployAndWait } from './support/wait-deployment';

const cp = await ControlPlaneProcess.create('nats');
const app = new TestProject('natsapp');
let server: ChildProcess;
let nc: NatsConnection;
const messages: Array<{ subject: string; msgId: string | undefined; body: { id: string; type: string; data: Record<string, unknown> } }> = [];

before(async () => {
  const port = await freePort();
  server = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  for (let i = 0; ; i++) {
    try {
      nc = await connect({ servers: `127.0.0.1:${port}`, timeout: 1000 });
      break;
    } catch (err) {
      if (i > 50) throw new Error(`nats-server did not start on ${port}: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const sub = nc.subscribe('slipway.events.>');
  void (async () => {
    for await (const m of sub) messages.push({ subject: m.subject, msgId: m.headers?.get('Nats-Msg-Id'), body: JSON.parse(new TextDecoder().decode(m.data)) });
  })();
  await cp.start({ NATS_URL: `nats://127.0.0.1:${port}` });
  await cp.client.createBaseImage('node');
});
after(async () => {
  await cp.destroy();
  await nc?.close();
  server?.kill();
});

test('deployment events are published to NATS with their id, and recorded as delivered', async () => {
  const d = await deployAndWait(cp.client, app.write({ version: 'nats', replicas: 1 }));
  assert.equal(d.state, 'succeeded', d.error ?? '');
  const deadline = Date.now() + 20_000;
  while (!messages.some((m) => m.body.type === 'deployment.succeeded' && m.body.data.deploymentId === d.id)) {
    if (Date.now() > deadline) throw new Error(`no deployment.succeeded on NATS; got ${JSON.stringify(messages.map((m) => m.subject))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const ok = messages.find((m) => m.body.type === 'deployment.succeeded')!;
  assert.equal(ok.subject, 'slipway.events.deployment.succeeded');
  assert.equal(ok.msgId, ok.body.id, 'Nats-Msg-Id is the event id');
  assert.ok(messages.some((m) => m.subject === 'slipway.events.deployment.started'));
  const { targets } = await cp.client.notificationTargets();
  assert.deepEqual(targets.map((t) => [t.id, t.kind]), [['ntf_nats', 'nats']]);
  const { deliveries } = await cp.client.notificationDeliveries();
  assert.ok(deliveries.some((x) => x.eventId === ok.body.id && x.status === 'delivered'));
});
