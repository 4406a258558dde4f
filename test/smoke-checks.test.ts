/**
 * Post-deploy smoke checks (issue 23 item 2) against real Docker and HAProxy, under an
 * open-model load through the edge on the checked path: a release whose /api/health answers 500
 * (examples/hello's API_HEALTH_STATUS; its readiness path /health passes, so it takes traffic)
 * is rolled back automatically by its smoke check — the deployment ends `rolled_back`, its log
 * names the failing check and counts the failed requests, the client-visible errors fall between
 * the release taking traffic and the end of the rollback, and the previous release serves
 * everything afterwards; a release that passes stays live once its window is over; and a
 * blue-green release that fails is switched back to its warm set in one edge command (no
 * container starts).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startLoad, type LoadReport, type LoadRun } from '../bench/lib/load-generator';
import type { DeploymentView, ServiceStatusView } from '../src/core/contract/views';
import { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject } from './support/test-project';
import { deployAndWait, deploymentLog } from './support/wait-deployment';

const PROJECT = 'smoke';
const RATE = 50;
const WINDOW_S = 6;
const cp = await ControlPlaneProcess.create('smoke');
const app = new TestProject(PROJECT);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const SMOKE = {
  requests: [
    { path: '/api/health', expect: 200 },
    { path: '/', expect_body: '"app":"hello"' },
  ],
  through: 'edge',
  window: `${WINDOW_S}s`,
  interval: '1s',
};
const release = (version: string, env: Record<string, string> = {}, deploy: Record<string, unknown> = {}) => app.write({ version, env, deploy: { smoke: SMOKE, ...deploy } });

/** Every response of the load: when it was sent and completed, its status and the release that answered. */
type Seen = { sentAt: number; at: number; status: number; release: string };
let load: LoadRun | null = null;
let seen: Seen[] = [];

function startMeasuredLoad(): void {
  seen = [];
  load = startLoad({
    url: `${cp.edgeUrl}api/health`,
    hostHeader: app.domain,
    ratePerSec: RATE,
    timeoutMs: 5000,
    inspect: (r) => seen.push({ sentAt: r.sentAt, at: r.at, status: r.status, release: String(r.headers['x-slipway-release'] ?? '?') }),
  });
}

async function stopLoad(): Promise<LoadReport> {
  const report = await load!.stop();
  load = null;
  return report;
}

/** deployment.rolled_back events as the notifier delivers them (webhook target). */
const events: Array<Record<string, unknown>> = [];
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    events.push((JSON.parse(body) as { data: Record<string, unknown> }).data);
    res.writeHead(200).end();
  });
});

before(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  await cp.start();
  await cp.client.createBaseImage('node');
  await cp.client.addNotificationTarget({ kind: 'webhook', url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, project: PROJECT, events: ['deployment.rolled_back'] });
  const v1 = await deployAndWait(cp.client, release('one'));
  const log = await deploymentLog(cp.client, v1.id);
  assert.equal(v1.state, 'succeeded', log);
  // Its own smoke checks ran (and passed) through the edge.
  assert.match(log, /smoke: GET \/api\/health → 200 \(\d+ ms\)/);
  assert.match(log, /smoke: GET \/ → 200 \(\d+ ms\)/);
});

after(async () => {
  await load?.stop();
  await cp.destroy();
  receiver.close();
});

async function web(): Promise<ServiceStatusView> {
  return (await cp.client.status(PROJECT)).services.find((s) => s.service === 'web')!;
}

async function shape(): Promise<string[]> {
  return (await web()).replicas.map((r) => `v${r.release}:${r.state === 'running' ? r.edge : r.state}`).sort();
}

function step(d: DeploymentView, prefix: string) {
  const s = d.steps.find((x) => x.name.startsWith(prefix));
  assert.ok(s, `deployment ${d.id} has a step "${prefix}…": ${d.steps.map((x) => x.name).join(' | ')}`);
  return { ...s, startMs: Date.parse(s.startedAt), endMs: Date.parse(s.finishedAt!) };
}

async function deliveredEvent(id: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100 && !events.some((e) => e.deploymentId === id); i++) await sleep(100);
  const event = events.find((e) => e.deploymentId === id);
  assert.ok(event, `a deployment.rolled_back event was delivered for ${id}`);
  return event;
}

/**
 * The failed requests the load saw: only the failing release's, only 500s, none sent before it
 * took traffic (`from`) or after the deployment ended; the count the log gives agrees with them.
 */
function assertBoundedErrors(report: LoadReport, d: DeploymentView, log: string, failing: string, from: number): number {
  const errors = seen.filter((x) => x.status >= 500);
  const end = Date.parse(d.finishedAt!);
  assert.ok(errors.length > 0, 'the failing release answered some of the load (otherwise the test proves nothing)');
  assert.equal(report.failed, errors.length, `only 500s failed: ${JSON.stringify(report.errors)}`);
  assert.ok(errors.every((x) => x.release === failing && x.status === 500), `every failure came from ${failing}`);
  assert.ok(errors.every((x) => x.sentAt >= from - 50 && x.sentAt <= end + 50), `every failure was sent between ${failing} taking traffic and the end of the rollback`);
  // The log counts them (the edge's request lines, the smoke requests included).
  const counted = /v\d+ answered (\d+) request\(s\) from the start of its roll-out to the end of the rollback \([\d.]+ s\), (\d+) of them with a 5xx/.exec(log);
  assert.ok(counted, `the log counts the failed requests:\n${log}`);
  const logged = Number(counted[2]);
  assert.ok(logged >= errors.length && logged <= errors.length + 5, `the log counts ${logged} 5xx, the load saw ${errors.length} (plus at most a few smoke requests)`);
  return errors.length;
}

