/**
 * @runs-alone: its warm windows are timed against control-plane restarts.
 * Blue-green against real Docker and HAProxy, under keep-alive load through the edge:
 * the whole new set starts on standby and takes traffic in one flip (0 failed requests,
 * nothing from the new release before the flip, nothing from the old one after it); a
 * rollback inside the warm window is a switch back that starts no container (checked
 * with Docker's own event stream); the warm set is retired when keep_warm ends (at once
 * with keep_warm 0s); a new set that fails its health checks never gets traffic; and a
 * control plane SIGKILLed during the warm window still retires the warm set on schedule
 * after its restart.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Docker from 'dockerode';
import { startLoad, type LoadRun } from '../bench/lib/load-generator';
import type { DeploymentView, ServiceStatusView } from '../src/core/contract/views';
import { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject } from './support/test-project';
import { cliFor } from './support/cli';
import { deployAndWait, deploymentLog } from './support/wait-deployment';

const PROJECT = 'bluegreen';
const cp = await ControlPlaneProcess.create('bluegreen');
const app = new TestProject(PROJECT);
const cli = cliFor(cp, app.dir);
const docker = new Docker();
let load: LoadRun | null = null;
/** Every response the load generator saw: when it was sent, when it completed, which release answered. */
const seen: Array<{ sentAt: number; at: number; release: string }> = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const blueGreen = (version: string, keepWarm: string, extra: { env?: Record<string, string>; health?: Record<string, unknown> } = {}) =>
  app.write({ version, deploy: { strategy: 'blue-green', keep_warm: keepWarm }, ...extra });

before(async () => {
  await cp.start();
  await cp.client.createBaseImage('node');
});

after(async () => {
  await load?.stop();
  await cp.destroy();
});

async function web(): Promise<ServiceStatusView> {
  return (await cp.client.status(PROJECT)).services.find((s) => s.service === 'web')!;
}

/** Replicas as "v<release>:<edge state>", sorted: the shape of the service at a glance. */
async function shape(): Promise<string[]> {
  return (await web()).replicas.map((r) => `v${r.release}:${r.state === 'running' ? r.edge : r.state}`).sort();
}

/** Containers of this project as Docker lists them (every state). */
async function containers(): Promise<Array<{ name: string; release: string; state: string }>> {
  const list = await docker.listContainers({ all: true, filters: { label: [`slipway.project=${PROJECT}`] } });
  return list.map((c) => ({ name: c.Names[0]!.slice(1), release: c.Labels['slipway.release'] ?? '?', state: c.State }));
}

/** Docker's container events for this project between two instants (epoch ms), read back from the engine's event log. */
async function containerEvents(sinceMs: number, untilMs: number): Promise<Array<{ action: string; name: string; atMs: number }>> {
  while (Date.now() < untilMs + 1100) await sleep(100); // `until` must be in the past, or the stream waits for it
  const stream = await docker.getEvents({ since: Math.floor(sinceMs / 1000), until: Math.ceil(untilMs / 1000), filters: { type: ['container'] } });
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { Action: string; timeNano: number; Actor: { Attributes: Record<string, string> } })
    .filter((e) => e.Actor.Attributes['slipway.project'] === PROJECT || e.Actor.Attributes['slipway.run.project'] === PROJECT)
    .map((e) => ({ action: e.Action, name: e.Actor.Attributes.name ?? '?', atMs: e.timeNano / 1e6 }))
    .filter((e) => e.atMs >= sinceMs && e.atMs <= untilMs);
}

function step(d: DeploymentView, prefix: string) {
  const s = d.steps.find((x) => x.name.startsWith(prefix));
  assert.ok(s, `deployment ${d.id} has a step "${prefix}…": ${d.steps.map((x) => x.name).join(' | ')}`);
  assert.equal(s.status, 'done');
  return { ...s, startMs: Date.parse(s.startedAt), endMs: Date.parse(s.finishedAt!) };
}

function failures(): string {
  const r = load!.snapshot();
  return `${r.failed} failed of ${r.total}: ${JSON.stringify(r.errors)} ${JSON.stringify(r.firstFailures.slice(0, 3))}`;
}

