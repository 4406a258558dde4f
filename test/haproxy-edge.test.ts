/**
 * @runs-alone: it times drains and reloads in milliseconds.
 * The HAProxy driver against a real HAProxy on loopback (no mocks): start detached
 * and adopt, host routing, runtime server changes without reload, drain waiting for
 * in-flight requests (also those still held by an old worker after a reload), host
 * changes through the runtime map, seamless reloads that keep servers and drop no
 * request, adoption by a restarted control plane.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { HaproxyEdge, stopEdge } from '../src/drivers/haproxy/haproxy-edge';
import { startLoad } from '../bench/lib/load-generator';
import { freePort } from './support/free-port';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'slipway-edge-'));
const config = path.join(dataDir, 'haproxy.cfg');
const logger = pino({ level: 'silent' });
const servers: http.Server[] = [];
const ports: Record<string, number> = {};
let port = 0;
let edge: HaproxyEdge;

/** A replica: answers "<id> <x-request-id>"; `?ms=N` answers after N ms. */
async function replica(id: string): Promise<number> {
  const srv = http.createServer((req, res) => {
    const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? 0);
    setTimeout(() => res.end(`${id} ${req.headers['x-request-id'] ?? ''}`), ms);
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  ports[id] = (srv.address() as { port: number }).port;
  return ports[id]!;
}

/** GET through the edge with a Host header (fetch cannot override Host). */
function get(host: string, pathname = '/', headers: http.OutgoingHttpHeaders = {}, toPort = port): Promise<{ status: number; body: string; at: number }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: toPort, path: pathname, headers: { host, ...headers }, agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, at: Date.now() }));
      })
      .on('error', reject);
  });
}

const who = async (host: string) => (await get(host)).body.split(' ')[0];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** HAProxy processes started on our config: masters are those whose parent is not one of them. */
function haproxyMasters(): Array<{ pid: number; session: number }> {
  const procs: Array<{ pid: number; ppid: number; session: number }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(config)) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue;
      procs.push({ pid: Number(entry), ppid: Number(fields[1]), session: Number(fields[3]) });
    } catch {
      // exited meanwhile
    }
  }
  return procs.filter((p) => !procs.some((q) => q.pid === p.ppid)).map(({ pid, session }) => ({ pid, session }));
}

before(async () => {
  port = await freePort();
  edge = new HaproxyEdge({ dataDir, httpPort: port, bindAddress: '127.0.0.1', logger });
  await Promise.all(['a', 'b', 'c'].map(replica));
});

after(async () => {
  await stopEdge(dataDir);
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  rmSync(dataDir, { recursive: true, force: true });
});

