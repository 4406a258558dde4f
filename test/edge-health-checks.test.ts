/**
 * Edge health checks in the HAProxy driver, against a real HAProxy on loopback and node:http
 * replicas whose /health can be made to fail: a server added at runtime starts UP and takes
 * requests at once (it passed readiness), leaves rotation when its checks fail and comes back
 * when they pass; a drained server is never brought back by its checks (and reads as drained
 * even while failing them); a standby server (weight 0) is checked but gets no request until
 * a weight change; checks survive a reload.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { HaproxyEdge, stopEdge } from '../src/drivers/haproxy/haproxy-edge';
import type { EdgeServer } from '../src/core/ports/edge';
import { freePort } from './support/free-port';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'slipway-edge-health-'));
const logger = pino({ level: 'silent' });
const BACKEND = 'be_checks_web_production';
const HOST = 'checks.test.localhost';
const check = { path: '/health', host: HOST, intervalMs: 100, timeoutMs: 1000, fall: 2, rise: 2 };
const apps = new Map<string, { port: number; healthStatus: number; server: http.Server; healthHost: string | null }>();
let port = 0;
let edge: HaproxyEdge;

async function app(id: string): Promise<number> {
  const state = { port: 0, healthStatus: 200, server: http.createServer(), healthHost: null as string | null };
  state.server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.url === '/health') {
      state.healthHost = req.headers.host ?? null;
      res.writeHead(state.healthStatus).end();
      return;
    }
    res.end(id);
  });
  await new Promise<void>((r) => state.server.listen(0, '127.0.0.1', r));
  state.port = (state.server.address() as { port: number }).port;
  apps.set(id, state);
  return state.port;
}

function get(): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', headers: { host: HOST }, agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(res.statusCode === 200 ? body : `status ${res.statusCode}`));
      })
      .on('error', reject);
  });
}

async function answers(n: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const who = await get();
    counts.set(who, (counts.get(who) ?? 0) + 1);
  }
  return counts;
}

async function server(name: string): Promise<EdgeServer> {
  return (await edge.listServers(BACKEND)).find((s) => s.name === name)!;
}

async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await edge.listServers(BACKEND))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  port = await freePort();
  edge = new HaproxyEdge({ dataDir, httpPort: port, bindAddress: '127.0.0.1', logger });
  await Promise.all(['a', 'b', 'c'].map(app));
  await edge.ensureRunning();
  await edge.ensureBackend({ name: BACKEND, hosts: [HOST], check });
});

after(async () => {
  await stopEdge(dataDir).catch(() => undefined);
  for (const a of apps.values()) a.server.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('the backend is rendered with its checks', () => {
  const cfg = readFileSync(path.join(dataDir, 'haproxy.cfg'), 'utf8');
  assert.match(cfg, /option httpchk\n\s+http-check send meth GET uri \/health ver HTTP\/1\.1 hdr Host checks\.test\.localhost\n\s+http-check expect status 200-399/);
});

test('a server added at runtime starts UP, leaves rotation when its checks fail, comes back when they pass', async () => {
  await edge.addServer(BACKEND, { name: 'a', address: '127.0.0.1', port: apps.get('a')!.port });
  // Invariant 2 and zero-downtime deploys: it passed readiness, it serves at once (no wait for `rise` checks).
  assert.equal(await get(), 'a');
  assert.equal((await server('a')).health, 'up');
  await edge.addServer(BACKEND, { name: 'b', address: '127.0.0.1', port: apps.get('b')!.port });
  await until('b checked', async () => apps.get('b')!.healthHost !== null);
  assert.equal(apps.get('b')!.healthHost, HOST, 'checks carry the service domain as Host');

  apps.get('a')!.healthStatus = 503;
  await until('a down', async () => (await server('a')).health === 'down');
  const s = await server('a');
  assert.equal(s.state, 'ready', 'health is not an administrative state');
  assert.deepEqual([...(await answers(20)).entries()], [['b', 20]], 'no request to the sick server');

  apps.get('a')!.healthStatus = 200;
  await until('a up again', async () => (await server('a')).health === 'up');
  const back = await answers(20);
  assert.ok((back.get('a') ?? 0) > 0 && (back.get('b') ?? 0) > 0, JSON.stringify([...back]));
});

test('a drained server is never brought back by its checks, and reads as drained while failing them', async () => {
  const drained = await edge.drainServer(BACKEND, 'b', 2000);
  assert.equal(drained.drained, true);
  apps.get('b')!.healthStatus = 503;
  await until('b down', async () => (await server('b')).health === 'down');
  assert.equal((await server('b')).state, 'drain', 'show stat says DOWN: the driver reads the admin state');
  apps.get('b')!.healthStatus = 200;
  await until('b up', async () => (await server('b')).health === 'up');
  assert.equal((await server('b')).state, 'drain');
  assert.deepEqual([...(await answers(20)).entries()], [['a', 20]], 'the drained server gets nothing');
  await edge.removeServer(BACKEND, 'b');
});

test('a standby server (weight 0) is checked, gets nothing, and takes traffic on a weight change; checks survive a reload', async () => {
  await edge.addServer(BACKEND, { name: 'c', address: '127.0.0.1', port: apps.get('c')!.port }, { weight: 0 });
  await until('c checked', async () => apps.get('c')!.healthHost !== null);
  assert.deepEqual([(await server('c')).state, (await server('c')).health], ['standby', 'up']);
  assert.deepEqual([...(await answers(10)).entries()], [['a', 10]]);
  await edge.setWeights(BACKEND, [{ name: 'c', weight: 1 }, { name: 'a', weight: 0 }]);
  assert.deepEqual([...(await answers(10)).entries()], [['c', 10]]);

  // A structural change (another backend): the servers are rendered with their checks.
  await edge.ensureBackend({ name: 'be_checks_other_production', hosts: ['other.checks.test.localhost'] });
  const cfg = readFileSync(path.join(dataDir, 'haproxy.cfg'), 'utf8');
  assert.match(cfg, /server c 127\.0\.0\.1:\d+ check inter 100ms fall 2 rise 2 observe layer4 error-limit 2 on-error mark-down/);
  assert.match(cfg, /server a 127\.0\.0\.1:\d+ weight 0 check inter 100ms/);
  apps.get('c')!.healthStatus = 503;
  await until('c down after the reload', async () => (await server('c')).health === 'down');
  apps.get('c')!.healthStatus = 200;
  await until('c up after the reload', async () => (await server('c')).health === 'up');
  assert.deepEqual([...(await answers(10)).entries()], [['c', 10]]);
});