test('a blue-green deploy starts the whole new set on standby and flips all traffic at once, 0 failed requests', async (t) => {
  const v1 = await deployAndWait(cp.client, blueGreen('one', '60s'));
  assert.equal(v1.state, 'succeeded', await deploymentLog(cp.client, v1.id));
  assert.deepEqual(await shape(), ['v1:ready', 'v1:ready']);

  load = startLoad({ url: cp.edgeUrl, hostHeader: app.domain, concurrency: 8, inspect: (r) => seen.push({ sentAt: r.sentAt, at: r.at, release: String(r.headers['x-slipway-release'] ?? '?') }) });
  await sleep(500);
  const deployStart = Date.now();
  const v2 = await deployAndWait(cp.client, blueGreen('two', '60s'));
  const deployEnd = Date.now();
  const log = await deploymentLog(cp.client, v2.id);
  assert.equal(v2.state, 'succeeded', log);
  await sleep(500);

  const flip = step(v2, 'flip traffic to v2');
  const start = step(v2, 'start 2 replica(s) of v2 beside the live set');
  assert.ok(start.endMs <= flip.startMs, 'the whole set was ready before the flip');
  assert.match(flip.detail ?? '', /^2 replica\(s\) of v2 in, 2 replica\(s\) of v1 out, in [\d.]+ ms \(one edge command\)$/);
  assert.match(log, /on standby at the edge \(no traffic until the flip\)/);
  assert.match(log, /traffic switched to v2 in [\d.]+ ms/);
  assert.match(log, /v1 stays warm: 2 replica\(s\) running out of rotation until .* \(keep_warm 1m0s\)/);
  const flipMs = Number(/in ([\d.]+) ms/.exec(flip.detail!)![1]);
  t.diagnostic(`flip: ${flipMs} ms (edge command); step ${flip.endMs - flip.startMs} ms; deploy ${deployEnd - deployStart} ms`);

  const beforeFlip = seen.filter((s) => s.at < flip.startMs);
  const afterFlip = seen.filter((s) => s.sentAt > flip.endMs);
  assert.ok(beforeFlip.filter((s) => s.sentAt > deployStart).length > 50, 'load ran while the new set started');
  assert.ok(afterFlip.length > 50, `load after the flip (${afterFlip.length})`);
  assert.deepEqual(new Set(beforeFlip.map((s) => s.release)), new Set(['v1']), 'no request reached v2 before the flip');
  assert.deepEqual(new Set(afterFlip.map((s) => s.release)), new Set(['v2']), 'every request sent after the flip was answered by v2');
  assert.equal(load.snapshot().failed, 0, failures());

  assert.deepEqual(await shape(), ['v1:standby', 'v1:standby', 'v2:ready', 'v2:ready']);
  const status = await web();
  assert.equal(status.currentRelease?.number, 2);
  assert.equal(status.readyReplicas, 2);
  assert.equal(status.warmSet?.release, 1);
  assert.equal(status.warmSet?.replicas, 2);
  assert.equal(status.warmSet?.deploymentId, v2.id);
  const left = Date.parse(status.warmSet!.retireAt) - flip.endMs;
  assert.ok(left > 58_000 && left <= 60_000, `retired 60s after the flip (${left} ms)`);
  const cliStatus = await cli('status');
  assert.equal(cliStatus.code, 0, cliStatus.stderr);
  assert.match(cliStatus.stdout, /warm: v1 \(2 replica\(s\) out of rotation\) until .* "slipway rollback web" switches back to it without starting a container/);

  // The event check below is only meaningful if it sees starts: the deploy's are there.
  const deployEvents = await containerEvents(deployStart, deployEnd);
  assert.equal(deployEvents.filter((e) => e.action === 'start').length, 2, JSON.stringify(deployEvents));
});

