/**
 * @runs-alone: it tells slow requests from fast ones by their latency.
 * Request metrics end to end, against real HAProxy and Docker: a known mix of requests
 * through the edge is reported exactly (counts per status class, p99 within one histogram
 * bucket, the slow and error requests by request id); a rolling deploy under traffic is
 * attributed to the right releases; requests served while the control plane is down wait in
 * the edge's ring and are counted once it is back.
 *
 * The control plane runs in this process (startControlPlane) so the test can call the query
 * class directly; the HTTP routes and CLI commands are thin layers over the same calls.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { optionsFromEnv, startControlPlane, type ControlPlane } from '../src/main';
import { SlipwayClient } from '../src/client/api-client';
import { bucketIndex } from '../src/observe/latency-histogram';
import { metricsQuery, requestsQuery, type MetricsResult } from '../src/core/contract/metrics';
import { freePort } from './support/free-port';
import { cliFor } from './support/cli';
import type { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject } from './support/test-project';
import { deployAndWait, deploymentLog } from './support/wait-deployment';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'slipway-reqmetrics-'));
const network = 'slipway-test-reqmetrics';
const token = `test-token-${Math.random().toString(36).slice(2)}`;
const ports = { api: await freePort(), http: await freePort(), log: await freePort(), prometheus: await freePort() };
const app = new TestProject('reqm');
const env = {
  ...process.env,
  SLIPWAY_DATA_DIR: dataDir,
  SLIPWAY_API_PORT: String(ports.api),
  SLIPWAY_HTTP_PORT: String(ports.http),
  SLIPWAY_EDGE_BIND: '127.0.0.1',
  SLIPWAY_DOCKER_NETWORK: network,
  SLIPWAY_REQUEST_LOG_LISTEN: `127.0.0.1:${ports.log}`,
  SLIPWAY_METRICS_FLUSH_INTERVAL: '300ms',
  SLIPWAY_EDGE_PROMETHEUS: `127.0.0.1:${ports.prometheus}`,
  SLIPWAY_HTTPS_PORT: 'off',
  SLIPWAY_ACME: 'off',
  // Every answer is checked against its declared schema.
  SLIPWAY_STRICT_RESPONSES: '1',
};
const logger = pino({ level: 'debug' }, pino.destination({ dest: path.join(dataDir, 'server.log'), sync: true }));
let cp: ControlPlane | null = null;
const client = new SlipwayClient({ url: `http://127.0.0.1:${ports.api}`, token });
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

async function startCp(): Promise<ControlPlane> {
  cp = await startControlPlane({ ...optionsFromEnv(env), adminToken: token, env }, logger);
  return cp;
}

function queries() {
  assert.ok(cp?.requestMetrics, 'request metrics are on');
  return cp.requestMetrics;
}

before(async () => {
  await startCp();
  await client.createBaseImage('node');
});

after(async () => {
  await cp?.close();
  agent.destroy();
  const { stopEdge } = await import('../src/drivers/haproxy/haproxy-edge');
  await stopEdge(path.join(dataDir, 'edge')).catch(() => undefined);
  const { removeTestContainers } = await import('./support/docker-cleanup');
  await removeTestContainers(network);
  rmSync(dataDir, { recursive: true, force: true });
});

interface Sent {
  id: string;
  path: string;
  status: number;
  release: string;
  ms: number;
}

/** One GET through the edge with our own X-Request-ID (the edge keeps a client's id). */
function get(pathname: string, id: string): Promise<Sent> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: ports.http, path: pathname, agent, headers: { host: app.domain, 'x-request-id': id } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ id, path: pathname, status: res.statusCode ?? 0, release: String(res.headers['x-slipway-release'] ?? '?'), ms: performance.now() - started }));
    });
    req.on('error', reject);
  });
}

/** Runs the requests `concurrency` at a time. */
async function sendAll(list: Array<{ path: string; id: string }>, concurrency = 16): Promise<Sent[]> {
  const out: Sent[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < list.length) {
        const r = list[next++]!;
        out.push(await get(r.path, r.id));
      }
    }),
  );
  return out;
}

const metrics = (by?: 'release' | 'route' | 'status') => queries().metrics({ project: 'reqm', service: 'web', ...metricsQuery.parse({ since: '1h', ...(by ? { by } : {}) }) });
const total = (m: MetricsResult) => m.groups.reduce((n, g) => n + g.requests, 0);

async function waitForTotal(expected: number, timeoutMs = 20_000): Promise<MetricsResult> {
  const started = Date.now();
  let m = await metrics();
  while (total(m) < expected && Date.now() - started < timeoutMs) {
    await new Promise((r) => setTimeout(r, 200));
    m = await metrics();
  }
  assert.equal(total(m), expected, `ingested ${total(m)} of ${expected} requests (${JSON.stringify(cp?.requestLogStats())})`);
  return m;
}

