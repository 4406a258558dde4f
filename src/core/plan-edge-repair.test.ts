import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeCorrection, planEdgeRepair, type DesiredEdge, type EdgeCorrection, type ObservedEdge } from './plan-edge-repair';
import type { EdgeServer } from './ports/edge';

const BE = 'be_shop_web_production';
const spec = { name: BE, hosts: ['shop.localhost'], https: { redirect: null, hsts: null } };
const want = (name: string, weight = 1, address = `10.0.0.${name.length}`) => ({ backend: BE, name, address, port: 3000, weight });
const server = (name: string, state: EdgeServer['state'] = 'ready', weight = state === 'standby' ? 0 : 1, address = `10.0.0.${name.length}`): EdgeServer => ({ name, address, port: 3000, state, weight, activeSessions: 0 });

function desired(servers: DesiredEdge['servers'], extra: Partial<DesiredEdge> = {}): DesiredEdge {
  return { backends: [spec], servers, inProgress: [], ...extra };
}
function observed(servers: EdgeServer[], extra: Partial<ObservedEdge> = {}): ObservedEdge {
  return { backends: [spec], servers: new Map([[BE, servers]]), routes: [{ host: 'shop.localhost', backend: BE }], ...extra };
}
const kinds = (cs: EdgeCorrection[]) => cs.map((c) => c.kind);

test('nothing to do when the edge equals the desired state', () => {
  assert.deepEqual(planEdgeRepair(desired([want('a'), want('bb')]), observed([server('a'), server('bb')])), []);
  assert.deepEqual(planEdgeRepair({ backends: [], servers: [], inProgress: [] }, { backends: [], servers: new Map(), routes: [] }), []);
  // A backend without https in the file is the default policy.
  assert.deepEqual(planEdgeRepair(desired([want('a')]), observed([server('a')], { backends: [{ name: BE, hosts: ['SHOP.localhost'] }] })), []);
});

test('a ready replica absent from the edge is added, at its desired weight', () => {
  const plan = planEdgeRepair(desired([want('a'), want('bb'), want('ccc', 0)]), observed([server('a')]));
  assert.deepEqual(plan, [
    { kind: 'add-server', backend: BE, server: want('bb') },
    { kind: 'add-server', backend: BE, server: want('ccc', 0) },
  ]);
  assert.match(describeCorrection(plan[1]!), /added on standby/);
});

test('a server whose container is gone is removed, after any addition', () => {
  const plan = planEdgeRepair(desired([want('a'), want('new')]), observed([server('a'), server('gone')], { running: new Set(['a', 'new']) }));
  assert.deepEqual(kinds(plan), ['add-server', 'remove-server']);
  assert.deepEqual(plan[1], { kind: 'remove-server', backend: BE, name: 'gone', state: 'ready', reason: 'no container' });
  assert.match(describeCorrection(plan[1]!), /no container behind it/);
  // A running container that is not a ready replica of a live release is named so.
  const other = planEdgeRepair(desired([want('a')]), observed([server('a'), server('old')], { running: new Set(['a', 'old']) }));
  assert.equal((other[0] as Extract<EdgeCorrection, { kind: 'remove-server' }>).reason, 'not a ready replica of a live release');
});

test('drain or maint left by an interrupted deployment: back in rotation if live and ready, removed otherwise', () => {
  const plan = planEdgeRepair(desired([want('a'), want('bb')]), observed([server('a', 'drain'), server('bb', 'maint'), server('ccc', 'drain')]));
  assert.deepEqual(plan, [
    { kind: 'resolve-server', backend: BE, server: want('a'), from: 'drain' },
    { kind: 'resolve-server', backend: BE, server: want('bb'), from: 'maint' },
    { kind: 'remove-server', backend: BE, name: 'ccc', state: 'drain', reason: 'not a ready replica of a live release' },
  ]);
  // A server at a stale address (a container restarted with a new IP) is readdressed the same way.
  const moved = planEdgeRepair(desired([want('a', 1, '10.0.0.9')]), observed([server('a')]));
  assert.deepEqual(kinds(moved), ['resolve-server']);
});

test('a backend or host route of nothing live is removed; its own routes go with it', () => {
  const orphan = { name: 'be_shop_old_production', hosts: ['old.localhost'] };
  const plan = planEdgeRepair(
    desired([want('a')]),
    observed([server('a')], {
      backends: [spec, orphan],
      servers: new Map([[BE, [server('a')]], [orphan.name, [server('x')]]]),
      routes: [{ host: 'shop.localhost', backend: BE }, { host: 'old.localhost', backend: orphan.name }, { host: 'bogus.localhost', backend: BE }],
    }),
  );
  assert.deepEqual(plan, [
    { kind: 'remove-route', host: 'bogus.localhost', backend: BE },
    { kind: 'remove-backend', backend: orphan.name },
  ]);
});