test('rollback inside the warm window switches back: 0 failed requests, no container created or started', async (t) => {
  const v1Containers = (await containers()).filter((c) => c.release === '1').map((c) => c.name).sort();
  const since = Date.now();
  const r = await cli('rollback', 'web');
  const until = Date.now();
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /✔ web is back on v1 \(switched back to the warm set: 2 warm replica\(s\) of v1 in, 2 replica\(s\) of v2 out, in [\d.]+ ms; no container started\)/);
  assert.match(r.stdout, /v1 is the warm set \(kept since .*\): switching traffic back, no container starts/);

  const rb = (await cp.client.deployments(PROJECT, { service: 'web' })).deployments[0]!;
  assert.equal(rb.kind, 'rollback');
  assert.equal(rb.state, 'succeeded');
  assert.equal(rb.releaseNumber, 1);
  const flip = step(rb, 'switch traffic back to v1 (warm set)');
  assert.ok(!rb.steps.some((s) => /start|build/.test(s.name)), rb.steps.map((s) => s.name).join(' | '));
  t.diagnostic(`switch back: ${flip.detail}; rollback command ${until - since} ms (CLI start-up included)`);

  const events = await containerEvents(since, until);
  const started = events.filter((e) => e.action === 'create' || e.action === 'start');
  assert.deepEqual(started, [], 'no container was created or started during the rollback');
  assert.deepEqual(events, [], 'nor stopped: the set traffic left stays warm');

  await sleep(500);
  const afterFlip = seen.filter((s) => s.sentAt > flip.endMs);
  assert.ok(afterFlip.length > 50, `load after the switch (${afterFlip.length})`);
  assert.deepEqual(new Set(afterFlip.map((s) => s.release)), new Set(['v1']), 'every request sent after the switch was answered by v1');
  assert.equal(load!.snapshot().failed, 0, failures());

  assert.deepEqual(await shape(), ['v1:ready', 'v1:ready', 'v2:standby', 'v2:standby']);
  assert.deepEqual((await containers()).filter((c) => c.release === '1').map((c) => c.name).sort(), v1Containers, 'the same v1 containers serve again');
  const status = await web();
  assert.equal(status.currentRelease?.number, 1);
  assert.equal(status.warmSet?.release, 2, 'the set traffic left is warm in turn');
});

test('after keep_warm the warm set is drained and removed; a new deployment ends an earlier window', async () => {
  const v3 = await deployAndWait(cp.client, blueGreen('three', '3s'));
  const log = await deploymentLog(cp.client, v3.id);
  assert.equal(v3.state, 'succeeded', log);
  assert.match(log, /ending the warm window of v2 early: this deployment replaces it/);
  const flip = step(v3, 'flip traffic to v3');
  assert.deepEqual(await shape(), ['v1:standby', 'v1:standby', 'v3:ready', 'v3:ready'], 'v2 retired at the start, v1 warm now');
  assert.equal((await web()).warmSet?.release, 1);

  while (Date.now() < flip.endMs + 2000) await sleep(100);
  assert.deepEqual(await shape(), ['v1:standby', 'v1:standby', 'v3:ready', 'v3:ready'], 'still warm 2 s into a 3 s window');

  const deadline = flip.endMs + 3000 + 15_000;
  while ((await containers()).some((c) => c.release === '1') && Date.now() < deadline) await sleep(200);
  const retiredAt = Date.now();
  assert.deepEqual((await containers()).map((c) => `v${c.release}`).sort(), ['v3', 'v3'], 'v1 containers removed');
  assert.ok(retiredAt >= flip.endMs + 3000, 'not before keep_warm ended');
  assert.deepEqual(await shape(), ['v3:ready', 'v3:ready']);
  assert.equal((await web()).warmSet ?? null, null);
  assert.match(await deploymentLog(cp.client, v3.id), /keep_warm of v1 ended at .*: draining and stopping 2 warm replica\(s\)[\s\S]*the warm set of v1 is retired/);
  assert.equal(load!.snapshot().failed, 0, failures());
});