test('a release whose /api/health answers 500 after traffic moved is rolled back by its smoke check, under load: failures counted and bounded, v1 serves after', async (t) => {
  startMeasuredLoad();
  await sleep(1000);
  const d = await deployAndWait(cp.client, release('two', { API_HEALTH_STATUS: '500' }));
  const log = await deploymentLog(cp.client, d.id);
  await sleep(2000); // v1 alone, under load
  const report = await stopLoad();

  assert.equal(d.state, 'rolled_back', log);
  assert.equal(d.errorCode, 'SLW_SMOKE_FAILED');
  assert.match(d.error ?? '', /^smoke check failed: GET \/api\/health answered 500, expected 200 \(round 1, [\d.]+ s after traffic moved\)$/);
  assert.match(log, /smoke: GET \/api\/health → 500 \(\d+ ms\): FAIL, answered 500, expected 200/, 'the failing check is in the log');
  assert.match(log, /rolling back to v1/);
  const smoke = step(d, 'smoke checks: 2 request(s) through the edge for 6s');
  assert.equal(smoke.status, 'failed');
  assert.ok(smoke.endMs - smoke.startMs < WINDOW_S * 1000, 'the first wrong answer ended the window at once');
  const firstBatch = step(d, 'batch 1/');
  const errors = assertBoundedErrors(report, d, log, 'v2', firstBatch.startMs);
  const afterRollback = seen.filter((x) => x.sentAt > Date.parse(d.finishedAt!) + 50);
  t.diagnostic(`${errors} failed of ${report.total}; v2 had traffic for ${Date.parse(d.finishedAt!) - firstBatch.startMs} ms (roll-out, smoke check, rollback)`);
  for (const line of log.split('\n').filter((l) => /^(smoke[: ]|✘ smoke|v2 answered)/.test(l))) t.diagnostic(line);
  assert.ok(afterRollback.length > 50, `load after the rollback (${afterRollback.length})`);
  assert.ok(afterRollback.every((x) => x.release === 'v1' && x.status === 200), 'v1 served everything after the rollback');
  assert.deepEqual(await shape(), ['v1:ready', 'v1:ready']);
  assert.equal((await web()).currentRelease?.number, 1);
  assert.equal((await web()).lastDeployment?.state, 'rolled_back');

  const event = await deliveredEvent(d.id);
  assert.deepEqual([event.reason, event.errorCode, event.release, event.rolledBackTo], ['smoke', 'SLW_SMOKE_FAILED', 2, 1]);
  const check = event.check as { kind: string; path: string; status: number };
  assert.deepEqual([check.kind, check.path, check.status], ['request', '/api/health', 500]);
  assert.ok((event.exposed as { errors: number }).errors > 0, JSON.stringify(event.exposed));
});

test('a release that passes its smoke checks stays live once the window is over: 0 failed requests', async () => {
  startMeasuredLoad();
  await sleep(1000);
  const d = await deployAndWait(cp.client, release('three'));
  const log = await deploymentLog(cp.client, d.id);
  await sleep(1000);
  const report = await stopLoad();
  assert.equal(d.state, 'succeeded', log);
  const smoke = step(d, 'smoke checks:');
  assert.equal(smoke.status, 'done');
  assert.ok(smoke.endMs - smoke.startMs >= WINDOW_S * 1000 - 50, `the window lasted ${smoke.endMs - smoke.startMs} ms`);
  assert.match(smoke.detail ?? '', /^12 request\(s\) in 6 round\(s\) answered as expected; live: \d+ request\(s\), 0 5xx, p99 \d+ ms$/);
  assert.match(log, /smoke window [\d.]+ s: [\d,]+ request\(s\) to v3, 0 5xx \(0\.0 % errors\), p99 \d+ ms — pass/);
  assert.equal(report.failed, 0, JSON.stringify(report.errors));
  assert.ok(seen.filter((x) => x.sentAt > Date.parse(d.finishedAt!) + 50).every((x) => x.release === 'v3'));
  assert.deepEqual(await shape(), ['v3:ready', 'v3:ready']);
  assert.equal((await web()).currentRelease?.number, 3);
});

test('blue-green: a failing release is switched back to the warm set in one edge command, no container started', async () => {
  const before = (await web()).replicas.map((r) => r.name).sort();
  startMeasuredLoad();
  await sleep(1000);
  const d = await deployAndWait(cp.client, release('four', { API_HEALTH_STATUS: '500' }, { strategy: 'blue-green' }));
  const log = await deploymentLog(cp.client, d.id);
  await sleep(2000);
  const report = await stopLoad();
  assert.equal(d.state, 'rolled_back', log);
  assert.equal(d.errorCode, 'SLW_SMOKE_FAILED');
  const flip = step(d, 'flip traffic to v4');
  const back = step(d, 'switch traffic back to v3 (warm set)');
  assert.equal(back.status, 'done');
  assert.match(back.detail ?? '', /2 warm replica\(s\) of v3 in, 2 replica\(s\) of v4 out, in [\d.]+ ms; no container started/);
  assertBoundedErrors(report, d, log, 'v4', flip.startMs);
  assert.ok(seen.filter((x) => x.sentAt > back.endMs + 50).every((x) => x.release === 'v3' && x.status === 200), 'v3 served everything after the switch back');
  assert.deepEqual((await web()).replicas.map((r) => r.name).sort(), before, 'the same v3 containers serve: none started');
  assert.deepEqual(await shape(), ['v3:ready', 'v3:ready']);
  const event = await deliveredEvent(d.id);
  assert.deepEqual([event.reason, event.release, event.rolledBackTo], ['smoke', 4, 3]);
});