test('routes and hosts that differ from the live release are set again through the backend', () => {
  const missing = planEdgeRepair(desired([want('a')]), observed([server('a')], { routes: [] }));
  assert.deepEqual(missing, [{ kind: 'update-backend', backend: BE, spec, reason: 'route of shop.localhost missing' }]);
  const elsewhere = planEdgeRepair(desired([want('a')]), observed([server('a')], { routes: [{ host: 'shop.localhost', backend: 'be_x_y_z' }] }));
  assert.match((elsewhere[0] as Extract<EdgeCorrection, { kind: 'update-backend' }>).reason, /points to be_x_y_z/);
  const hosts = planEdgeRepair(
    desired([want('a')], { backends: [{ ...spec, hosts: ['shop.localhost', 'www.localhost'] }] }),
    observed([server('a')], { routes: [{ host: 'shop.localhost', backend: BE }, { host: 'www.localhost', backend: BE }] }),
  );
  assert.deepEqual(kinds(hosts), ['update-backend']);
  const https = planEdgeRepair(desired([want('a')], { backends: [{ ...spec, https: { redirect: true, hsts: null } }] }), observed([server('a')]));
  assert.match((https[0] as Extract<EdgeCorrection, { kind: 'update-backend' }>).reason, /HTTPS policy/);
  const check = { path: '/health', host: 'shop.localhost', intervalMs: 2000, timeoutMs: 1000, fall: 3, rise: 2 };
  assert.deepEqual(planEdgeRepair(desired([want('a')], { backends: [{ ...spec, check }] }), observed([server('a')], { backends: [{ ...spec, check: { ...check } }] })), []);
  const checks = planEdgeRepair(desired([want('a')], { backends: [{ ...spec, check }] }), observed([server('a')], { backends: [{ ...spec, check: { ...check, fall: 5 } }] }));
  assert.match((checks[0] as Extract<EdgeCorrection, { kind: 'update-backend' }>).reason, /health checks/);
});

test('a missing backend of a live service is declared before its servers are added', () => {
  const plan = planEdgeRepair(desired([want('a')]), { backends: [], servers: new Map(), routes: [] });
  assert.deepEqual(plan, [
    { kind: 'add-backend', backend: BE, spec },
    { kind: 'add-server', backend: BE, server: want('a') },
  ]);
});

test('a warm set on standby is desired at weight 0 and left untouched', () => {
  assert.deepEqual(planEdgeRepair(desired([want('a'), want('w1', 0), want('w2', 0)]), observed([server('a'), server('w1', 'standby'), server('w2', 'standby')])), []);
  // Put back in rotation behind Slipway's back: back to standby.
  const plan = planEdgeRepair(desired([want('a'), want('w1', 0)]), observed([server('a'), server('w1', 'ready', 1)]));
  assert.deepEqual(plan, [{ kind: 'set-weights', backend: BE, weights: [{ name: 'w1', weight: 0, from: 1 }] }]);
});

test("a canary's weights are the desired ones; differences are set in one change, raises first", () => {
  const split = [want('stable1', 9), want('stable2', 9), want('canary', 2)];
  assert.deepEqual(planEdgeRepair(desired(split), observed([server('stable1', 'ready', 9), server('stable2', 'ready', 9), server('canary', 'ready', 2)])), []);
  const plan = planEdgeRepair(desired(split), observed([server('stable1', 'ready', 1), server('stable2', 'ready', 9), server('canary', 'ready', 50)]));
  assert.deepEqual(plan, [{ kind: 'set-weights', backend: BE, weights: [{ name: 'stable1', weight: 9, from: 1 }, { name: 'canary', weight: 2, from: 50 }] }]);
});

test('backends with a deployment in progress are left alone entirely', () => {
  const plan = planEdgeRepair(
    { backends: [], servers: [], inProgress: [BE] },
    observed([server('a', 'drain'), server('gone')], { routes: [{ host: 'shop.localhost', backend: BE }, { host: 'new.localhost', backend: BE }] }),
  );
  assert.deepEqual(plan, []);
  // Even when the desired state names the backend (its live release), nothing is planned for it.
  assert.deepEqual(planEdgeRepair(desired([want('b')], { inProgress: [BE] }), observed([server('a', 'drain')])), []);
});

test('a server the edge health checks marked down keeps its place', () => {
  const down = { ...server('a'), health: 'down' } as EdgeServer;
  assert.deepEqual(planEdgeRepair(desired([want('a')]), observed([down])), []);
});

test("a stopped service's page: put back when the edge lost it, taken off a service that runs, equal states leave it", () => {
  const stopped = { ...spec, stopped: { service: 'web' } };
  assert.deepEqual(planEdgeRepair({ backends: [stopped], servers: [], inProgress: [] }, observed([], { backends: [stopped] })), [], 'stopped and no server: nothing to do');
  const lost = planEdgeRepair({ backends: [stopped], servers: [], inProgress: [] }, observed([]));
  assert.deepEqual(lost, [{ kind: 'update-backend', backend: BE, spec: stopped, reason: 'stopped page missing' }]);
  assert.match(describeCorrection(lost[0]!), /stopped page missing/);
  const kept = planEdgeRepair(desired([want('a')]), observed([server('a')], { backends: [stopped] }));
  assert.deepEqual(kept, [{ kind: 'update-backend', backend: BE, spec, reason: 'stopped page of a service that runs' }]);
  // A deployment in progress (a start) owns its backend: the page it keeps until its replicas serve is left alone.
  assert.deepEqual(planEdgeRepair(desired([], { inProgress: [BE] }), observed([], { backends: [stopped] })), []);
});