test('a new set that fails its health checks never gets traffic; the live set keeps serving', async () => {
  const from = seen.length;
  const v4 = await deployAndWait(cp.client, blueGreen('four', '60s', { env: { HEALTH_FAIL: '1' }, health: { deadline: '3s' } }));
  const log = await deploymentLog(cp.client, v4.id);
  assert.equal(v4.state, 'failed', log);
  assert.equal(v4.errorCode, 'SLW_HEALTH_FAILED');
  assert.match(v4.error ?? '', /did not pass readiness on \/health/);
  assert.ok(!v4.steps.some((s) => s.name.startsWith('flip')), 'no flip was attempted');
  await sleep(300);
  assert.deepEqual(await shape(), ['v3:ready', 'v3:ready']);
  assert.deepEqual((await containers()).map((c) => `v${c.release}`).sort(), ['v3', 'v3'], 'the failed set is gone');
  assert.equal((await web()).currentRelease?.number, 3);
  assert.deepEqual(new Set(seen.slice(from).map((s) => s.release)), new Set(['v3']), 'only v3 answered');
  assert.equal(load!.snapshot().failed, 0, failures());
});

test('keep_warm 0s retires the previous set right after the flip', async () => {
  const v5 = await deployAndWait(cp.client, blueGreen('five', '0s'));
  const log = await deploymentLog(cp.client, v5.id);
  assert.equal(v5.state, 'succeeded', log);
  assert.ok(step(v5, 'retire v3 (keep_warm 0s)').startMs >= step(v5, 'flip traffic to v5').endMs, 'retired after the flip');
  assert.deepEqual(await shape(), ['v5:ready', 'v5:ready']);
  assert.deepEqual((await containers()).map((c) => `v${c.release}`).sort(), ['v5', 'v5']);
  assert.equal((await web()).warmSet ?? null, null);
  assert.equal(load!.snapshot().failed, 0, failures());
});

test('SIGKILL during the warm window: after the restart the warm set is kept until keep_warm ends, then retired (no orphans)', async (t) => {
  const v6 = await deployAndWait(cp.client, blueGreen('six', '30s'));
  assert.equal(v6.state, 'succeeded', await deploymentLog(cp.client, v6.id));
  const flip = step(v6, 'flip traffic to v6');
  cp.kill();
  const killedAt = Date.now();
  await sleep(1000); // the edge alone serves meanwhile
  await cp.start();
  t.diagnostic(`control plane back ${Date.now() - killedAt} ms after the SIGKILL`);
  const retireAt = flip.endMs + 30_000;
  assert.ok(Date.now() < retireAt - 2000, 'the restart left time in the window');
  assert.deepEqual(await shape(), ['v5:standby', 'v5:standby', 'v6:ready', 'v6:ready'], 'recovery kept the warm set');
  assert.equal((await web()).warmSet?.release, 5);

  while ((await containers()).some((c) => c.release === '5') && Date.now() < retireAt + 15_000) await sleep(200);
  assert.ok(Date.now() >= retireAt, 'retired on schedule, not before');
  assert.deepEqual((await containers()).map((c) => `v${c.release}`).sort(), ['v6', 'v6'], 'no orphan left');
  assert.deepEqual(await shape(), ['v6:ready', 'v6:ready']);

  // Killed again with a window that ends while the control plane is down: retired at the restart.
  const v7 = await deployAndWait(cp.client, blueGreen('seven', '2s'));
  assert.equal(v7.state, 'succeeded', await deploymentLog(cp.client, v7.id));
  cp.kill();
  await sleep(2500);
  await cp.start();
  const deadline = Date.now() + 15_000;
  while ((await containers()).some((c) => c.release === '6') && Date.now() < deadline) await sleep(200);
  assert.deepEqual((await containers()).map((c) => `v${c.release}`).sort(), ['v7', 'v7'], 'an expired warm set does not survive the restart');

  const report = await load!.stop();
  load = null;
  t.diagnostic(`load: ${report.total} requests, ${report.failed} failed, p99 ${report.latencyMs.p99.toFixed(1)} ms`);
  assert.equal(report.failed, 0, `${JSON.stringify(report.errors)} ${JSON.stringify(report.firstFailures.slice(0, 5))}`);
});
