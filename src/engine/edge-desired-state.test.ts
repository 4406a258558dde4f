import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CanaryState } from '../core/canary-state';
import type { Deployment, Release } from '../core/domain';
import type { EdgeServer } from '../core/ports/edge';
import type { Replica } from '../core/ports/runtime';
import type { WarmSet } from '../core/warm-set';
import { desiredEdgeState, serverWeights } from './edge-desired-state';
import { SERVICE_DEFAULTS } from '../core/stored-service-config';
import type { EngineContext } from './engine-context';

const release = (number: number, extra: Record<string, unknown> = {}) =>
  ({
    id: number * 10,
    serviceId: 1,
    environmentId: 1,
    number,
    config: { ...SERVICE_DEFAULTS, replicas: 2, port: 3000, domains: ['shop.localhost'], health: { ...SERVICE_DEFAULTS.health, path: '/health', timeoutMs: 1000, intervalMs: 1000 }, ...extra },
  }) as unknown as Release;
const replica = (name: string, rel: number, extra: Partial<Replica> = {}) =>
  ({ id: name, name, state: 'running', address: `10.0.0.${rel}`, port: 3000, labels: { project: 'shop', service: 'web', env: 'production', release: rel, deployment: `d${rel}` }, ...extra }) as Replica;
const warm = (rel: number, deploymentId = 'd-old'): WarmSet => ({ release: rel, deploymentId, since: '2026-01-01T00:00:00Z', retireAt: '2026-01-01T00:05:00Z' });
const none = { live: null, warm: null, canary: null, canaryRelease: null, deployment: null, target: null };
const weights = (m: Map<string, { weight: number }>) => Object.fromEntries([...m].map(([k, v]) => [k, v.weight]));

test('live replicas in rotation, a warm set on standby (even past its window: the retirer owns it), others not at all', () => {
  const rs = [replica('a', 3), replica('b', 3), replica('w', 2), replica('old', 1)];
  assert.deepEqual(weights(serverWeights({ ...none, live: release(3), warm: warm(2) }, rs)), { a: 1, b: 1, w: 0 });
});

test('a warm set that is the live release again (rolled back to) is in rotation', () => {
  assert.deepEqual(weights(serverWeights({ ...none, live: release(2), warm: warm(2) }, [replica('w', 2)])), { w: 1 });
});

test('a blue-green deployment in progress: its set on standby until the flip, then the previous set is warm', () => {
  const d = { id: 'd4', state: 'rolling' } as Deployment;
  const target = release(4, { deploy: { strategy: 'blue-green' } });
  const rs = [replica('live', 3), { ...replica('new', 4), labels: { ...replica('new', 4).labels, deployment: 'd4' } }];
  assert.deepEqual(weights(serverWeights({ ...none, live: release(3), deployment: d, target }, rs)), { live: 1, new: 0 });
  assert.deepEqual(weights(serverWeights({ ...none, live: release(3), deployment: d, target, warm: warm(3, 'd4') }, rs)), { live: 0, new: 1 });
  // A rolling deployment's admitted replicas take traffic beside the live ones.
  assert.deepEqual(weights(serverWeights({ ...none, live: release(3), deployment: d, target: release(4) }, rs)), { live: 1, new: 1 });
});

test("an active canary's weights come from its step (the same split canary.ts applied)", () => {
  const canary = { release: 4, stableRelease: 3, phase: 'stepping', step: 1, canaryReplicas: ['c'], stableReplicas: ['s1', 's2'] } as unknown as CanaryState;
  const canaryRelease = release(4, { deploy: { strategy: 'canary', steps: [{ weight: 10, pauseMs: 1000 }, { weight: 50, pauseMs: 1000 }] } });
  const rs = [replica('s1', 3), replica('s2', 3), replica('c', 4)];
  // 10 % to one canary against two stable: weights 2 : 9 per server (2 / (2 + 18) = 10 %).
  assert.deepEqual(weights(serverWeights({ ...none, live: release(3), canary, canaryRelease }, rs)), { s1: 9, s2: 9, c: 2 });
  assert.deepEqual(weights(serverWeights({ ...none, live: release(3), canary: { ...canary, phase: 'starting', step: 0 }, canaryRelease }, rs)), { s1: 1, s2: 1, c: 0 });
  assert.deepEqual(weights(serverWeights({ ...none, live: release(3), canary: { ...canary, phase: 'flipped' }, canaryRelease }, rs)), { s1: 0, s2: 0, c: 1 });
});

