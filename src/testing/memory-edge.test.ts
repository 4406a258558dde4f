/**
 * The in-memory edge: the Edge contract (the same suite the HAProxy driver passes in
 * test/edge-contract.test.ts), then its test helpers: route, in-flight requests, crash,
 * failNext, the calls log, health, certificates.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { isSlipwayError } from '../core/errors';
import { makeLeaf } from '../core/tls/test-certificates';
import { runEdgeContract, type EdgeAnswer, type EdgeContractHarness } from './edge-contract';
import { MemoryEdge, type RouteAnswer } from './memory-edge';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const answer = (r: RouteAnswer): EdgeAnswer => ({ status: r.status, server: r.server, ...(r.stopped !== undefined ? { stopped: r.stopped } : {}) });

/** The memory edge behind the contract's harness: requests are route(), slow ones are held in flight. */
async function memoryHarness(): Promise<EdgeContractHarness> {
  const edge = new MemoryEdge();
  return {
    edge,
    replicas: { a: { address: '10.0.0.2', port: 3000 }, b: { address: '10.0.0.3', port: 3000 }, c: { address: '10.0.0.4', port: 3000 } },
    request: async (host) => answer(edge.route(host)),
    slowRequest: async (host, ms) => {
      const r = edge.route(host);
      if (r.server === null || r.backend === null) return answer(r);
      edge.inFlight(r.backend, r.server, edge.openRequests(r.backend, r.server) + 1);
      await sleep(ms);
      edge.finishInFlight(r.backend, r.server, 1);
      return answer(r);
    },
    addStrayRoute: async (host, backend) => edge.addStrayRoute(host, backend),
    kill: async () => edge.crash('killed by the test'),
    close: async () => undefined,
  };
}

runEdgeContract('memory', memoryHarness);

/** A running memory edge with backend be_web (web.localhost) and servers a, b (weight 1). */
async function webEdge(opts: ConstructorParameters<typeof MemoryEdge>[0] = {}): Promise<MemoryEdge> {
  const edge = new MemoryEdge(opts);
  await edge.ensureRunning();
  await edge.ensureBackend({ name: 'be_web', hosts: ['web.localhost'] });
  await edge.addServer('be_web', { name: 'a', address: '10.0.0.2', port: 3000 });
  await edge.addServer('be_web', { name: 'b', address: '10.0.0.3', port: 3000 });
  return edge;
}

const routeMany = (edge: MemoryEdge, n: number) => Array.from({ length: n }, () => edge.route('web.localhost').server);

async function rejectsEdge(p: Promise<unknown>): Promise<void> {
  await assert.rejects(p, (err: unknown) => isSlipwayError(err) && err.code === 'SLW_EDGE');
}

