/**
 * The Edge contract: what every Edge implementation (the HAProxy driver, the in-memory edge)
 * must do, checked through real requests. Register it from a *.test.ts file:
 *
 *   runEdgeContract('memory', async () => memoryHarness());
 *
 * `open` is called once per test and must return an edge that is NOT running yet, with
 * three replicas `a`, `b`, `c` that answer their own id; the contract names each server
 * after the replica it points to, so "who answered" is the server's name.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { isSlipwayError } from '../core/errors';
import type { Edge, EdgeServer } from '../core/ports/edge';

export type ReplicaId = 'a' | 'b' | 'c';

/**
 * What a request through the edge got: the status, and the replica that answered (null unless
 * 200); `stopped`: the 503 was a stopped service's page, naming it (absent otherwise).
 */
export interface EdgeAnswer {
  status: number;
  server: string | null;
  stopped?: string;
}

export interface EdgeContractHarness {
  edge: Edge;
  /** Where each replica listens (HAProxy: tiny HTTP servers on 127.0.0.1; memory: any address). */
  replicas: Record<ReplicaId, { address: string; port: number }>;
  /** One request through the edge with this Host header. */
  request(host: string): Promise<EdgeAnswer>;
  /** A request its replica answers after `ms` (HAProxy: `?ms=N`; memory: held in flight that long). */
  slowRequest(host: string, ms: number): Promise<EdgeAnswer>;
  /** Adds a host route behind Slipway's back, as an operator could (HAProxy: `add map` on the admin socket). */
  addStrayRoute(host: string, backend: string): Promise<void>;
  /** The edge process dies (HAProxy: its master is stopped); the edge object stays. */
  kill(): Promise<void>;
  /** Stops everything the harness started. */
  close(): Promise<void>;
}

const ONE = 'be_one';
const TWO = 'be_two';
const HOST = 'one.localhost';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rejectsEdge(p: Promise<unknown>, message?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isSlipwayError(err), `expected a SlipwayError, got ${String(err)}`);
    assert.equal(err.code, 'SLW_EDGE');
    if (message) assert.match(err.message, message);
    return true;
  });
}

/** Polls until `check` holds; the edge's counters take a few ms to show a new request. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The facts the contract compares, in name order (the order of a listing is not part of the port). */
function view(list: EdgeServer[]): Array<{ name: string; state: string; weight: number; activeSessions: number }> {
  return list.map((s) => ({ name: s.name, state: s.state, weight: s.weight, activeSessions: s.activeSessions })).sort((x, y) => (x.name < y.name ? -1 : 1));
}

const byHost = (a: { host: string }, b: { host: string }) => (a.host < b.host ? -1 : 1);

