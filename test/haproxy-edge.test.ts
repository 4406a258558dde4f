/**
 * The HAProxy driver against a real HAProxy on loopback: start and adopt, host
 * routing, runtime server changes without reload, drain waiting for in-flight
 * requests, a seamless reload that keeps servers and drops no request.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { HaproxyEdge, stopEdge } from '../src/drivers/haproxy/haproxy-edge';
import { startLoad } from '../bench/lib/load-generator';
import { freePort } from './support/free-port';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'slipway-edge-'));
const logger = pino({ level: 'silent' });
let port = 0;
let edge: HaproxyEdge;
const servers: http.Server[] = [];

async function backendServer(id: string): Promise<number> {
  const srv = http.createServer((req, res) => {
    const delay = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('delay') ?? 0);
    setTimeout(() => res.end(`${id} ${req.headers['x-request-id'] ?? ''}`), delay);
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return (srv.address() as { port: number }).port;
}

/** GET through the edge with a Host header (fetch cannot override Host). */
function get(host: string, pathname = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: pathname, headers: { host }, agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

before(async () => {
  port = await freePort();
  edge = new HaproxyEdge({ dataDir, httpPort: port, bindAddress: '127.0.0.1', logger });
});

after(async () => {
  await stopEdge(dataDir);
  for (const s of servers) s.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('starts detached, and a second instance adopts it instead of starting another', async () => {
  const s1 = await edge.ensureRunning();
  assert.ok(s1.running && s1.pid);
  const again = new HaproxyEdge({ dataDir, httpPort: port, bindAddress: '127.0.0.1', logger });
  const s2 = await again.ensureRunning();
  assert.equal(s2.pid, s1.pid);
  assert.equal((await get('nothing.localhost')).status, 404);
});

test('routes by host, adds and removes servers at runtime without reloading', async () => {
  const a = await backendServer('a');
  const b = await backendServer('b');
  await edge.ensureBackend({ name: 'be_one', hosts: ['one.localhost'] });
  const reloads = (await edge.status()).reloads;
  await edge.addServer('be_one', { name: 'a', address: '127.0.0.1', port: a });
  const r = await get('one.localhost:8080');
  assert.equal(r.status, 200);
  assert.match(r.body, /^a [0-9a-f-]{36}$/, 'X-Request-ID is set by the edge');
  await edge.addServer('be_one', { name: 'b', address: '127.0.0.1', port: b });
  const seen = new Set<string>();
  for (let i = 0; i < 6; i++) seen.add((await get('one.localhost')).body.split(' ')[0]!);
  assert.deepEqual([...seen].sort(), ['a', 'b']);
  await edge.removeServer('be_one', 'a');
  for (let i = 0; i < 4; i++) assert.match((await get('one.localhost')).body, /^b /);
  assert.deepEqual((await edge.listServers('be_one')).map((s) => s.name), ['b']);
  // Host changes of an existing backend are applied through the runtime map.
  await edge.ensureBackend({ name: 'be_one', hosts: ['one.localhost', 'uno.localhost'] });
  assert.match((await get('uno.localhost')).body, /^b /);
  assert.equal((await edge.status()).reloads, reloads, 'no reload for server or host changes');
});

test('drain waits for an in-flight request and sends no new ones to the drained server', async () => {
  const c = await backendServer('c');
  await edge.addServer('be_one', { name: 'c', address: '127.0.0.1', port: c });
  // Make sure the slow request lands on c: b is briefly drained.
  await edge.drainServer('be_one', 'b', 0);
  const slow = get('one.localhost', '/?delay=1000');
  await new Promise((r) => setTimeout(r, 200));
  await edge.addServer('be_one', { name: 'b', address: '127.0.0.1', port: servers.length > 0 ? (servers[1]!.address() as { port: number }).port : 0 });
  const drain = edge.drainServer('be_one', 'c', 5000);
  const during = await get('one.localhost');
  assert.match(during.body, /^b /, 'new requests avoid the draining server');
  const result = await drain;
  assert.equal((await slow).status, 200);
  assert.match((await slow).body, /^c /);
  assert.equal(result.drained, true);
  assert.ok(result.waitedMs >= 300, `drain waited for the in-flight request (${result.waitedMs} ms)`);
  assert.equal((await edge.listServers('be_one')).find((s) => s.name === 'c')?.state, 'drain');
  await edge.removeServer('be_one', 'c');
});

test('new backends reload seamlessly (6 reloads under load), keeping existing servers and dropping no request', async () => {
  const load = startLoad({ url: `http://127.0.0.1:${port}/`, hostHeader: 'one.localhost', concurrency: 4 });
  await new Promise((r) => setTimeout(r, 300));
  const before = (await edge.status()).reloads;
  const d = await backendServer('d');
  // Several reloads: idle keep-alive connections closed under clients by old workers would show here.
  for (let i = 0; i < 5; i++) {
    await edge.ensureBackend({ name: `be_extra${i}`, hosts: [`extra${i}.localhost`] });
    await new Promise((r) => setTimeout(r, 100));
  }
  await edge.ensureBackend({ name: 'be_two', hosts: ['two.localhost'] });
  await edge.addServer('be_two', { name: 'd', address: '127.0.0.1', port: d });
  await new Promise((r) => setTimeout(r, 300));
  const report = await load.stop();
  assert.equal((await edge.status()).reloads, before + 6);
  assert.equal(report.failed, 0, JSON.stringify(report.errors));
  assert.ok(report.total > 20);
  assert.match((await get('one.localhost')).body, /^b /, 'servers added at runtime survive the reload');
  assert.match((await get('two.localhost')).body, /^d /);
  await assert.rejects(edge.ensureBackend({ name: 'be_three', hosts: ['two.localhost'] }), /already routed to be_two/);
});