function ctxWith(replicas: Replica[], probeOk: (url: string) => boolean, deployments: Array<Partial<Deployment>> = []) {
  const probed: string[] = [];
  const ctx = {
    store: {
      listProjects: async () => [{ id: 1, name: 'shop' }],
      listServices: async () => [{ id: 1, name: 'web' }, { id: 2, name: 'worker' }],
      listEnvironments: async () => [{ id: 1, name: 'production' }],
      listCurrentReleases: async () => [release(3), { ...release(1), serviceId: 2, config: { ...release(1).config, port: null } }],
      listRecentDeployments: async () => deployments,
      getSettings: async () => new Map(),
      getSetting: async () => null,
    },
    runtime: { listReplicas: async () => replicas, listReplicasRecent: async () => replicas },
    probe: async (url: string) => {
      probed.push(url);
      return { ok: probeOk(url), status: probeOk(url) ? 200 : 503, error: null, durationMs: 1 };
    },
  } as unknown as EngineContext;
  return { ctx, probed };
}

test('desired state: live web backends with their servers; only candidates not in rotation are probed; failing ones left out', async () => {
  const rs = [replica('a', 3), replica('b', 3, { address: '10.0.0.99' }), replica('dead', 3, { state: 'exited', address: null }), { ...replica('wk', 1), labels: { ...replica('wk', 1).labels, service: 'worker' } }];
  const { ctx, probed } = ctxWith(rs, (url) => !url.includes('10.0.0.99'));
  const all = await desiredEdgeState(ctx);
  assert.deepEqual(all.backends.map((b) => [b.name, b.hosts]), [['be_shop_web_production', ['shop.localhost']]], 'the worker has no backend');
  assert.deepEqual(all.servers, [{ backend: 'be_shop_web_production', name: 'a', address: '10.0.0.3', port: 3000, weight: 1 }]);
  assert.deepEqual(probed.sort(), ['http://10.0.0.3:3000/health', 'http://10.0.0.99:3000/health']);
  assert.equal(all.owners.get('be_shop_web_production')?.leaseKey, 'deploy:1:1');

  const inEdge: EdgeServer = { name: 'a', address: '10.0.0.3', port: 3000, state: 'ready', weight: 1, activeSessions: 0 };
  const cheap = ctxWith(rs, () => true);
  const pass = await desiredEdgeState(cheap.ctx, { observed: new Map([['be_shop_web_production', [inEdge]]]), recentReplicas: true });
  assert.deepEqual(cheap.probed, ['http://10.0.0.99:3000/health'], 'the replica already in rotation is not probed');
  assert.deepEqual(pass.servers.map((s) => s.name), ['a', 'b']);
});

test('desired state: a service with a deployment in progress is named so', async () => {
  const { ctx } = ctxWith([replica('a', 3)], () => true, [{ id: 'd9', serviceId: 1, state: 'rolling', releaseId: null }]);
  assert.deepEqual((await desiredEdgeState(ctx)).inProgress, ['be_shop_web_production']);
});

test('desired state: a tcp service is re-admitted on a TCP connect (its HTTP path is never probed), an exec one by its command', async () => {
  const tcpRelease = release(3, { health: { path: '/health', timeoutMs: 1000, intervalMs: 1000, kind: 'tcp' } });
  const rs = [replica('a', 3), replica('b', 3, { address: '10.0.0.99' })];
  const { ctx, probed } = ctxWith(rs, () => true);
  const connects: string[] = [];
  Object.assign(ctx, { tcpProbe: async (host: string, port: number) => (connects.push(`${host}:${port}`), { ok: host !== '10.0.0.99', status: null, error: host === '10.0.0.99' ? 'ECONNREFUSED' : null, durationMs: 1 }) });
  Object.assign(ctx.store, { listCurrentReleases: async () => [tcpRelease] });
  assert.deepEqual((await desiredEdgeState(ctx)).servers.map((s) => s.name), ['a']);
  assert.deepEqual(probed, []);
  assert.deepEqual(connects.sort(), ['10.0.0.3:3000', '10.0.0.99:3000']);

  const execRelease = release(3, { health: { path: '/health', timeoutMs: 1000, intervalMs: 1000, kind: 'exec', command: ['check'] } });
  const ran: string[] = [];
  Object.assign(ctx.store, { listCurrentReleases: async () => [execRelease] });
  Object.assign(ctx.runtime, { exec: async (id: string) => (ran.push(id), { exitCode: id === 'a' ? 0 : 1, timedOut: false, output: '' }) });
  assert.deepEqual((await desiredEdgeState(ctx)).servers.map((s) => s.name), ['a']);
  assert.deepEqual(ran.sort(), ['a', 'b']);
});
