/**
 * Outbox and notifications against a real control plane, Docker and HAProxy, with an HTTP
 * receiver in the test: deployment events arrive signed, each event id once; when the
 * receiver is down and the control plane is SIGKILLed before the delivery succeeds, the
 * restarted control plane delivers the event, and the receiver (deduping by event id)
 * counts it exactly once.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cliFor } from './support/cli';
import { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject } from './support/test-project';
import { deployAndWait } from './support/wait-deployment';

const cp = await ControlPlaneProcess.create('notify');
const app = new TestProject('notify');

interface Received {
  eventId: string;
  type: string;
  signed: boolean;
  accepted: boolean;
  data: Record<string, unknown>;
}
const received: Received[] = [];
let accepting = true;
let secret = '';

const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    const ts = String(req.headers['x-slipway-timestamp'] ?? '');
    const expected = `sha256=${createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}`;
    const parsed = JSON.parse(body) as { type: string; data: Record<string, unknown> };
    received.push({ eventId: String(req.headers['x-slipway-event-id']), type: parsed.type, signed: req.headers['x-slipway-signature'] === expected, accepted: accepting, data: parsed.data });
    res.writeHead(accepting ? 200 : 503).end();
  });
});

/** What a receiver that dedupes by event id has taken in: id → count of accepted deliveries. */
const acceptedById = () => {
  const counts = new Map<string, number>();
  for (const r of received.filter((x) => x.accepted)) counts.set(r.eventId, (counts.get(r.eventId) ?? 0) + 1);
  return counts;
};

async function until<T>(what: string, fn: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; received: ${JSON.stringify(received.map((r) => [r.type, r.accepted]))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  await cp.start();
  await cp.client.createBaseImage('node');
  const port = (receiver.address() as AddressInfo).port;
  const added = await cp.client.addNotificationTarget({ kind: 'webhook', url: `http://127.0.0.1:${port}/hook`, project: 'notify' });
  secret = added.secret!;
});
after(async () => {
  await cp.destroy();
  receiver.close();
});

test('deployment events arrive signed, each once', async () => {
  const d = await deployAndWait(cp.client, app.write({ version: 'one', replicas: 1 }));
  assert.equal(d.state, 'succeeded', d.error ?? '');
  const succeeded = await until('deployment.succeeded', () => received.find((r) => r.type === 'deployment.succeeded' && r.data.deploymentId === d.id));
  assert.ok(received.some((r) => r.type === 'deployment.started' && r.data.deploymentId === d.id));
  assert.ok(received.every((r) => r.signed), 'every delivery carries a valid X-Slipway-Signature');
  assert.equal(succeeded.data.release, 1);
  assert.equal(succeeded.data.service, 'web');
  assert.ok([...acceptedById().values()].every((n) => n === 1));
});

test('killed before delivery, the restarted control plane delivers the event exactly once', async () => {
  accepting = false;
  const d = await deployAndWait(cp.client, app.write({ version: 'two', replicas: 1 }));
  assert.equal(d.state, 'succeeded', d.error ?? '');
  // The state change is committed with its event; the receiver refuses the first attempt.
  const refused = await until('a refused attempt', () => received.find((r) => r.type === 'deployment.succeeded' && r.data.deploymentId === d.id && !r.accepted));
  cp.kill();
  accepting = true;
  await cp.start();
  const delivered = await until('the delivery after the restart', () => received.find((r) => r.eventId === refused.eventId && r.accepted));
  assert.equal(delivered.type, 'deployment.succeeded');
  await new Promise((r) => setTimeout(r, 1500)); // a duplicate, if any, would arrive now
  assert.equal(acceptedById().get(refused.eventId), 1, 'counted once by its idempotency key');

  const list = await cliFor(cp, app.dir)('notifications', '--json');
  assert.equal(list.code, 0, list.stderr);
  const row = (JSON.parse(list.stdout) as Array<{ eventId: string; status: string; attempts: number; type: string }>).find((x) => x.eventId === refused.eventId);
  assert.equal(row?.status, 'delivered');
  // The refused attempt may or may not have been recorded before the SIGKILL (the kill can
  // land between the send and its bookkeeping): the receiver saw it either way.
  assert.ok((row?.attempts ?? 0) >= 1, `attempts: ${row?.attempts}`);
  assert.ok(received.filter((r) => r.eventId === refused.eventId).length >= 2, 'refused once, then delivered');
  const bad = await cliFor(cp, app.dir)('notifications', 'add', 'ftp://x', '--events', 'nope');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /url|events/);
});