describe('MemoryEdge helpers', () => {
  test('route: deterministic weighted round robin over the servers in rotation', async () => {
    const edge = await webEdge();
    assert.deepEqual(routeMany(edge, 4), ['a', 'b', 'a', 'b']);
    await edge.setWeights('be_web', [{ name: 'a', weight: 3 }, { name: 'b', weight: 1 }]);
    assert.deepEqual(routeMany(edge, 8), ['a', 'a', 'b', 'a', 'a', 'a', 'b', 'a'], 'smooth 3:1, restarted at the change');
    await edge.setWeights('be_web', [{ name: 'a', weight: 9 }, { name: 'b', weight: 1 }]);
    const hundred = routeMany(edge, 100);
    assert.equal(hundred.filter((s) => s === 'b').length, 10, 'a canary at 10 % gets exactly 10 of 100');
    assert.deepEqual(edge.route('WEB.localhost:443'), { status: 200, backend: 'be_web', server: 'a' });
    assert.deepEqual(edge.route('other.localhost'), { status: 404, backend: null, server: null });
    await edge.setWeights('be_web', [{ name: 'a', weight: 0 }, { name: 'b', weight: 0 }]);
    assert.deepEqual(edge.route('web.localhost'), { status: 503, backend: 'be_web', server: null });
  });

  test('inFlight and finishInFlight: a drain resolves as soon as the last request ends', async () => {
    const edge = await webEdge();
    edge.inFlight('be_web', 'a', 2);
    assert.equal((await edge.listServers('be_web')).find((s) => s.name === 'a')?.activeSessions, 2);
    let settled = false;
    const drain = edge.drainServer('be_web', 'a', 10_000).finally(() => (settled = true));
    await sleep(20);
    edge.finishInFlight('be_web', 'a', 1);
    await sleep(20);
    assert.equal(settled, false, 'one request is still open');
    assert.equal(edge.openRequests('be_web', 'a'), 1);
    edge.finishInFlight('be_web', 'a');
    const result = await drain;
    assert.equal(result.drained, true);
    assert.equal(result.remaining, 0);
    assert.ok(result.waitedMs >= 30 && result.waitedMs < 1000, `${result.waitedMs} ms`);
    assert.throws(() => edge.inFlight('be_web', 'nosuch', 1), /not a server/);
  });

  test('a drain that times out reports what is left; timeout 0 answers at once', async () => {
    const edge = await webEdge();
    edge.inFlight('be_web', 'a', 3);
    const timedOut = await edge.drainServer('be_web', 'a', 50);
    assert.equal(timedOut.drained, false);
    assert.equal(timedOut.remaining, 3);
    assert.ok(timedOut.waitedMs >= 50 && timedOut.waitedMs < 1000, `${timedOut.waitedMs} ms`);
    assert.deepEqual(await edge.drainServer('be_web', 'a', 0), { drained: false, remaining: 3, waitedMs: 0 });
  });

  test('after a reload, requests in flight belong to the old worker: not in activeSessions, still waited for', async () => {
    const edge = await webEdge();
    edge.inFlight('be_web', 'a', 1);
    await edge.ensureBackend({ name: 'be_other', hosts: ['other.localhost'] });
    assert.equal(edge.reloads, 2);
    assert.equal((await edge.listServers('be_web')).find((s) => s.name === 'a')?.activeSessions, 0);
    const drain = edge.drainServer('be_web', 'a', 5000);
    await sleep(30);
    edge.finishInFlight('be_web', 'a', 1);
    const result = await drain;
    assert.equal(result.drained, true);
    assert.ok(result.waitedMs >= 25, `waited for the old worker (${result.waitedMs} ms)`);
  });

  test('removeServer with requests in flight leaves it in maint until they end', async () => {
    const edge = await webEdge();
    edge.inFlight('be_web', 'a', 1);
    await edge.removeServer('be_web', 'a');
    assert.deepEqual((await edge.listServers('be_web')).map((s) => [s.name, s.state]), [['a', 'maint'], ['b', 'ready']]);
    assert.deepEqual(routeMany(edge, 3), ['b', 'b', 'b']);
    edge.finishInFlight('be_web', 'a');
    assert.deepEqual((await edge.listServers('be_web')).map((s) => s.name), ['b']);
  });

  test('crash: watchers hear it once, runtime servers and waiting drains are lost, backends stay', async () => {
    const edge = await webEdge();
    const pid = (await edge.status()).pid;
    const reasons: string[] = [];
    edge.watch((r) => reasons.push(r));
    edge.inFlight('be_web', 'a', 1);
    const drain = edge.drainServer('be_web', 'a', 5000);
    edge.crash('oom killer');
    edge.crash('again');
    assert.deepEqual(reasons, ['oom killer']);
    await rejectsEdge(drain);
    assert.equal((await edge.status()).running, false);
    assert.throws(() => edge.route('web.localhost'), /ECONNREFUSED/);
    await rejectsEdge(edge.listServers('be_web'));
    const late: string[] = [];
    edge.watch((r) => late.push(r));
    await Promise.resolve();
    assert.equal(late.length, 1, 'watching a dead edge reports it at once');
    const back = await edge.ensureRunning();
    assert.notEqual(back.pid, pid, 'a new process');
    assert.deepEqual((await edge.listBackends()).map((b) => b.name), ['be_web']);
    assert.deepEqual(await edge.listServers('be_web'), []);
    assert.equal(edge.route('web.localhost').status, 503);
  });

  test('failNext: the next call of that method rejects with the error and changes nothing; queued per method', async () => {
    const edge = await webEdge();
    const boom = new Error('socket hang up');
    edge.failNext('addServer', boom);
    edge.failNext('addServer', new Error('second'));
    edge.failNext('listServers', new Error('read failed'));
    await assert.rejects(edge.addServer('be_web', { name: 'c', address: '10.0.0.4', port: 3000 }), (err) => err === boom);
    await assert.rejects(edge.listServers('be_web'), /read failed/);
    await assert.rejects(edge.addServer('be_web', { name: 'c', address: '10.0.0.4', port: 3000 }), /second/);
    assert.deepEqual((await edge.listServers('be_web')).map((s) => s.name), ['a', 'b'], 'the failed calls added nothing');
    await edge.addServer('be_web', { name: 'c', address: '10.0.0.4', port: 3000 });
    assert.deepEqual((await edge.listServers('be_web')).map((s) => s.name), ['a', 'b', 'c']);
  });

  test('calls: every mutating call in order, refused ones too; reads are not logged', async () => {
    const edge = new MemoryEdge();
    await edge.ensureRunning();
    await edge.ensureBackend({ name: 'be_web', hosts: ['web.localhost', 'www.localhost'] });
    await edge.addServer('be_web', { name: 'a', address: '10.0.0.2', port: 3000 });
    await edge.addServer('be_web', { name: 'b', address: '10.0.0.3', port: 3000 }, { weight: 0 });
    await edge.listServers('be_web');
    await edge.setWeights('be_web', [{ name: 'b', weight: 1 }, { name: 'a', weight: 0 }]);
    await rejectsEdge(edge.setWeights('be_web', [{ name: 'nosuch', weight: 1 }]));
    await edge.drainServer('be_web', 'a', 1000);
    await edge.removeServer('be_web', 'a');
    await edge.removeBackend('be_web');
    assert.deepEqual(edge.calls, [
      'ensureRunning',
      'ensureBackend be_web web.localhost,www.localhost',
      'addServer be_web/a 10.0.0.2:3000 weight=1',
      'addServer be_web/b 10.0.0.3:3000 weight=0',
      'setWeights be_web b=1,a=0',
      'setWeights be_web nosuch=1',
      'drainServer be_web/a',
      'removeServer be_web/a',
      'removeBackend be_web',
    ]);
    assert.equal(edge.reloads, 2);
  });

  test('health: a checked backend reports it; a server marked down takes no new request', async () => {
    const edge = new MemoryEdge();
    await edge.ensureRunning();
    const check = { path: '/health', host: 'web.localhost', intervalMs: 1000, timeoutMs: 500, fall: 2, rise: 1 };
    await edge.ensureBackend({ name: 'be_web', hosts: ['web.localhost'], check });
    await edge.addServer('be_web', { name: 'a', address: '10.0.0.2', port: 3000 });
    await edge.addServer('be_web', { name: 'b', address: '10.0.0.3', port: 3000 });
    edge.setHealth('be_web', 'b', 'down');
    const listed = await edge.listServers('be_web');
    assert.deepEqual(listed.map((s) => [s.name, s.state, s.health]), [['a', 'ready', 'up'], ['b', 'ready', 'down']]);
    assert.equal(listed[1]?.healthChangedSecondsAgo, 0);
    assert.deepEqual(routeMany(edge, 3), ['a', 'a', 'a']);
    await edge.ensureBackend({ name: 'be_web', hosts: ['web.localhost'], check: { ...check, fall: 3 } });
    assert.equal(edge.reloads, 2, 'a change of checks is structural');
    await rejectsEdge(edge.ensureBackend({ name: 'be_web', hosts: ['web.localhost'], check: { ...check, rise: 0 } }));
  });

  test('certificates: installed, replaced and removed with HTTPS; a key that does not match is refused', async () => {
    const edge = new MemoryEdge({ httpsPort: 8443 });
    await edge.ensureRunning();
    const first = await makeLeaf({ domains: ['web.localhost'] });
    const second = await makeLeaf({ domains: ['web.localhost'] });
    await edge.installCertificate({ name: 'web', hosts: ['Web.localhost'], ...first, redirectByDefault: false });
    const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;
    assert.deepEqual(await edge.listCertificates(), [{ name: 'web', hosts: ['web.localhost'], fingerprint256: fingerprint(first.certPem) }]);
    await rejectsEdge(edge.installCertificate({ name: 'web', hosts: ['web.localhost'], certPem: second.certPem, keyPem: first.keyPem, redirectByDefault: false }));
    assert.equal((await edge.listCertificates())[0]?.fingerprint256, fingerprint(first.certPem), 'the previous certificate keeps serving');
    await edge.installCertificate({ name: 'web', hosts: ['web.localhost'], ...second, redirectByDefault: true });
    assert.equal((await edge.listCertificates())[0]?.fingerprint256, fingerprint(second.certPem));
    await edge.removeCertificate('web');
    await edge.removeCertificate('web');
    assert.deepEqual(await edge.listCertificates(), []);
    assert.equal((await edge.status()).httpsPort, 8443);
    assert.equal(edge.reloads, 0, 'certificates are no reload');
  });

  test('the control plane domain is refused to backends and hidden from listRoutes', async () => {
    const edge = new MemoryEdge({ controlDomain: 'slipway.localhost' });
    await edge.ensureRunning();
    await rejectsEdge(edge.ensureBackend({ name: 'be_web', hosts: ['slipway.localhost'] }));
    await edge.ensureBackend({ name: 'be_web', hosts: ['web.localhost'] });
    assert.deepEqual(await edge.listRoutes(), [{ host: 'web.localhost', backend: 'be_web' }]);
    await rejectsEdge(edge.removeRoute('slipway.localhost'));
  });
});