test('a missing haproxy binary is reported as a host problem', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-edge-missing-'));
  try {
    const missing = new HaproxyEdge({ dataDir: dir, httpPort: port, haproxyBin: '/nonexistent/haproxy', logger });
    await assert.rejects(missing.ensureRunning(), { code: 'SLW_HOST_MISSING', message: /apt-get install haproxy/ });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('starts HAProxy detached; a second instance adopts it instead of starting another', async () => {
  const s1 = await edge.ensureRunning();
  assert.equal(s1.running, true);
  assert.match(s1.version ?? '', /^\d+\.\d+/);
  assert.equal(s1.httpPort, port);
  const masters = haproxyMasters();
  assert.deepEqual(masters.map((m) => m.pid), [s1.pid]);
  assert.equal(masters[0]!.session, s1.pid, 'the master leads its own session (detached from ours)');

  const again = new HaproxyEdge({ dataDir, httpPort: port, bindAddress: '127.0.0.1', logger });
  const s2 = await again.ensureRunning();
  assert.equal(s2.pid, s1.pid);
  assert.equal(s2.reloads, 0, 'nothing to change: adopted without a reload');
  assert.deepEqual(haproxyMasters().map((m) => m.pid), [s1.pid], 'still one HAProxy');
  assert.deepEqual(await edge.ensureRunning(), s1, 'idempotent');

  const unknown = await get('nothing.localhost');
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body, 'no service is routed for this host\n');
});

test('routes by host; a backend without servers answers 503; X-Request-ID on every request', async () => {
  await edge.ensureBackend({ name: 'be_one', hosts: ['one.localhost'] });
  assert.equal((await edge.status()).reloads, 1, 'a new backend is a reload');
  assert.deepEqual(await edge.listBackends(), [{ name: 'be_one', hosts: ['one.localhost'] }]);
  assert.equal((await get('one.localhost')).status, 503);

  await edge.addServer('be_one', { name: 'a', address: '127.0.0.1', port: ports.a! });
  const r = await get('One.Localhost:8080');
  assert.equal(r.status, 200);
  assert.match(r.body, /^a [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'the edge sets a request id');
  assert.equal((await get('one.localhost', '/', { 'x-request-id': 'client-id-1' })).body, 'a client-id-1', 'an incoming request id is kept');
  assert.equal((await get('nothing.localhost')).status, 404);
});

test('servers are added at runtime, idempotently by name, and served round robin', async () => {
  await edge.addServer('be_one', { name: 'b', address: '127.0.0.1', port: ports.b! });
  await edge.addServer('be_one', { name: 'a', address: '127.0.0.1', port: ports.a! });
  const listed = await edge.listServers('be_one');
  const many = await edge.listServersOf(['be_one', 'be_absent']);
  assert.deepEqual(many.get('be_one'), listed, 'one reading of several backends agrees with the per-backend one');
  assert.deepEqual(many.get('be_absent'), []);
  assert.deepEqual(
    listed.map((s) => [s.name, s.address, s.port, s.state]),
    [
      ['a', '127.0.0.1', ports.a, 'ready'],
      ['b', '127.0.0.1', ports.b, 'ready'],
    ],
  );
  const seen = new Set<string | undefined>();
  for (let i = 0; i < 6; i++) seen.add(await who('one.localhost'));
  assert.deepEqual([...seen].sort(), ['a', 'b']);
  assert.equal((await edge.status()).reloads, 1, 'no reload for servers');
});

test('drain waits for the in-flight request and sends no new requests to the drained server', async () => {
  // Round robin over a and b: two slow requests in a row, one on each.
  const slow = [get('one.localhost', '/?ms=1000'), get('one.localhost', '/?ms=1000')];
  await sleep(150);
  assert.equal((await edge.listServers('be_one')).find((s) => s.name === 'a')?.activeSessions, 1);
  const drainStart = Date.now();
  const drain = edge.drainServer('be_one', 'a', 5000);
  await sleep(50);
  assert.equal((await edge.listServers('be_one')).find((s) => s.name === 'a')?.state, 'drain');
  for (let i = 0; i < 6; i++) assert.equal(await who('one.localhost'), 'b', 'new requests avoid the draining server');
  const result = await drain;
  const done = Date.now();
  const answers = await Promise.all(slow);
  assert.deepEqual(answers.map((x) => [x.status, x.body.split(' ')[0]]).sort(), [
    [200, 'a'],
    [200, 'b'],
  ]);
  const onA = answers.find((x) => x.body.startsWith('a '))!;
  assert.equal(result.drained, true);
  assert.equal(result.remaining, 0);
  assert.ok(result.waitedMs >= 600, `drain waited for the in-flight request (${result.waitedMs} ms)`);
  assert.ok(onA.at <= done, 'the drain ended after the slow request finished');
  assert.ok(done - drainStart < 2000);

  const timedOut = edge.drainServer('be_one', 'a', 0);
  assert.deepEqual({ ...(await timedOut), waitedMs: 0 }, { drained: true, remaining: 0, waitedMs: 0 });
  assert.deepEqual(await edge.drainServer('be_one', 'nosuch', 1000), { drained: true, remaining: 0, waitedMs: 0 }, 'nothing to drain on a missing server');
});

test('removeServer takes a server out at runtime; a missing one is not an error', async () => {
  await edge.addServer('be_one', { name: 'a', address: '127.0.0.1', port: ports.a! });
  assert.equal((await edge.listServers('be_one')).find((s) => s.name === 'a')?.state, 'ready', 'addServer makes a drained server ready again');
  await edge.removeServer('be_one', 'a');
  assert.deepEqual((await edge.listServers('be_one')).map((s) => s.name), ['b']);
  for (let i = 0; i < 4; i++) assert.equal(await who('one.localhost'), 'b');
  await edge.removeServer('be_one', 'a');
  await edge.removeServer('be_nosuch', 'a');
  assert.equal((await edge.status()).reloads, 1, 'no reload for servers');
});

test('host changes of an existing backend go through the runtime map, without reload', async () => {
  await edge.ensureBackend({ name: 'be_one', hosts: ['uno.localhost'] });
  assert.equal(await who('uno.localhost'), 'b');
  assert.equal((await get('one.localhost')).status, 404);
  await edge.ensureBackend({ name: 'be_one', hosts: ['one.localhost', 'uno.localhost'] });
  assert.equal(await who('one.localhost'), 'b');
  assert.equal(await who('uno.localhost'), 'b');
  assert.equal(readFileSync(path.join(dataDir, 'hosts.map'), 'utf8'), 'one.localhost be_one\nuno.localhost be_one\n');
  assert.equal((await edge.status()).reloads, 1, 'no reload for host changes');
  await assert.rejects(edge.ensureBackend({ name: 'be_other', hosts: ['uno.localhost'] }), { code: 'SLW_EDGE', message: /already routed to be_one/ });
  await assert.rejects(edge.ensureBackend({ name: 'be one', hosts: [] }), { code: 'SLW_EDGE' });
  await assert.rejects(edge.addServer('be_nosuch', { name: 'x', address: '127.0.0.1', port: 1 }), { code: 'SLW_EDGE', message: /No such backend/ });
});

test('new backends reload seamlessly under load: servers and their state kept, no request fails', async () => {
  await edge.addServer('be_one', { name: 'c', address: '127.0.0.1', port: ports.c! });
  await edge.addServer('be_one', { name: 'x', address: '127.0.0.1', port: ports.a! });
  await edge.drainServer('be_one', 'x', 0);
  const before = await edge.listServers('be_one');
  const load = startLoad({ url: `http://127.0.0.1:${port}/`, hostHeader: 'one.localhost', concurrency: 4 });
  await sleep(200);
  const reloadsBefore = (await edge.status()).reloads;
  for (let i = 0; i < 4; i++) {
    await edge.ensureBackend({ name: `be_extra${i}`, hosts: [`extra${i}.localhost`] });
    await sleep(100);
  }
  await edge.ensureBackend({ name: 'be_two', hosts: ['two.localhost'] });
  await edge.addServer('be_two', { name: 'a', address: '127.0.0.1', port: ports.a! });
  await sleep(200);
  const report = await load.stop();
  assert.equal((await edge.status()).reloads, reloadsBefore + 5);
  assert.equal(report.failed, 0, JSON.stringify(report.errors));
  assert.ok(report.ok > 50, `requests during the reloads: ${report.ok}`);
  assert.deepEqual(
    (await edge.listServers('be_one')).map((s) => [s.name, s.state]),
    before.map((s) => [s.name, s.state]),
    'servers added at runtime survive the reloads, drained ones stay drained',
  );
  assert.equal(await who('two.localhost'), 'a');
  assert.ok(['b', 'c'].includes((await who('one.localhost'))!));
});

test('a drain right after a reload waits for requests the old worker still serves', async () => {
  await edge.removeServer('be_one', 'x');
  const slow = get('one.localhost', '/?ms=1200');
  await sleep(150);
  const busy = (await edge.listServers('be_one')).find((s) => s.activeSessions > 0)?.name;
  assert.ok(busy === 'b' || busy === 'c', `the slow request is on b or c (${busy})`);
  await edge.ensureBackend({ name: 'be_three', hosts: ['three.localhost'] });
  assert.equal((await edge.listServers('be_one')).find((s) => s.name === busy)?.activeSessions, 0, 'the new worker does not see it');
  const result = await edge.drainServer('be_one', busy, 5000);
  const answer = await slow;
  assert.equal(answer.status, 200);
  assert.equal(result.drained, true);
  assert.ok(result.waitedMs >= 500, `drain waited for the old worker's request (${result.waitedMs} ms)`);
  assert.ok(answer.at <= Date.now());
  await edge.addServer('be_one', { name: busy, address: '127.0.0.1', port: ports[busy]! });
});

test('removeBackend is a reload; the host is no longer routed', async () => {
  const reloads = (await edge.status()).reloads;
  await edge.removeBackend('be_three');
  await edge.removeBackend('be_three');
  assert.equal((await edge.status()).reloads, reloads + 1);
  assert.equal((await get('three.localhost')).status, 404);
  assert.ok(!(await edge.listBackends()).some((b) => b.name === 'be_three'));
});

test('a restarted control plane adopts the edge and learns its backends and servers', async () => {
  const first = await edge.status();
  const restarted = new HaproxyEdge({ dataDir, httpPort: port, bindAddress: '127.0.0.1', logger });
  const s = await restarted.ensureRunning();
  assert.equal(s.pid, first.pid);
  assert.equal(s.reloads, 0);
  assert.deepEqual(haproxyMasters().map((m) => m.pid), [first.pid]);
  assert.deepEqual(await restarted.listBackends(), await edge.listBackends());
  assert.deepEqual(await restarted.listServers('be_one'), await edge.listServers('be_one'));
  await restarted.addServer('be_one', { name: 'a', address: '127.0.0.1', port: ports.a! });
  assert.ok((await edge.listServers('be_one')).some((s) => s.name === 'a'), 'both see the runtime');
});

test('adopting with another port reloads onto it (same master)', async () => {
  const pid = (await edge.status()).pid;
  const newPort = await freePort();
  const moved = new HaproxyEdge({ dataDir, httpPort: newPort, bindAddress: '127.0.0.1', logger });
  const s = await moved.ensureRunning();
  assert.equal(s.pid, pid);
  assert.equal(s.reloads, 1);
  assert.equal((await get('one.localhost', '/', {}, newPort)).status, 200);
  await assert.rejects(get('one.localhost', '/', {}, port), /ECONNREFUSED/);
});
