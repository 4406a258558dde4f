/**
 * Issue 18, finding 11: any local process could forge request metrics (and so canary
 * verdicts) by writing JSON lines to the unauthenticated request-log listener on
 * 127.0.0.1:7421. Now the edge's ring forwards to a unix socket in the data directory
 * (0600 in 0700) and every line starts with the request-log key from haproxy.cfg. Against a
 * real control plane, HAProxy and Docker: requests through the edge are counted; lines a
 * local process writes to the listener (copies of real lines, without the key or with a
 * wrong one) are dropped and counted as unauthenticated, never as requests; another user
 * cannot even connect.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { ApiError } from '../src/client/api-client';
import { cliFor } from './support/cli';
import { ControlPlaneProcess } from './support/control-plane-process';
import { getWithHost } from './support/http-get';
import { TestProject } from './support/test-project';
import { deployAndWait } from './support/wait-deployment';

const execFileP = promisify(execFile);
const cp = await ControlPlaneProcess.create('rlauth');
const app = new TestProject('rlauth');
const socket = path.join(cp.dataDir, 'request-log.sock');
const BACKEND = 'be_rlauth_web_production';

before(async () => {
  await cp.start({ SLIPWAY_METRICS_FLUSH_INTERVAL: '300ms' });
  await cp.client.createBaseImage('node');
  const d = await deployAndWait(cp.client, app.write({ version: 'a', replicas: 1 }));
  assert.equal(d.state, 'succeeded', d.error ?? '');
});
after(() => cp.destroy());

async function until(what: string, cond: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${cp.tail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const counted = async () => (await cp.client.metrics('rlauth', 'web', { since: '15m' })).groups[0]?.requests ?? 0;

/** Prometheus text of GET /metrics (open to loopback by default). */
async function prometheus(): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${cp.apiPort}/metrics`);
  assert.equal(res.status, 200);
  return res.text();
}
const unauthenticatedLines = (text: string) => Number(/slipway_request_log_lines_total\{result="unauthenticated"\} (\d+)/.exec(text)?.[1] ?? NaN);

/** A line exactly like the edge's, for this service's backend: a 500 with a marker request id. */
function forgedJson(id: string): string {
  return JSON.stringify({ t: Date.now(), b: BACKEND, s: 'rlauth-web-production-v1-x', m: 'GET', p: '/forged', st: 500, by: 1, ta: 9000, tr: 9000, ci: '127.0.0.1', xff: '-', cf: '-', id, ts: '--' });
}

test('the listener is a unix socket private to the server user; the edge config holds the key (0600)', () => {
  assert.ok(statSync(socket).isSocket());
  assert.equal(statSync(socket).mode & 0o777, 0o600);
  assert.equal(statSync(cp.dataDir).mode & 0o777, 0o700);
  const cfg = readFileSync(path.join(cp.dataDir, 'edge', 'haproxy.cfg'), 'utf8');
  assert.match(cfg, new RegExp(`server control-plane unix@${socket.replace(/[.]/g, '\\.')}\\n`));
  const key = readFileSync(path.join(cp.dataDir, 'request-log.key'), 'utf8').trim();
  assert.ok(cfg.includes(`log-format '${key} {"t":`), 'the edge writes the key at the start of every line');
  assert.equal(statSync(path.join(cp.dataDir, 'request-log.key')).mode & 0o777, 0o600);
  assert.equal(statSync(path.join(cp.dataDir, 'edge', 'haproxy.cfg')).mode & 0o777, 0o600);
});

