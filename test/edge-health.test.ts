/**
 * Live replicas are health-checked at the edge, against real Docker and HAProxy: under a light
 * load through the edge, one of two replicas made sick on demand (examples/hello's
 * POST /admin/health, HEALTH_ADMIN=1) is taken out of rotation by HAProxy's checks within
 * seconds and gets no more requests, comes back when it heals, and, kept sick past
 * health.replace_after, is replaced by a repair (a new container) while the service is served.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject } from './support/test-project';
import { deployAndWait, deploymentLog, waitDeployment } from './support/wait-deployment';

const cp = await ControlPlaneProcess.create('edgehealth');
const app = new TestProject('edgehealth');

before(async () => {
  await cp.start({ SLIPWAY_RECONCILE_INTERVAL: '500ms' });
  await cp.client.createBaseImage('node');
});

after(async () => {
  await cp.destroy();
});

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${serverLog()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The control plane's log without the API's request lines: what the reconciler and the engine did. */
function serverLog(): string {
  try {
    return readFileSync(cp.logFile, 'utf8').split('\n').filter((l) => !/"component":"api"/.test(l)).slice(-40).join('\n');
  } catch {
    return '(no log)';
  }
}

/** GET / through the edge: the replica (container host name) that answered, or the failure. */
function hit(): Promise<{ ok: boolean; replica: string | null; detail: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: cp.httpPort, path: '/', headers: { host: app.domain }, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        if (res.statusCode !== 200) return resolve({ ok: false, replica: null, detail: `status ${res.statusCode}: ${body.slice(0, 100)}` });
        resolve({ ok: true, replica: (JSON.parse(body) as { replica: string }).replica, detail: '' });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ ok: false, replica: null, detail: err.message }));
  });
}