let expectedTotal = 0;
let firstRelease = 0;

/** The edge worker answering a scrape (its start time) and its response counters for the web backend, by class. */
async function exporterCounts(): Promise<{ worker: string; counts: Record<string, number> }> {
  const text = await (await fetch(`http://127.0.0.1:${ports.prometheus}/metrics`)).text();
  const worker = /^haproxy_process_start_time_seconds (\S+)$/m.exec(text)?.[1] ?? 'unknown';
  const counts: Record<string, number> = {};
  for (const cls of ['2xx', '4xx', '5xx']) {
    counts[cls] = Number(new RegExp(`^haproxy_backend_http_responses_total\\{proxy="be_reqm_web_production",code="${cls}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  }
  return { worker, counts };
}

const minus = (a: Record<string, number>, b: Record<string, number>) => Object.fromEntries(Object.keys(a).map((k) => [k, a[k]! - (b[k] ?? 0)]));

test('a known mix through the edge: exact counts per status class, p99 within one bucket, slow and error requests by id', async (t) => {
  const first = await deployAndWait(client, app.write({ version: 'a' }));
  assert.equal(first.state, 'succeeded', await deploymentLog(client, first.id));
  firstRelease = first.releaseNumber!;

  const mix = [
    ...Array.from({ length: 1000 }, (_, i) => ({ path: i % 2 ? '/' : `/status/200`, id: `ok-${i}` })),
    ...Array.from({ length: 50 }, (_, i) => ({ path: '/status/500', id: `err-${i}` })),
    ...Array.from({ length: 20 }, (_, i) => ({ path: `/missing/${i}`, id: `nf-${i}` })),
    ...Array.from({ length: 15 }, (_, i) => ({ path: '/slow?ms=300', id: `slow-${i}` })),
  ].sort(() => Math.random() - 0.5);
  const beforeMix = await exporterCounts();
  const sent = await sendAll(mix);
  assert.equal(sent.length, 1085);
  assert.deepEqual(
    Object.fromEntries(['2', '4', '5'].map((c) => [c, sent.filter((s) => String(s.status)[0] === c).length])),
    { 2: 1015, 4: 20, 5: 50 },
    'the app answered the mix as designed',
  );
  expectedTotal = 1085;

  const all = await waitForTotal(expectedTotal);
  const g = all.groups[0]!;
  assert.deepEqual(g.statusCounts, { '1xx': 0, '2xx': 1015, '3xx': 0, '4xx': 20, '5xx': 50 });
  assert.equal(g.errorRate, 50 / 1085);
  assert.ok(g.bytes! > 0);

  // HAProxy's own exporter agrees, class by class — when the worker that answers the scrape is
  // the one that served the mix. Its counters are per worker: a reload in between (a new worker)
  // starts them again; then the check is made at the end of this test on a second mix.
  const after = await exporterCounts();
  const reloadedDuringMix = after.worker !== beforeMix.worker;
  if (!reloadedDuringMix) assert.deepEqual(minus(after.counts, beforeMix.counts), { '2xx': 1015, '4xx': 20, '5xx': 50 }, 'exporter: the mix, class by class');
  else t.diagnostic(`the edge reloaded during the mix (worker started ${beforeMix.worker} → ${after.worker}, edge reloads so far: ${(await client.servers()).servers.map((x) => x.edge.reloads).join(', ')})`);

  // Slipway's own /metrics counted the same requests (a scraper on this host needs no token).
  const own = await (await fetch(`${cp!.url}/metrics`)).text();
  for (const [cls, n] of [['2xx', 1015], ['4xx', 20], ['5xx', 50]] as const) {
    const series = `slipway_http_requests_total{project="reqm",service="web",env="production",release="v${firstRelease}",code_class="${cls}"}`;
    assert.ok(own.split('\n').includes(`${series} ${n}`), `/metrics: ${series} ${n}`);
  }
  assert.match(own, /^slipway_deployments_total\{kind="deploy",outcome="succeeded"\} [1-9]/m, 'the deployment that succeeded is counted');
  assert.match(own, /^slipway_store_operation_duration_seconds_count\{operation="getDeployment"\} [1-9]/m);

  const byStatus = await metrics('status');
  assert.deepEqual(Object.fromEntries(byStatus.groups.map((s) => [s.status, s.requests])), { '1xx': 0, '2xx': 1015, '3xx': 0, '4xx': 20, '5xx': 50 });

  // The truth: the edge-measured durations of every request, from the ring (they hold all 1085).
  const ring = await queries().requests({ project: 'reqm', service: 'web', ...requestsQuery.parse({ limit: '10000' }) });
  assert.equal(ring.requests.length, 1085);
  assert.deepEqual(new Set(ring.requests.map((r) => r.requestId)), new Set(mix.map((m) => m.id)), 'every request is in the ring with its request id');
  const durations = ring.requests.map((r) => r.durationMs).sort((a, b) => a - b);
  const trueP99 = durations[Math.ceil(0.99 * durations.length) - 1]!;
  assert.ok(trueP99 >= 300, `p99 falls among the slow requests (${trueP99} ms)`);
  const p99 = g.latencyMs!.p99;
  assert.ok(p99 >= trueP99 && bucketIndex(p99) - bucketIndex(trueP99) <= 1, `p99 ${p99} ms within one bucket of the true ${trueP99} ms`);

  const slow = await queries().requests({ project: 'reqm', service: 'web', ...requestsQuery.parse({ slow: '250ms' }) });
  assert.deepEqual(slow.requests.map((r) => r.requestId).sort(), mix.filter((m) => m.id.startsWith('slow-')).map((m) => m.id).sort());
  assert.ok(slow.requests.every((r) => r.durationMs >= 300 && r.path === '/slow' && r.route === '/slow'));

  const errors = await queries().requests({ project: 'reqm', service: 'web', ...requestsQuery.parse({ errors: 'true' }) });
  assert.deepEqual(errors.requests.map((r) => r.requestId).sort(), mix.filter((m) => m.id.startsWith('err-')).map((m) => m.id).sort());
  assert.ok(errors.requests.every((r) => r.status === 500 && r.release === first.releaseNumber && r.replica?.startsWith(`reqm-web-production-v${first.releaseNumber}-`)));

  const byRoute = await metrics('route');
  assert.deepEqual(
    Object.fromEntries(byRoute.groups.map((r) => [r.route, r.requests])),
    { '/': 500, '/status/:id': 550, '/missing/:id': 20, '/slow': 15 },
    'numeric segments collapse to :id, the query string is dropped',
  );

  // The HTTP API and the CLI answer the same (thin layers over the query class).
  const viaApi = await client.metrics('reqm', 'web', { by: 'status', since: '1h' });
  assert.deepEqual(viaApi.groups.map((x) => [x.status, x.requests]), byStatus.groups.map((x) => [x.status, x.requests]));
  // As time series (the dashboard's charts and sparklines): every request in some minute, a continuous x axis.
  const series = await client.metricsSeries('reqm', 'web', { since: '1h', by: 'release' });
  assert.equal(series.stepSeconds, 60);
  assert.deepEqual(series.series.map((s) => s.release), [firstRelease]);
  const points = series.series[0]!.points;
  assert.equal(points.length, 61, 'one point per minute of the hour, and the current one');
  assert.equal(points.reduce((n, p) => n + p.requests, 0), 1085);
  assert.equal(points.reduce((n, p) => n + Math.round(p.errorRate * p.requests), 0), 50);
  assert.ok(points.some((p) => p.requests === 0 && p.p99 === null), 'minutes without traffic are zeros');
  assert.ok(points.some((p) => p.p99 !== null && p.p99 >= 300), 'the slow requests show in the p99 of their minute');
  const sparklines = await client.metricsOverviewSeries('reqm', { since: '1h' });
  assert.deepEqual(sparklines.series.map((s) => [s.service, s.points.reduce((n, p) => n + p.requests, 0)]), [['web', 1085]]);
  const errorsViaApi = await client.recentRequests('reqm', 'web', { errors: 'true' });
  assert.deepEqual(errorsViaApi.requests.map((r) => r.requestId).sort(), errors.requests.map((r) => r.requestId).sort());
  await assert.rejects(client.metrics('reqm', 'web', { since: '2x' }), (err: Error & { code?: string; details?: Array<{ path?: string }> }) => {
    assert.equal(err.code, 'SLW_BAD_REQUEST');
    assert.ok(err.details?.some((d) => d.path === 'since'), JSON.stringify(err.details));
    return true;
  });
  const cli = cliFor({ apiPort: ports.api, token } as ControlPlaneProcess, app.dir);
  const slowViaCli = await cli('requests', 'web', '--slow', '250ms', '--json');
  assert.equal(slowViaCli.code, 0, slowViaCli.stderr);
  assert.deepEqual((JSON.parse(slowViaCli.stdout) as Array<{ requestId: string }>).map((r) => r.requestId).sort(), slow.requests.map((r) => r.requestId).sort());
  const table = await cli('metrics', 'web', '--by', 'status');
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^5xx\s+50\s/m, table.stdout);
  const seriesTable = await cli('metrics', 'web', '--series');
  assert.equal(seriesTable.code, 0, seriesTable.stderr);
  assert.match(seriesTable.stdout, /steps of 1 min\n^TIME\s+REQUESTS\s+REQ\/S\s+ERR %\s+P95$/m, seriesTable.stdout);
  assert.equal(seriesTable.stdout.trim().split('\n').length, 2 + 61);

  // An id the edge generated reaches the app (which echoes it) and the ring alike; the ring answers newest first.
  const echoed = await new Promise<string>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: ports.http, path: '/', agent: false, headers: { host: app.domain } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c)).on('end', () => resolve((JSON.parse(body) as { requestId: string }).requestId));
    }).on('error', reject);
  });
  expectedTotal += 1;
  await waitForTotal(expectedTotal);
  const latest = await queries().requests({ project: 'reqm', service: 'web', ...requestsQuery.parse({ limit: '1' }) });
  assert.match(echoed, /^[0-9a-f-]{36}$/);
  assert.equal(latest.requests[0]?.requestId, echoed);

  // HAProxy's own exporter agrees on a second mix (see above: the first one was split across a reload).
  if (reloadedDuringMix) {
    const again = await exporterCounts();
    const second = await sendAll(mix.map((m) => ({ ...m, id: `again-${m.id}` })));
    assert.equal(second.length, 1085);
    const end = await exporterCounts();
    assert.equal(end.worker, again.worker, 'no second reload in a row');
    assert.deepEqual(minus(end.counts, again.counts), { '2xx': 1015, '4xx': 20, '5xx': 50 }, 'exporter: the second mix, class by class');
    expectedTotal += 1085;
  }
});

test('during a rolling deploy, every request is attributed to the release that answered it', async () => {
  const sent: Sent[] = [];
  let stop = false;
  let n = 0;
  const load = Promise.all(
    Array.from({ length: 4 }, async () => {
      while (!stop) sent.push(await get('/', `roll-${n++}`));
    }),
  );
  await new Promise((r) => setTimeout(r, 300));
  const second = await deployAndWait(client, app.write({ version: 'b' }));
  await new Promise((r) => setTimeout(r, 300));
  stop = true;
  await load;
  assert.equal(second.state, 'succeeded', await deploymentLog(client, second.id));
  assert.ok(sent.every((s) => s.status === 200), 'no failed request during the deploy');
  const releases = new Set(sent.map((s) => s.release));
  assert.ok(releases.has(`v${second.releaseNumber}`) && releases.size === 2, `traffic on both releases (${[...releases].join(', ')})`);

  expectedTotal += sent.length;
  await waitForTotal(expectedTotal);
  const byRelease = await metrics('release');
  const reported = Object.fromEntries(byRelease.groups.map((g) => [`v${g.release}`, g.requests]));
  // Everything before this test went to the first release.
  const expected: Record<string, number> = { [`v${firstRelease}`]: expectedTotal - sent.length };
  for (const s of sent) expected[s.release] = (expected[s.release] ?? 0) + 1;
  assert.deepEqual(reported, expected);

  // Request by request: the ring's release is the one whose replica answered.
  const ring = await queries().requests({ project: 'reqm', service: 'web', ...requestsQuery.parse({ limit: '10000' }) });
  const ringRelease = new Map(ring.requests.map((r) => [r.requestId, `v${r.release}`]));
  for (const s of sent) assert.equal(ringRelease.get(s.id), s.release, `request ${s.id}`);
});

test('the edge serves while the control plane is down; the lines wait in its ring and are counted after the restart', async () => {
  await cp!.close();
  cp = null;
  const whileDown = await sendAll(Array.from({ length: 200 }, (_, i) => ({ path: '/', id: `down-${i}` })), 8);
  assert.ok(whileDown.every((s) => s.status === 200), 'the edge keeps serving without its log receiver');
  await startCp();
  expectedTotal += 200;
  await waitForTotal(expectedTotal, 30_000);
  const ring = await queries().requests({ project: 'reqm', service: 'web', ...requestsQuery.parse({ limit: '10000' }) });
  assert.deepEqual(ring.requests.map((r) => r.requestId).sort(), whileDown.map((s) => s.id).sort(), 'after a restart the ring holds exactly what came since');
});

test('unknown projects and services are SLW_NOT_FOUND', async () => {
  await assert.rejects(queries().metrics({ project: 'reqm', service: 'nope', ...metricsQuery.parse({}) }), { code: 'SLW_NOT_FOUND' });
  await assert.rejects(queries().overview({ project: 'nope', ...metricsQuery.omit({ by: true }).parse({}) }), { code: 'SLW_NOT_FOUND' });
  const overview = await queries().overview({ project: 'reqm', ...metricsQuery.omit({ by: true }).parse({}) });
  assert.deepEqual(overview.groups.map((g) => [g.service, g.requests]), [['web', expectedTotal]]);
});
