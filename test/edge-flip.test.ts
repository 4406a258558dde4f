/**
 * The edge primitive behind blue-green (and, later, canary weights), against a real HAProxy
 * on loopback with node:http replicas: servers added on standby get no request, one
 * setWeights line moves all traffic from one set to the other under keep-alive load with no
 * failed request, every request sent after it returns lands on the new set, a request in
 * flight on the old set finishes there, and standby, weights and drains survive a reload.
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

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'slipway-flip-'));
const servers: http.Server[] = [];
const ports: Record<string, number> = {};
const HOST = 'flip.localhost';
const BE = 'be_flip';
let port = 0;
let edge: HaproxyEdge;

/** A replica answering its id; `?ms=N` answers after N ms. */
async function replica(id: string): Promise<void> {
  const srv = http.createServer((req, res) => {
    const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? 0);
    setTimeout(() => res.end(id), ms);
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  ports[id] = (srv.address() as { port: number }).port;
}

function get(pathname = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: pathname, headers: { host: HOST }, agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const states = async () => Object.fromEntries((await edge.listServers(BE)).map((s) => [s.name, `${s.state}/${s.weight}`]));
const BLUE = ['blue1', 'blue2'];
const GREEN = ['green1', 'green2'];
const toGreen = [...GREEN.map((name) => ({ name, weight: 1 })), ...BLUE.map((name) => ({ name, weight: 0 }))];
const toBlue = [...BLUE.map((name) => ({ name, weight: 1 })), ...GREEN.map((name) => ({ name, weight: 0 }))];

before(async () => {
  port = await freePort();
  edge = new HaproxyEdge({ dataDir, httpPort: port, bindAddress: '127.0.0.1', logger: pino({ level: 'silent' }) });
  for (const id of [...BLUE, ...GREEN]) await replica(id);
  await edge.ensureRunning();
  await edge.ensureBackend({ name: BE, hosts: [HOST] });
  for (const id of BLUE) await edge.addServer(BE, { name: id, address: '127.0.0.1', port: ports[id]! });
});

after(async () => {
  await stopEdge(dataDir);
  for (const s of servers) s.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('servers added with weight 0 are on standby: listed, but given no request', async () => {
  for (const id of GREEN) await edge.addServer(BE, { name: id, address: '127.0.0.1', port: ports[id]! }, { weight: 0 });
  assert.deepEqual(await states(), { blue1: 'ready/1', blue2: 'ready/1', green1: 'standby/0', green2: 'standby/0' });
  const seen = new Set<string>();
  for (let i = 0; i < 20; i++) seen.add((await get()).body);
  assert.deepEqual([...seen].sort(), BLUE);
});

test('one setWeights line flips all traffic under keep-alive load: no failure, nothing old after it', async (t) => {
  const seen: Array<{ sentAt: number; at: number; body: string }> = [];
  const load = startLoad({ url: `http://127.0.0.1:${port}/`, hostHeader: HOST, concurrency: 8, inspect: (r) => seen.push({ sentAt: r.sentAt, at: r.at, body: r.body }) });
  await sleep(300);
  // A slow request in flight on the old set at the flip finishes there.
  const slow = get('/?ms=800');
  await sleep(100);
  const flipStart = Date.now();
  const t0 = performance.now();
  await edge.setWeights(BE, toGreen);
  const flipMs = performance.now() - t0;
  const flipEnd = Date.now();
  await sleep(400);
  const back0 = Date.now();
  await edge.setWeights(BE, toBlue);
  const backEnd = Date.now();
  await sleep(300);
  const report = await load.stop();
  const slowAnswer = await slow;
  t.diagnostic(`flip took ${flipMs.toFixed(2)} ms; ${report.total} requests, ${report.failed} failed`);

  assert.equal(report.failed, 0, JSON.stringify(report.errors));
  assert.ok(report.total > 200, `enough requests (${report.total})`);
  assert.deepEqual(slowAnswer, { status: 200, body: slowAnswer.body });
  assert.ok(BLUE.includes(slowAnswer.body), `the in-flight request finished on the old set (${slowAnswer.body})`);
  const isBlue = (s: { body: string }) => BLUE.includes(s.body);
  const isGreen = (s: { body: string }) => GREEN.includes(s.body);
  const beforeFlip = seen.filter((s) => s.at < flipStart);
  const afterFlip = seen.filter((s) => s.sentAt > flipEnd && s.at < back0);
  const afterBack = seen.filter((s) => s.sentAt > backEnd);
  assert.ok(beforeFlip.length > 20 && afterFlip.length > 20 && afterBack.length > 20, `${beforeFlip.length}/${afterFlip.length}/${afterBack.length}`);
  assert.ok(beforeFlip.every(isBlue), 'nothing reached the standby set before the flip');
  assert.ok(afterFlip.every(isGreen), `every request sent after the flip returned went to the new set: ${JSON.stringify(afterFlip.filter((s) => !isGreen(s)).slice(0, 3))}`);
  assert.deepEqual(new Set(afterFlip.map((s) => s.body)), new Set(GREEN), 'both new servers share the load');
  assert.ok(afterBack.every(isBlue), 'and back');
  assert.deepEqual(await states(), { blue1: 'ready/1', blue2: 'ready/1', green1: 'standby/0', green2: 'standby/0' });
});

test('setWeights refuses unknown, drained or repeated servers and changes nothing', async () => {
  const before = await states();
  await assert.rejects(edge.setWeights(BE, [{ name: 'green1', weight: 1 }, { name: 'nosuch', weight: 0 }]), { code: 'SLW_EDGE', message: /no server nosuch/ });
  await assert.rejects(edge.setWeights(BE, [{ name: 'green1', weight: 1 }, { name: 'green1', weight: 0 }]), { code: 'SLW_EDGE', message: /twice/ });
  await assert.rejects(edge.setWeights(BE, [{ name: 'green1', weight: 257 }]), { code: 'SLW_EDGE', message: /0 to 256/ });
  await edge.drainServer(BE, 'green2', 0);
  await assert.rejects(edge.setWeights(BE, [{ name: 'green2', weight: 1 }]), { code: 'SLW_EDGE', message: /green2 is drain/ });
  assert.deepEqual(await states(), { ...before, green2: 'drain/0' });
  // addServer makes a drained server usable again, here on standby.
  await edge.addServer(BE, { name: 'green2', address: '127.0.0.1', port: ports.green2! }, { weight: 0 });
  assert.deepEqual(await states(), before);
});

test('standby, weights and drains survive a seamless reload', async () => {
  await edge.setWeights(BE, [{ name: 'blue1', weight: 3 }]);
  await edge.drainServer(BE, 'green2', 0);
  const before = await states();
  assert.deepEqual(before, { blue1: 'ready/3', blue2: 'ready/1', green1: 'standby/0', green2: 'drain/0' });
  const reloads = (await edge.status()).reloads;
  await edge.ensureBackend({ name: 'be_flip_other', hosts: ['other.flip.localhost'] });
  assert.equal((await edge.status()).reloads, reloads + 1);
  assert.deepEqual(await states(), before);
  const seen = new Set<string>();
  for (let i = 0; i < 12; i++) seen.add((await get()).body);
  assert.deepEqual([...seen].sort(), BLUE, 'standby and drained servers still get nothing');
});