test('forged lines from a local process are dropped and counted as unauthenticated; real requests through the edge are counted', async () => {
  const real = 5;
  for (let i = 0; i < real; i++) assert.equal((await getWithHost(cp.httpPort, app.domain, '/')).status, 200);
  await until('the real requests to be counted', async () => (await counted()) === real);
  const droppedBefore = unauthenticatedLines(await prometheus());
  assert.equal(droppedBefore, 0);

  // A local process (same user: root here, which file modes do not stop) writes lines that
  // parse as requests of this service: without the key, with a wrong key, with a key-like prefix.
  const marker = `forged-${randomUUID()}`;
  const wrongKey = 'A'.repeat(43);
  const forged = [
    ...Array.from({ length: 20 }, (_, i) => forgedJson(`${marker}-plain-${i}`)),
    ...Array.from({ length: 20 }, (_, i) => `${wrongKey} ${forgedJson(`${marker}-wrong-${i}`)}`),
  ];
  const s = net.createConnection({ path: socket });
  await once(s, 'connect');
  s.end(`${forged.join('\n')}\n`);
  await once(s, 'close');

  // More real traffic after the forgery, so the edge's own lines are known to flow past it.
  for (let i = 0; i < real; i++) assert.equal((await getWithHost(cp.httpPort, app.domain, '/')).status, 200);
  await until('the second batch of real requests to be counted', async () => (await counted()) === 2 * real);
  await until('the forged lines to be counted as dropped', async () => unauthenticatedLines(await prometheus()) === forged.length);

  const m = await cp.client.metrics('rlauth', 'web', { since: '15m' });
  assert.equal(m.groups[0]?.requests, 2 * real, 'only the requests the edge served');
  assert.equal(m.groups[0]?.errorRate, 0, 'no forged 500 reached the error rate (what canary analysis reads)');
  const recent = await cp.client.recentRequests('rlauth', 'web', {});
  assert.equal(recent.requests.length, 2 * real);
  assert.ok(!recent.requests.some((r) => r.path === '/forged' || r.requestId.startsWith(marker)));
  const text = await prometheus();
  assert.doesNotMatch(text, /slipway_http_requests_total\{[^}]*code_class="5xx"/, 'no forged 5xx in the Prometheus counters');
  // Dropped lines are reported (rate-limited, debug level) without their content.
  await until('the debug line about dropped lines', async () => readFileSync(cp.logFile, 'utf8').includes('dropped lines without the request-log key'));
  assert.ok(!readFileSync(cp.logFile, 'utf8').includes(marker), 'a stranger\'s line is never written to the server log');
});

test('another user cannot connect to the listener at all', { skip: process.getuid?.() !== 0 && 'needs root to switch to another user' }, async () => {
  const probe = `require('net').createConnection({ path: ${JSON.stringify(socket)} }).on('connect', () => { console.log('connected'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(0); })`;
  const { stdout } = await execFileP('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', probe]);
  assert.equal(stdout.trim(), 'EACCES');
});

test('recent requests by status (issue 24): classes and codes, --errors as 5xx, a bad list refused naming the field or the flag', async () => {
  const statuses = [404, 429, 500, 503, 200, 404];
  for (const st of statuses) assert.equal((await getWithHost(cp.httpPort, app.domain, `/status/${st}`)).status, st);
  const ring = async (q: { status?: string; errors?: 'true' } = {}) => (await cp.client.recentRequests('rlauth', 'web', { path: '/status/', ...q })).requests.map((r) => r.status);
  await until('the requests in the ring', async () => (await ring()).length === statuses.length);
  assert.deepEqual(await ring(), [...statuses].reverse(), 'newest first');
  assert.deepEqual(await ring({ status: '4xx' }), [404, 429, 404]);
  assert.deepEqual(await ring({ status: '404' }), [404, 404]);
  assert.deepEqual(await ring({ status: '404,500' }), [404, 500, 404]);
  assert.deepEqual(await ring({ status: '5xx,429' }), [503, 500, 429]);
  assert.deepEqual(await ring({ errors: 'true' }), [503, 500], 'errors=true stays: 5xx');
  await assert.rejects(ring({ status: '4xx,6xx' }), (err: unknown) => {
    assert.ok(err instanceof ApiError && err.status === 400, String(err));
    assert.deepEqual(err.details.map((d) => d.path), ['status']);
    assert.match(err.details[0]!.message, /"6xx" is neither a status class \(1xx to 5xx\) nor a status code \(100 to 599\)/);
    return true;
  });

  const slipway = cliFor(cp, app.dir);
  const table = await slipway('requests', 'web', '--status', '4xx', '--path', '/status/');
  assert.equal(table.code, 0, table.stderr);
  const shown = table.stdout.split('\n').filter((l) => l.includes('/status/'));
  assert.deepEqual(shown.map((l) => l.split(/\s+/)[2]), ['404', '429', '404'], table.stdout);
  const errors = await slipway('requests', 'web', '--errors', '--path', '/status/', '--json');
  assert.equal(errors.code, 0, errors.stderr);
  assert.deepEqual((JSON.parse(errors.stdout) as Array<{ status: number }>).map((r) => r.status), [503, 500]);
  const bad = await slipway('requests', 'web', '--status', '4xx,abc');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--status: "abc" is neither a status class/);
});
