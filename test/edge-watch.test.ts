/**
 * Edge supervision at the driver level, against a real HAProxy on loopback: `watch` reports
 * a SIGKILLed worker (HAProxy 2.6's master exits with it) and a SIGKILLed master, and not a
 * seamless reload; `start(servers)` brings the edge back with those servers in its config,
 * so the very first request is served, and adopts a running edge without touching it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { HaproxyEdge, stopEdge } from '../src/drivers/haproxy/haproxy-edge';
import { showProc } from '../src/drivers/haproxy/edge-process';
import { edgeFiles } from '../src/drivers/haproxy/edge-files';
import { freePort } from './support/free-port';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'slipway-edge-watch-'));
const logger = pino({ level: 'silent' });
let port = 0;
let replicaPort = 0;
let edge: HaproxyEdge;
const replica = http.createServer((_req, res) => res.end('replica'));

function get(host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', headers: { host }, agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** Resolves with the reason when onDown is called, or null after `ms`. */
function downWithin(ms: number): { promise: Promise<string | null>; stop(): void } {
  let stop = () => undefined as void;
  const promise = new Promise<string | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), ms);
    const w = edge.watch((reason) => {
      clearTimeout(timer);
      resolve(reason);
    });
    stop = () => {
      clearTimeout(timer);
      w.stop();
      resolve(null);
    };
  });
  return { promise, stop: () => stop() };
}

const masterPid = () => Number(readFileSync(edgeFiles(dataDir).pid, 'utf8').trim().split('\n')[0]);
const servers = () => [{ backend: 'be_watch', name: 'r1', address: '127.0.0.1', port: replicaPort, weight: 1 }];

before(async () => {
  port = await freePort();
  await new Promise<void>((r) => replica.listen(0, '127.0.0.1', r));
  replicaPort = (replica.address() as { port: number }).port;
  edge = new HaproxyEdge({ dataDir, httpPort: port, bindAddress: '127.0.0.1', logger });
  await edge.ensureRunning();
  await edge.ensureBackend({ name: 'be_watch', hosts: ['watch.localhost'] });
  await edge.addServer('be_watch', servers()[0]!);
});

after(async () => {
  await stopEdge(dataDir);
  replica.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('a seamless reload is not a death', async () => {
  const watch = downWithin(60_000);
  await edge.ensureBackend({ name: 'be_other', hosts: ['other.localhost'] }); // structural: reload
  await edge.removeBackend('be_other'); // and another
  await new Promise((r) => setTimeout(r, 500));
  watch.stop();
  assert.equal(await watch.promise, null);
});

test('a SIGKILLed worker is reported; start(servers) serves them from the first request', async () => {
  const before = masterPid();
  const { workerPids } = await showProc(edgeFiles(dataDir));
  assert.ok(workerPids.length > 0);
  const watch = downWithin(30_000);
  for (const w of workerPids) process.kill(w, 'SIGKILL');
  const reason = await watch.promise;
  assert.ok(reason, 'reported down');

  const started = await edge.start(servers());
  assert.equal(started.started, true);
  assert.equal(started.servers, 1);
  assert.notEqual(started.pid, before);
  assert.deepEqual(await get('watch.localhost'), { status: 200, body: 'replica' }, 'served at once: the server was in the config it started with');
  assert.match(readFileSync(edgeFiles(dataDir).config, 'utf8'), new RegExp(`server r1 127\\.0\\.0\\.1:${replicaPort}`));
});

test('a SIGKILLed master is reported; a running edge is adopted by start(), untouched', async () => {
  const watch = downWithin(30_000);
  process.kill(masterPid(), 'SIGKILL');
  assert.match((await watch.promise) ?? '', /master process \(pid \d+\) exited/);
  const first = await edge.start([]);
  assert.equal(first.started, true);
  assert.equal((await get('watch.localhost')).status, 503, 'started with no server, as asked');
  const again = await edge.start(servers());
  assert.equal(again.started, false, 'adopted');
  assert.equal(again.pid, first.pid);
  assert.equal((await get('watch.localhost')).status, 503, 'adoption does not add servers');
});

test('watching an edge that is not running reports it at once', async () => {
  await stopEdge(dataDir);
  const watch = downWithin(5_000);
  assert.ok(await watch.promise);
});
