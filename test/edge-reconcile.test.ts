/**
 * The edge is reconciled like containers, against real Docker and HAProxy: changes made
 * behind Slipway's back through HAProxy's admin socket (a server deleted, a server drained, a
 * stray host route, a server with no container) are put right by the reconciler's next pass,
 * each logged and sent as an `edge.corrected` event to the notification targets.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { sendCommand } from '../src/drivers/haproxy/runtime-api';
import { backendName } from '../src/core/ports/edge';
import { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject } from './support/test-project';
import { deployAndWait, deploymentLog } from './support/wait-deployment';
import { getWithHost } from './support/http-get';

const cp = await ControlPlaneProcess.create('edgefix');
const app = new TestProject('edgefix');
const backend = backendName('edgefix', 'web', 'production');
const adminSocket = path.join(cp.dataDir, 'edge', 'admin.sock');
const mapFile = path.join(cp.dataDir, 'edge', 'hosts.map');

const events: Array<{ type: string; data: Record<string, unknown> }> = [];
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    const parsed = JSON.parse(body) as { type: string; data: Record<string, unknown> };
    events.push({ type: parsed.type, data: parsed.data });
    res.writeHead(200).end();
  });
});

before(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  await cp.start({ SLIPWAY_RECONCILE_INTERVAL: '1s' });
  await cp.client.createBaseImage('node');
  await cp.client.addNotificationTarget({ kind: 'webhook', url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` });
  const d = await deployAndWait(cp.client, app.write({ version: 'a', replicas: 2 }));
  assert.equal(d.state, 'succeeded', await deploymentLog(cp.client, d.id));
});

after(async () => {
  await cp.destroy();
  receiver.close();
});

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\nevents: ${JSON.stringify(events)}\n${cp.tail(30)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The backend's servers as HAProxy itself reports them: name → status column. */
async function servers(): Promise<Map<string, string>> {
  const csv = await sendCommand(adminSocket, `show stat ${backend} 4 -1`);
  const lines = csv.split('\n').filter((l) => l.trim());
  const cols = lines[0]!.replace(/^# /, '').split(',');
  const out = new Map<string, string>();
  for (const l of lines.slice(1)) {
    const cells = l.split(',');
    const name = cells[cols.indexOf('svname')]!;
    if (cells[cols.indexOf('pxname')] === backend && name !== 'BACKEND') out.set(name, cells[cols.indexOf('status')]!);
  }
  return out;
}

async function admin(command: string): Promise<string> {
  return (await sendCommand(adminSocket, command)).trim();
}

const corrected = (kind: string, match: (data: Record<string, unknown>) => boolean) =>
  until(`an edge.corrected event (${kind})`, async () => events.find((e) => e.type === 'edge.corrected' && e.data.correction === kind && match(e.data)));

test('a server deleted behind Slipway\'s back is re-added by the next pass', async () => {
  const replicas = (await cp.client.status('edgefix')).services[0]!.replicas;
  assert.equal(replicas.length, 2);
  const victim = replicas[0]!.name;
  assert.match((await servers()).get(victim) ?? '', /^(UP|no check)/);
  assert.equal(await admin(`set server ${backend}/${victim} state maint`), '');
  assert.match(await admin(`del server ${backend}/${victim}`), /Server deleted/);
  assert.equal((await servers()).has(victim), false);

  const event = await corrected('add-server', (d) => String(d.summary).includes(victim));
  assert.equal(event.data.project, 'edgefix');
  assert.equal(event.data.service, 'web');
  assert.equal(event.data.backend, backend);
  await until('the server back in rotation', async () => ((await servers()).get(victim)?.match(/^(UP|no check)/) ? true : undefined));
  const status = (await cp.client.status('edgefix')).services[0]!;
  assert.deepEqual(status.replicas.map((r) => r.edge).sort(), ['ready', 'ready']);
  // The correction is not a redeploy: the same containers serve, and no deployment was made.
  assert.deepEqual(status.replicas.map((r) => r.name).sort(), replicas.map((r) => r.name).sort());
  assert.equal((await cp.client.deployments('edgefix')).deployments.length, 1);
  for (let i = 0; i < 4; i++) assert.equal((await getWithHost(cp.httpPort, app.domain)).status, 200);
  assert.match(readFileSync(cp.logFile, 'utf8'), new RegExp(`edge corrected: ready replica ${victim} was missing from ${backend}: added`));
});

test('a server left in drain is put back in rotation', async () => {
  const victim = (await cp.client.status('edgefix')).services[0]!.replicas[1]!.name;
  assert.equal(await admin(`set server ${backend}/${victim} state drain`), '');
  assert.match((await servers()).get(victim) ?? '', /^DRAIN/);
  await corrected('resolve-server', (d) => String(d.summary).includes(victim) && String(d.summary).includes('left drain'));
  await until('the drained server ready again', async () => ((await servers()).get(victim)?.match(/^(UP|no check)/) ? true : undefined));
});

test('a stray host route and a server with no container are removed', async () => {
  assert.equal(await admin(`add map ${mapFile} bogus.edgefix.localhost ${backend}`), '');
  assert.match(await admin(`add server ${backend}/bogus-server 10.254.254.254:3000`), /New server registered/);
  assert.equal(await admin(`set server ${backend}/bogus-server state ready`), '');
  await corrected('remove-route', (d) => String(d.summary).includes('bogus.edgefix.localhost'));
  const removed = await corrected('remove-server', (d) => String(d.summary).includes('bogus-server'));
  assert.match(String(removed.data.summary), /no container behind it/);
  await until('the stray route gone', async () => (!(await admin(`show map ${mapFile}`)).includes('bogus.edgefix.localhost') ? true : undefined));
  await until('the stray server gone', async () => (!(await servers()).has('bogus-server') ? true : undefined));
  // The real route and both replicas are untouched.
  assert.match(await admin(`show map ${mapFile}`), new RegExp(`${app.domain.replace(/\./g, '\\.')} ${backend}`));
  assert.equal([...(await servers()).values()].filter((s) => /^(UP|no check)/.test(s)).length, 2);
  assert.equal((await getWithHost(cp.httpPort, 'bogus.edgefix.localhost')).status === 200, false, 'the stray host no longer reaches the app');
});

test('an edge equal to the desired state is left alone', async () => {
  const before = events.filter((e) => e.type === 'edge.corrected').length;
  // Several passes at 1 s.
  await new Promise((r) => setTimeout(r, 4000));
  assert.equal(events.filter((e) => e.type === 'edge.corrected').length, before, JSON.stringify(events.slice(before)));
});
