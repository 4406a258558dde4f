/**
 * The edge never stays down (issue 19, items 1 and 3), against real Docker and HAProxy:
 * - every HAProxy process of the control plane's edge SIGKILLed while a service with 2
 *   replicas is live → the supervisor restarts it at once with both servers written into
 *   its config (no deploy, no repair), `status` shows them in the edge, `edge.restarted`
 *   reaches a webhook target, and /readyz said degraded (edge) while it was down;
 * - the edge killed while the control plane is stopped: started again with the replicas that
 *   still run as servers (no repair);
 * - start from nothing (control plane stopped, edge killed, every replica `docker stop`ped):
 *   the control plane brings every live service back with its replica count, and /readyz
 *   says ready only once they answer through the edge.
 * Recovery times are printed as diagnostics, never asserted.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Docker from 'dockerode';
import { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject } from './support/test-project';
import { deployAndWait, deploymentLog } from './support/wait-deployment';
import { getWithHost } from './support/http-get';

const cp = await ControlPlaneProcess.create('edge-restart');
const web = new TestProject('edgerestart');
const api = new TestProject('edgerestart2');
const docker = new Docker();
const edgeDir = path.join(cp.dataDir, 'edge');

const received: Array<{ type: string; data: Record<string, unknown> }> = [];
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    const parsed = JSON.parse(body) as { type: string; data: Record<string, unknown> };
    received.push({ type: parsed.type, data: parsed.data });
    res.writeHead(200).end();
  });
});

before(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  await cp.start();
  await cp.client.createBaseImage('node');
  const port = (receiver.address() as AddressInfo).port;
  await cp.client.addNotificationTarget({ kind: 'webhook', url: `http://127.0.0.1:${port}/hook`, events: ['edge.restarted'] });
});

after(async () => {
  await cp.destroy();
  receiver.close();
});

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${cp.tail(40)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Every process of this control plane's edge: the master from the pid file, and all that run its config. */
function edgePids(): number[] {
  const pids = new Set<number>();
  try {
    pids.add(Number(readFileSync(path.join(edgeDir, 'haproxy.pid'), 'utf8').trim().split('\n')[0]));
  } catch {
    // no pid file
  }
  try {
    for (const p of execFileSync('pgrep', ['-f', path.join(edgeDir, 'haproxy.cfg')], { encoding: 'utf8' }).split('\n')) if (p.trim()) pids.add(Number(p));
  } catch {
    // pgrep exits 1 when nothing matches
  }
  return [...pids].filter((p) => Number.isInteger(p) && p > 0 && running(p));
}