/** A light steady load (2 clients) that counts answers per replica; `window()` starts a new count. */
function load() {
  let counts = new Map<string, number>();
  const failures: string[] = [];
  let stopped = false;
  const loops = [0, 1].map(async () => {
    while (!stopped) {
      const r = await hit();
      if (r.ok) counts.set(r.replica!, (counts.get(r.replica!) ?? 0) + 1);
      else failures.push(`${new Date().toISOString()} ${r.detail}`);
      await new Promise((res) => setTimeout(res, 20));
    }
  });
  return {
    failures,
    window(): Map<string, number> {
      const c = counts;
      counts = new Map();
      return c;
    },
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/** Makes /health of one replica answer `status` (the container's address on the Slipway network). */
async function setHealth(address: string, status: number): Promise<void> {
  const res = await fetch(`http://${address}:3000/admin/health?status=${status}`, { method: 'POST' });
  assert.equal(res.status, 200, await res.text());
}

const webStatus = async () => (await cp.client.status('edgehealth')).services.find((s) => s.service === 'web')!;

const variant = (replaceAfter: string) => ({
  version: replaceAfter,
  replicas: 2,
  env: { HEALTH_ADMIN: '1' },
  health: { interval: '200ms', fall: 2, rise: 2, replace_after: replaceAfter },
});

test('a sick replica leaves the edge within seconds and comes back when it heals', async () => {
  const d = await deployAndWait(cp.client, app.write(variant('120s')));
  assert.equal(d.state, 'succeeded', await deploymentLog(cp.client, d.id));
  const [sick, well] = (await webStatus()).replicas;
  assert.ok(sick?.address && well?.address);
  // Container host names are the first 12 hex digits of the id: match answers to replicas by address.
  const names = new Map<string, string>();
  const l = load();
  try {
    await until('both replicas answering', async () => {
      const c = l.window();
      return c.size === 2 ? true : undefined;
    });
    for (const r of [sick, well]) {
      const res = (await (await fetch(`http://${r.address}:3000/`)).json()) as { replica: string };
      names.set(r.name, res.replica);
    }

    await setHealth(sick.address, 503);
    const madeSickAt = Date.now();
    await until('the sick replica out of rotation (edge health down)', async () => ((await webStatus()).replicas.find((r) => r.name === sick.name)?.edgeHealth === 'down' ? true : undefined), 20_000);
    console.log(`edge took the sick replica out after ${Date.now() - madeSickAt} ms (checks every second: health.interval 200 ms, the edge's floor 1 s; fall 2)`);
    const status = await webStatus();
    assert.equal(status.readyReplicas, 1, 'a replica failing its edge checks is not counted ready');
    l.window();
    await new Promise((r) => setTimeout(r, 1500));
    const whileSick = l.window();
    console.log(`answers while sick: ${JSON.stringify(Object.fromEntries(whileSick))}`);
    assert.equal(whileSick.get(names.get(sick.name)!) ?? 0, 0, 'no request reaches the sick replica');
    assert.ok((whileSick.get(names.get(well.name)!) ?? 0) > 0, 'the healthy one serves');

    await setHealth(sick.address, 200);
    await until('the healed replica back in rotation', async () => ((await webStatus()).replicas.find((r) => r.name === sick.name)?.edgeHealth === 'up' ? true : undefined), 20_000);
    l.window();
    await until('answers from the healed replica again', async () => ((l.window().get(names.get(sick.name)!) ?? 0) > 0 ? true : undefined), 10_000);
    assert.equal((await cp.client.deployments('edgehealth')).deployments.filter((x) => x.kind === 'repair').length, 0, 'a short sickness replaces nothing');
  } finally {
    await l.stop();
  }
  console.log(`failed requests: ${l.failures.length}${l.failures.length ? `\n# ${l.failures.join('\n# ')}` : ''}`);
  assert.equal(l.failures.length, 0, 'the app still answered /: no request may fail');
});

test('a replica sick past health.replace_after is replaced by a repair; the service stays served', async () => {
  // A new release with a short replace_after (the edge checks change: a seamless reload).
  const d = await deployAndWait(cp.client, app.write(variant('5s')));
  assert.equal(d.state, 'succeeded', await deploymentLog(cp.client, d.id));
  const [sick, well] = (await webStatus()).replicas.filter((r) => r.release === d.releaseNumber);
  assert.ok(sick?.address && well);
  const l = load();
  let repairId: string;
  try {
    await setHealth(sick.address, 503);
    const repair = await until('a repair deployment', async () => (await cp.client.deployments('edgehealth')).deployments.find((x) => x.kind === 'repair'), 90_000);
    repairId = repair.id;
    const done = await waitDeployment(cp.client, repair.id);
    const log = await deploymentLog(cp.client, repair.id);
    assert.equal(done.state, 'succeeded', log);
    assert.equal(done.releaseNumber, d.releaseNumber, 'the live release, no new one');
    assert.match(log, new RegExp(`replica ${sick.name} \\(v${d.releaseNumber}\\) is failing its edge health checks on /health for \\d+ s`));
    assert.match(log, new RegExp(`unhealthy replica ${sick.name} replaced`));
    const now = await webStatus();
    assert.ok(!now.replicas.some((r) => r.name === sick.name), 'the sick container is gone');
    assert.ok(now.replicas.some((r) => r.name === well.name), 'the healthy one was left alone');
    assert.equal(now.readyReplicas, 2);
    assert.deepEqual(now.replicas.map((r) => [r.release, r.edge]), [[d.releaseNumber, 'ready'], [d.releaseNumber, 'ready']]);
    await until('both replicas up at the edge', async () => ((await webStatus()).replicas.every((r) => r.edgeHealth === 'up') ? true : undefined), 20_000);
    l.window();
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(l.window().size, 2, 'both replicas serve');
  } finally {
    await l.stop();
  }
  console.log(`failed requests: ${l.failures.length}${l.failures.length ? `\n# ${l.failures.join('\n# ')}` : ''}`);
  assert.equal(l.failures.length, 0, 'no request may fail while the sick replica is replaced');
  // The replacement lasts: no second repair.
  await new Promise((r) => setTimeout(r, 2000));
  assert.deepEqual((await cp.client.deployments('edgehealth')).deployments.filter((x) => x.kind === 'repair').map((x) => x.id), [repairId!]);
});

test('a replica failing health.liveness is replaced by a repair, though the edge checks still pass', async () => {
  // The edge checks / (always 200); liveness probes /health, which the test turns to 503.
  const d = await deployAndWait(cp.client, app.write({ ...variant('10m'), version: 'liveness', health: { path: '/', liveness: '/health', interval: '200ms', fall: 2, rise: 2, replace_after: '10m' } }));
  assert.equal(d.state, 'succeeded', await deploymentLog(cp.client, d.id));
  const before = (await cp.client.deployments('edgehealth')).deployments.filter((x) => x.kind === 'repair').map((x) => x.id);
  const [sick, well] = (await webStatus()).replicas.filter((r) => r.release === d.releaseNumber);
  assert.ok(sick?.address && well);
  const l = load();
  try {
    await setHealth(sick.address, 503);
    const repair = await until('a repair deployment', async () => (await cp.client.deployments('edgehealth')).deployments.find((x) => x.kind === 'repair' && !before.includes(x.id)), 90_000);
    const done = await waitDeployment(cp.client, repair.id);
    const log = await deploymentLog(cp.client, repair.id);
    assert.equal(done.state, 'succeeded', log);
    assert.match(log, new RegExp(`${sick.name}[^\\n]*failing its liveness probe on /health \\(\\d+ times in a row\\)`));
    const now = await webStatus();
    assert.ok(!now.replicas.some((r) => r.name === sick.name), 'the failing container is gone');
    assert.ok(now.replicas.some((r) => r.name === well.name), 'the live one was left alone');
  } finally {
    await l.stop();
  }
  assert.equal(l.failures.length, 0, 'no request may fail while the replica is replaced');
});