export function runEdgeContract(name: string, open: () => Promise<EdgeContractHarness>): void {
  describe(`Edge contract: ${name}`, () => {
    async function fresh(t: TestContext, opts: { running?: boolean } = {}): Promise<EdgeContractHarness> {
      const h = await open();
      t.after(() => h.close());
      if (opts.running !== false) await h.edge.ensureRunning();
      return h;
    }

    /** A backend for `host` with the named replicas as servers (weight 1 unless given). */
    async function backend(h: EdgeContractHarness, be: string, host: string, servers: Array<ReplicaId | [ReplicaId, number]>): Promise<void> {
      await h.edge.ensureBackend({ name: be, hosts: [host] });
      for (const s of servers) {
        const [id, weight] = Array.isArray(s) ? s : [s, 1];
        await h.edge.addServer(be, { name: id, ...h.replicas[id] }, { weight });
      }
    }

    /** Who answered `n` sequential requests. */
    async function answers(h: EdgeContractHarness, host: string, n: number): Promise<Array<string | null>> {
      const out: Array<string | null> = [];
      for (let i = 0; i < n; i++) out.push((await h.request(host)).server);
      return out;
    }
    const distinct = (list: Array<string | null>) => [...new Set(list)].sort();

    test('before it runs: not running, watchers told at once, runtime changes refused; ensureRunning starts it', async (t) => {
      const h = await fresh(t, { running: false });
      const before = await h.edge.status();
      assert.equal(before.running, false);
      assert.equal(before.pid, null);
      const reason = await new Promise<string>((resolve) => h.edge.watch(resolve));
      assert.ok(reason.length > 0, 'a reason is given');
      assert.deepEqual(await h.edge.listBackends(), []);
      await rejectsEdge(h.edge.ensureBackend({ name: ONE, hosts: [HOST] }));
      await rejectsEdge(h.edge.addServer(ONE, { name: 'a', ...h.replicas.a }));
      await rejectsEdge(h.edge.listServers(ONE));
      await rejectsEdge(h.edge.drainServer(ONE, 'a', 100));
      const started = await h.edge.ensureRunning();
      assert.equal(started.running, true);
      assert.equal(typeof started.pid, 'number');
      assert.equal(started.reloads, 0);
      assert.deepEqual(await h.edge.listRoutes(), []);
    });

    test('a backend with a route answers through its servers; 503 without servers; 404 for an unknown host', async (t) => {
      const h = await fresh(t);
      await h.edge.ensureBackend({ name: ONE, hosts: [HOST] });
      assert.equal((await h.edge.status()).reloads, 1, 'a new backend is a reload');
      assert.deepEqual(await h.edge.listBackends(), [{ name: ONE, hosts: [HOST] }]);
      assert.deepEqual(await h.edge.listRoutes(), [{ host: HOST, backend: ONE }]);
      assert.deepEqual(await h.request(HOST), { status: 503, server: null }, 'a known host without servers');
      await h.edge.addServer(ONE, { name: 'a', ...h.replicas.a });
      assert.deepEqual(await h.request(HOST), { status: 200, server: 'a' });
      assert.deepEqual(await h.request('One.Localhost:8080'), { status: 200, server: 'a' }, 'Host is matched lowercased, without its port');
      assert.deepEqual(await h.request('nothing.localhost'), { status: 404, server: null });
      assert.equal((await h.edge.status()).reloads, 1, 'servers are no reload');
    });

    test('addServer and removeServer change who answers; addServer is idempotent by name', async (t) => {
      const h = await fresh(t);
      await backend(h, ONE, HOST, ['a', 'b']);
      await h.edge.addServer(ONE, { name: 'a', ...h.replicas.a });
      const listed = await h.edge.listServers(ONE);
      assert.deepEqual(view(listed), [
        { name: 'a', state: 'ready', weight: 1, activeSessions: 0 },
        { name: 'b', state: 'ready', weight: 1, activeSessions: 0 },
      ]);
      const b = listed.find((s) => s.name === 'b');
      assert.deepEqual(b && { address: b.address, port: b.port }, h.replicas.b, 'listed at its address');
      assert.deepEqual(distinct(await answers(h, HOST, 6)), ['a', 'b']);
      await h.edge.removeServer(ONE, 'a');
      assert.deepEqual(view(await h.edge.listServers(ONE)).map((s) => s.name), ['b']);
      assert.deepEqual(distinct(await answers(h, HOST, 4)), ['b']);
      await h.edge.removeServer(ONE, 'a');
      await h.edge.removeServer('be_nosuch', 'a');
      await h.edge.removeServer(ONE, 'b');
      assert.equal((await h.request(HOST)).status, 503);
      assert.equal((await h.edge.status()).reloads, 1);
    });

    test('a stopped backend answers 503 naming its service while no server is in rotation; set, cleared and kept across a restart without a reload', async (t) => {
      const h = await fresh(t);
      await h.edge.ensureBackend({ name: ONE, hosts: [HOST], stopped: { service: 'web' } });
      assert.deepEqual(await h.edge.listBackends(), [{ name: ONE, hosts: [HOST], stopped: { service: 'web' } }]);
      assert.deepEqual(await h.request(HOST), { status: 503, server: null, stopped: 'web' }, 'no server: the stopped page');
      await h.edge.addServer(ONE, { name: 'a', ...h.replicas.a });
      assert.deepEqual(await h.request(HOST), { status: 200, server: 'a' }, 'a server in rotation always takes the request');
      await h.edge.setWeights(ONE, [{ name: 'a', weight: 0 }]);
      assert.deepEqual(await h.request(HOST), { status: 503, server: null, stopped: 'web' }, 'a server on standby takes none: the page');
      await h.edge.setWeights(ONE, [{ name: 'a', weight: 1 }]);
      assert.equal((await h.edge.drainServer(ONE, 'a', 1000)).drained, true);
      assert.deepEqual(await h.request(HOST), { status: 503, server: null, stopped: 'web' }, 'a drained server takes none: the page');
      await h.edge.removeServer(ONE, 'a');
      assert.deepEqual(await h.request(HOST), { status: 503, server: null, stopped: 'web' });

      await h.edge.ensureBackend({ name: ONE, hosts: [HOST] });
      assert.deepEqual(await h.edge.listBackends(), [{ name: ONE, hosts: [HOST] }]);
      assert.deepEqual(await h.request(HOST), { status: 503, server: null }, 'not stopped any more: the bare 503 of a backend without servers');
      await h.edge.ensureBackend({ name: ONE, hosts: [HOST], stopped: { service: 'web' } });
      assert.equal((await h.edge.status()).reloads, 1, 'only the new backend was a reload: stopping and starting are runtime changes');

      await rejectsEdge(h.edge.ensureBackend({ name: TWO, hosts: ['two.localhost'], stopped: { service: 'bad name\nshow info' } }));
      assert.deepEqual((await h.edge.listBackends()).map((b) => b.name), [ONE], 'a refused backend is not declared');

      await h.kill();
      await h.edge.ensureRunning();
      assert.deepEqual(await h.request(HOST), { status: 503, server: null, stopped: 'web' }, 'a restarted edge still knows the service is stopped');
    });

    test('setWeights: 0 takes a server out of rotation and back, weights split traffic, refused changes change nothing', async (t) => {
      const h = await fresh(t);
      await backend(h, ONE, HOST, ['a', 'b']);
      await h.edge.setWeights(ONE, [{ name: 'b', weight: 0 }]);
      assert.deepEqual(view(await h.edge.listServers(ONE)).map((s) => [s.name, s.state, s.weight]), [['a', 'ready', 1], ['b', 'standby', 0]]);
      assert.deepEqual(distinct(await answers(h, HOST, 6)), ['a']);
      await h.edge.setWeights(ONE, [{ name: 'b', weight: 1 }]);
      assert.deepEqual(distinct(await answers(h, HOST, 6)), ['a', 'b']);

      await h.edge.setWeights(ONE, [{ name: 'a', weight: 3 }, { name: 'b', weight: 1 }]);
      const split = await answers(h, HOST, 16);
      const onA = split.filter((s) => s === 'a').length;
      assert.ok(onA > 8 && onA < 16, `a (weight 3) takes most requests, b (weight 1) some: ${split.join('')}`);

      await rejectsEdge(h.edge.setWeights(ONE, [{ name: 'a', weight: 2 }, { name: 'nosuch', weight: 1 }]), /no server nosuch/);
      await rejectsEdge(h.edge.setWeights(ONE, [{ name: 'a', weight: 2 }, { name: 'a', weight: 1 }]));
      await rejectsEdge(h.edge.setWeights(ONE, [{ name: 'a', weight: 257 }]));
      await rejectsEdge(h.edge.setWeights('be_nosuch', [{ name: 'a', weight: 1 }]));
      assert.deepEqual(view(await h.edge.listServers(ONE)).map((s) => s.weight), [3, 1], 'refused changes left the weights');

      await h.edge.addServer(ONE, { name: 'c', ...h.replicas.c }, { weight: 0 });
      assert.equal((await h.edge.listServers(ONE)).find((s) => s.name === 'c')?.state, 'standby');
      assert.ok(!(await answers(h, HOST, 8)).includes('c'), 'a server added on standby takes no request');
      await h.edge.setWeights(ONE, [{ name: 'c', weight: 1 }, { name: 'a', weight: 0 }, { name: 'b', weight: 0 }]);
      assert.deepEqual(distinct(await answers(h, HOST, 4)), ['c'], 'one change moves all traffic');
      await h.edge.setWeights(ONE, [{ name: 'c', weight: 0 }]);
      assert.deepEqual(await h.request(HOST), { status: 503, server: null }, 'every server at weight 0');
    });

    test('drainServer of an idle server resolves at once; a drained server takes no new request until added again', async (t) => {
      const h = await fresh(t);
      await backend(h, ONE, HOST, ['a', 'b']);
      const result = await h.edge.drainServer(ONE, 'a', 5000);
      assert.equal(result.drained, true);
      assert.equal(result.remaining, 0);
      assert.ok(result.waitedMs >= 0 && result.waitedMs < 1000, `an idle server drains at once (${result.waitedMs} ms)`);
      assert.deepEqual(view(await h.edge.listServers(ONE)).map((s) => [s.name, s.state, s.weight]), [['a', 'drain', 1], ['b', 'ready', 1]], 'a drained server keeps its weight');
      assert.deepEqual(distinct(await answers(h, HOST, 6)), ['b']);
      await rejectsEdge(h.edge.setWeights(ONE, [{ name: 'a', weight: 1 }]), /drain/);
      await h.edge.addServer(ONE, { name: 'a', ...h.replicas.a });
      assert.equal((await h.edge.listServers(ONE)).find((s) => s.name === 'a')?.state, 'ready');
      assert.deepEqual(distinct(await answers(h, HOST, 6)), ['a', 'b']);
      assert.deepEqual(await h.edge.drainServer(ONE, 'nosuch', 1000), { drained: true, remaining: 0, waitedMs: 0 }, 'nothing to drain');
      assert.deepEqual(await h.edge.drainServer('be_nosuch', 'a', 1000), { drained: true, remaining: 0, waitedMs: 0 });
    });

    test('drainServer waits for a request in flight; one that times out says how many are left and cuts nothing', async (t) => {
      const h = await fresh(t);
      await backend(h, ONE, HOST, ['a', ['b', 0]]);
      const sentAt = Date.now();
      const slow = h.slowRequest(HOST, 800);
      await until('the slow request on a', async () => (await h.edge.listServers(ONE)).find((s) => s.name === 'a')?.activeSessions === 1);
      await h.edge.setWeights(ONE, [{ name: 'b', weight: 1 }]);
      const drainAt = Date.now();
      const drain = h.edge.drainServer(ONE, 'a', 5000);
      assert.deepEqual(distinct(await answers(h, HOST, 3)), ['b'], 'new requests avoid the draining server');
      const result = await drain;
      assert.deepEqual(await slow, { status: 200, server: 'a' });
      assert.equal(result.drained, true);
      assert.equal(result.remaining, 0);
      const least = 800 - (drainAt - sentAt) - 50;
      assert.ok(result.waitedMs >= least && result.waitedMs < 5000, `the drain waited for the request (${result.waitedMs} ms, at least ${least})`);

      await h.edge.addServer(ONE, { name: 'a', ...h.replicas.a });
      await h.edge.setWeights(ONE, [{ name: 'b', weight: 0 }]);
      const slow2 = h.slowRequest(HOST, 800);
      await until('the second slow request on a', async () => (await h.edge.listServers(ONE)).find((s) => s.name === 'a')?.activeSessions === 1);
      const timedOut = await h.edge.drainServer(ONE, 'a', 200);
      assert.equal(timedOut.drained, false);
      assert.equal(timedOut.remaining, 1);
      assert.ok(timedOut.waitedMs >= 200 && timedOut.waitedMs < 800, `the drain gave up at its timeout (${timedOut.waitedMs} ms)`);
      assert.deepEqual(await slow2, { status: 200, server: 'a' }, 'the request in flight was not cut');
      await until('no session left on a', async () => (await h.edge.listServers(ONE)).find((s) => s.name === 'a')?.activeSessions === 0);
    });

    test('listServersOf reads several backends at once, an absent one as []', async (t) => {
      const h = await fresh(t);
      await backend(h, ONE, HOST, ['a', ['b', 0]]);
      await backend(h, TWO, 'two.localhost', ['c']);
      await h.edge.drainServer(TWO, 'c', 0);
      const many = await h.edge.listServersOf([ONE, TWO, 'be_absent']);
      assert.deepEqual([...many.keys()].sort(), [ONE, TWO, 'be_absent'].sort());
      assert.deepEqual(view(many.get(ONE)!), view(await h.edge.listServers(ONE)));
      assert.deepEqual(view(many.get(TWO)!), [{ name: 'c', state: 'drain', weight: 1, activeSessions: 0 }]);
      assert.deepEqual(many.get('be_absent'), []);
      assert.deepEqual(await h.edge.listServers('be_absent'), []);
      assert.equal((await h.edge.listServersOf([])).size, 0);
    });

    test('removeBackend is a reload that unroutes its hosts; host changes are not; a missing backend is nothing to do', async (t) => {
      const h = await fresh(t);
      await backend(h, ONE, HOST, ['a']);
      await backend(h, TWO, 'two.localhost', ['b']);
      assert.equal((await h.edge.status()).reloads, 2);
      await h.edge.removeBackend(TWO);
      assert.equal((await h.edge.status()).reloads, 3);
      assert.deepEqual(await h.request('two.localhost'), { status: 404, server: null });
      assert.deepEqual(await h.edge.listBackends(), [{ name: ONE, hosts: [HOST] }]);
      assert.deepEqual(await h.edge.listRoutes(), [{ host: HOST, backend: ONE }]);
      assert.deepEqual(await h.edge.listServers(TWO), []);
      await h.edge.removeBackend(TWO);
      assert.equal((await h.edge.status()).reloads, 3, 'removing a missing backend does nothing');

      await h.edge.ensureBackend({ name: ONE, hosts: ['uno.localhost', HOST] });
      assert.equal((await h.edge.status()).reloads, 3, 'host changes apply at runtime');
      assert.deepEqual((await h.edge.listRoutes()).sort(byHost), [{ host: HOST, backend: ONE }, { host: 'uno.localhost', backend: ONE }]);
      assert.deepEqual(await h.request('uno.localhost'), { status: 200, server: 'a' });
      await h.edge.ensureBackend({ name: ONE, hosts: ['uno.localhost'] });
      assert.deepEqual(await h.request(HOST), { status: 404, server: null });
      assert.deepEqual(view(await h.edge.listServers(ONE)).map((s) => s.name), ['a'], 'servers stay through host changes and reloads');
    });

    test('removeRoute drops a stray host route, refuses a declared host; adoption puts the declared map back', async (t) => {
      const h = await fresh(t);
      await backend(h, ONE, HOST, ['a']);
      await h.addStrayRoute('stray.localhost', ONE);
      assert.deepEqual((await h.edge.listRoutes()).sort(byHost), [{ host: HOST, backend: ONE }, { host: 'stray.localhost', backend: ONE }]);
      assert.deepEqual(await h.request('stray.localhost'), { status: 200, server: 'a' }, 'the edge applies its runtime map');
      await rejectsEdge(h.edge.removeRoute(HOST), /declared by backend be_one/);
      await rejectsEdge(h.edge.removeRoute('not a host'));
      await h.edge.removeRoute('Stray.Localhost');
      assert.deepEqual(await h.edge.listRoutes(), [{ host: HOST, backend: ONE }]);
      assert.deepEqual(await h.request('stray.localhost'), { status: 404, server: null });
      await h.edge.removeRoute('stray.localhost');
      await h.addStrayRoute('stray.localhost', ONE);
      await h.edge.ensureRunning();
      assert.deepEqual(await h.edge.listRoutes(), [{ host: HOST, backend: ONE }], 'adopting the running edge syncs its map to the declared hosts');
    });

    test('bad input is refused with SLW_EDGE and changes nothing', async (t) => {
      const h = await fresh(t);
      await backend(h, ONE, HOST, ['a']);
      await rejectsEdge(h.edge.ensureBackend({ name: 'be one', hosts: ['x.localhost'] }));
      await rejectsEdge(h.edge.ensureBackend({ name: TWO, hosts: [HOST] }), /already routed to be_one/);
      await rejectsEdge(h.edge.ensureBackend({ name: TWO, hosts: ['bad_host!'] }));
      await rejectsEdge(h.edge.addServer('be_nosuch', { name: 'x', ...h.replicas.b }));
      await rejectsEdge(h.edge.addServer(ONE, { name: 'x', address: 'not-an-ip', port: 80 }));
      await rejectsEdge(h.edge.addServer(ONE, { name: 'bad name', ...h.replicas.b }));
      await rejectsEdge(h.edge.addServer(ONE, { name: 'x', ...h.replicas.b }, { weight: 300 }));
      assert.deepEqual(await h.edge.listBackends(), [{ name: ONE, hosts: [HOST] }]);
      assert.deepEqual(view(await h.edge.listServers(ONE)).map((s) => s.name), ['a']);
      assert.equal((await h.edge.status()).reloads, 1);
    });

    test('a reload (new backend) keeps every server with its state and weight', async (t) => {
      const h = await fresh(t);
      await backend(h, ONE, HOST, [['a', 3], ['b', 0], 'c']);
      await h.edge.drainServer(ONE, 'c', 0);
      await h.edge.ensureBackend({ name: TWO, hosts: ['two.localhost'] });
      assert.equal((await h.edge.status()).reloads, 2);
      const after = view(await h.edge.listServers(ONE));
      assert.deepEqual(after.map((s) => [s.name, s.state]), [['a', 'ready'], ['b', 'standby'], ['c', 'drain']]);
      assert.deepEqual(after.slice(0, 2).map((s) => s.weight), [3, 0]);
      assert.deepEqual(distinct(await answers(h, HOST, 4)), ['a']);
    });

    test('ensureRunning and start on a running edge change nothing', async (t) => {
      const h = await fresh(t);
      await backend(h, ONE, HOST, ['a', ['b', 0], 'c']);
      await backend(h, TWO, 'two.localhost', ['b']);
      await h.edge.drainServer(ONE, 'c', 0);
      const snapshot = async () => ({
        backends: await h.edge.listBackends(),
        routes: (await h.edge.listRoutes()).sort(byHost),
        one: view(await h.edge.listServers(ONE)),
        two: view(await h.edge.listServers(TWO)),
      });
      const before = { status: await h.edge.status(), state: await snapshot() };
      const again = await h.edge.ensureRunning();
      assert.equal(again.running, true);
      assert.equal(again.pid, before.status.pid, 'the same process');
      assert.equal(again.reloads, before.status.reloads, 'no reload');
      assert.deepEqual(await snapshot(), before.state);
      const adopted = await h.edge.start([{ backend: ONE, name: 'c', ...h.replicas.c, weight: 5 }]);
      assert.equal(adopted.started, false);
      assert.equal(adopted.servers, 0);
      assert.equal(adopted.pid, before.status.pid);
      assert.deepEqual(await snapshot(), before.state, 'a running edge is adopted, its servers untouched');
      assert.deepEqual(distinct(await answers(h, HOST, 4)), ['a']);
    });

    test('a dead edge is reported once to watchers; start(servers) brings it back with its backends and only those servers', async (t) => {
      const h = await fresh(t);
      await backend(h, ONE, HOST, ['a']);
      const reasons: string[] = [];
      h.edge.watch((reason) => reasons.push(reason));
      let stoppedCalled = false;
      h.edge.watch(() => (stoppedCalled = true)).stop();
      await sleep(100);
      assert.deepEqual(reasons, [], 'a running edge is not reported');
      await h.kill();
      await until('the watcher to hear of the death', async () => reasons.length > 0, 5000);
      assert.equal((await h.edge.status()).running, false);
      assert.deepEqual(await h.edge.listBackends(), [{ name: ONE, hosts: [HOST] }], 'the declared backends outlive the process');
      const res = await h.edge.start([
        { backend: ONE, name: 'b', ...h.replicas.b, weight: 1 },
        { backend: ONE, name: 'c', ...h.replicas.c, weight: 0 },
        { backend: 'be_gone', name: 'a', ...h.replicas.a, weight: 1 },
      ]);
      assert.equal(res.started, true);
      assert.equal(res.running, true);
      assert.equal(res.servers, 2, 'a server of an unknown backend is left out');
      assert.deepEqual(view(await h.edge.listServers(ONE)).map((s) => [s.name, s.state, s.weight]), [['b', 'ready', 1], ['c', 'standby', 0]], 'the runtime servers died with the process');
      assert.deepEqual(await h.edge.listRoutes(), [{ host: HOST, backend: ONE }]);
      assert.deepEqual(distinct(await answers(h, HOST, 4)), ['b']);
      await sleep(100);
      assert.equal(reasons.length, 1, 'reported once');
      assert.equal(stoppedCalled, false, 'a stopped watch is never called');
    });

    test('an edge serving HTTP only refuses certificates and lists none', async (t) => {
      const h = await fresh(t);
      const cert = { name: 'site', hosts: [HOST], certPem: 'x', keyPem: 'y', redirectByDefault: false };
      await rejectsEdge(h.edge.installCertificate(cert), /HTTP only/);
      assert.deepEqual(await h.edge.listCertificates(), []);
      await h.edge.removeCertificate('site');
      await rejectsEdge(h.edge.removeCertificate('Bad Name'));
    });
  });
}