/** Alive and not a zombie (a killed master nobody reaped yet still has its pid). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function killEdge(): number[] {
  const pids = edgePids();
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return pids;
}

async function readyz(): Promise<{ code: number; body: { status: string; checks: Record<string, { status: string; output?: string }> } }> {
  const res = await fetch(`http://127.0.0.1:${cp.apiPort}/readyz`);
  return { code: res.status, body: (await res.json()) as { status: string; checks: Record<string, { status: string; output?: string }> } };
}

const answers = async (host: string) => ((await getWithHost(cp.httpPort, host).catch(() => ({ status: 0 }))).status === 200 ? true : undefined);

test('every edge process SIGKILLed: restarted at once with its servers, no deploy; event sent; /readyz degraded meanwhile', async (t) => {
  const d = await deployAndWait(cp.client, web.write({ version: 'a', replicas: 2 }));
  assert.equal(d.state, 'succeeded', await deploymentLog(cp.client, d.id));
  assert.equal((await getWithHost(cp.httpPort, web.domain)).status, 200);
  const deploymentsBefore = (await cp.client.deployments(web.project)).deployments.length;
  assert.equal((await readyz()).body.status, 'healthy');

  // Watch /readyz and the app through the edge while it dies.
  const seen: string[] = [];
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const r = await readyz().catch(() => null);
      if (r && r.body.status !== 'healthy') seen.push(`${r.body.status}: ${r.body.checks.edge?.output ?? ''}`);
      await new Promise((res) => setTimeout(res, 20));
    }
  })();

  const killed = killEdge();
  const killedAt = Date.now();
  assert.ok(killed.length >= 2, `master and worker found: ${killed.join(', ')}`);
  await until('the edge serving the app again', () => answers(web.domain), 30_000, 20);
  const backMs = Date.now() - killedAt;
  await new Promise((res) => setTimeout(res, 300));
  watching = false;
  await watcher;
  t.diagnostic(`edge back serving ${web.domain} ${backMs} ms after SIGKILL of ${killed.length} processes`);

  const newMaster = Number(readFileSync(path.join(edgeDir, 'haproxy.pid'), 'utf8').trim().split('\n')[0]);
  assert.ok(!killed.includes(newMaster), 'a new master runs');
  for (let i = 0; i < 6; i++) assert.equal((await getWithHost(cp.httpPort, web.domain)).status, 200);
  const status = (await cp.client.status(web.project)).services[0]!;
  assert.equal(status.readyReplicas, 2);
  assert.deepEqual(status.replicas.map((r) => [r.state, r.edge]), [['running', 'ready'], ['running', 'ready']]);
  assert.equal((await cp.client.deployments(web.project)).deployments.length, deploymentsBefore, 'no deploy and no repair: the servers came from the desired state');
  const restartLine = cp.tail(400).split('\n').find((l) => l.includes('edge restarted with its servers restored'));
  assert.ok(restartLine, 'the restart is logged');
  const { downMs, desiredMs, startMs } = JSON.parse(restartLine) as Record<string, number>;
  t.diagnostic(`restart: ${downMs} ms from noticing the death to serving (desired state ${desiredMs} ms, HAProxy start ${startMs} ms)`);

  const event = await until('the edge.restarted notification', async () => received.find((e) => e.type === 'edge.restarted'), 30_000);
  assert.equal(event.data.servers, 2);
  assert.equal(typeof event.data.reason, 'string');
  t.diagnostic(`edge.restarted: ${JSON.stringify(event.data)}`);

  if (seen.length > 0) {
    assert.ok(seen.every((s) => s.startsWith('degraded')), `while down: ${seen.join(' | ')}`);
    t.diagnostic(`/readyz while the edge was down: ${seen[0]}`);
  } else {
    t.diagnostic('/readyz was not caught while the edge was down (the restart was faster than a poll)');
  }
  assert.equal((await until('/readyz healthy again', async () => ((await readyz()).body.status === 'healthy' ? true : undefined))), true);
});

test('the edge died while the control plane was away: started again with the running replicas as servers, no repair', async () => {
  const deploymentsBefore = (await cp.client.deployments(web.project)).deployments.length;
  await cp.stop();
  killEdge();
  await until('the edge gone', async () => (edgePids().length === 0 ? true : undefined), 10_000);
  await cp.start();
  // Served at once: the servers were in the config the edge started with (not added by a repair or a reconciler pass).
  assert.equal((await getWithHost(cp.httpPort, web.domain)).status, 200);
  const s = (await cp.client.status(web.project)).services[0]!;
  assert.deepEqual(s.replicas.map((r) => [r.state, r.edge]), [['running', 'ready'], ['running', 'ready']]);
  assert.equal((await cp.client.deployments(web.project)).deployments.length, deploymentsBefore, 'no repair deployment');
  assert.match(cp.tail(300), /"servers":2,"msg":"started the edge with the servers of the desired state"/);
});

test('start from nothing: edge killed, replicas stopped → every live service back before /readyz says ready', async (t) => {
  const d = await deployAndWait(cp.client, api.write({ version: 'b', replicas: 1 }));
  assert.equal(d.state, 'succeeded', await deploymentLog(cp.client, d.id));
  const wanted = new Map([
    [web.project, 2],
    [api.project, 1],
  ]);

  await cp.stop();
  killEdge();
  await until('the edge gone', async () => (edgePids().length === 0 ? true : undefined), 10_000);
  // Replicas are on their environment networks (`<network>-<project>-<env>`), not the base one.
  const containers = (await Promise.all([...wanted.keys()].map((p) => docker.listContainers({ filters: { label: [`slipway.project=${p}`] } })))).flat();
  assert.ok(containers.length >= 3, `replicas running before the stop: ${containers.length}`);
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).stop({ t: 1 })));
  assert.equal(await answers(web.domain), undefined, 'nothing serves');

  const startedAt = Date.now();
  await cp.start();
  const apiUpMs = Date.now() - startedAt;
  const statuses: string[] = [];
  await until(
    '/readyz healthy',
    async () => {
      const r = await readyz();
      statuses.push(r.body.status);
      return r.body.status === 'healthy' ? true : undefined;
    },
    60_000,
    50,
  );
  const readyMs = Date.now() - startedAt;
  // Ready means served: each service answers through the edge with its live release's replica count.
  for (const [project, replicas] of wanted) {
    const domain = project === web.project ? web.domain : api.domain;
    assert.equal((await getWithHost(cp.httpPort, domain)).status, 200, `${domain} answers once /readyz is healthy`);
    const s = (await cp.client.status(project)).services[0]!;
    assert.equal(s.readyReplicas, replicas, `${project}: ${JSON.stringify(s.replicas)}`);
    assert.ok(s.replicas.every((r) => r.state === 'running' && r.edge === 'ready'), `${project}: ${JSON.stringify(s.replicas)}`);
  }
  t.diagnostic(`API up ${apiUpMs} ms after the start; /readyz healthy (every service served) after ${readyMs} ms; statuses seen: ${[...new Set(statuses)].join(' → ')}`);
});
