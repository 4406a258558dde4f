import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import type { Release } from '../core/domain';
import type { EdgeBackendSpec, EdgeServer } from '../core/ports/edge';
import type { NewOutboxEvent } from '../core/ports/store';
import type { Replica } from '../core/ports/runtime';
import { repairEdge } from './edge-repair';
import { SERVICE_DEFAULTS } from '../core/stored-service-config';
import type { EngineContext } from './engine-context';

const BE = 'be_shop_web_production';
const live = {
  id: 30,
  serviceId: 1,
  environmentId: 1,
  number: 3,
  config: { ...SERVICE_DEFAULTS, replicas: 2, port: 3000, domains: ['shop.localhost'], health: { ...SERVICE_DEFAULTS.health, path: '/health', timeoutMs: 1000, intervalMs: 1000, successes: 1 } },
} as unknown as Release;
const replica = (name: string, address: string) =>
  ({ id: name, name, state: 'running', address, port: 3000, labels: { project: 'shop', service: 'web', env: 'production', release: 3, deployment: 'd1' } }) as Replica;
const server = (name: string, address: string, state: EdgeServer['state'] = 'ready'): EdgeServer => ({ name, address, port: 3000, state, weight: state === 'standby' ? 0 : 1, activeSessions: 0 });

function world() {
  const w = {
    backends: [] as EdgeBackendSpec[],
    servers: [] as EdgeServer[],
    routes: [] as Array<{ host: string; backend: string }>,
    replicas: [replica('a', '10.0.0.1'), replica('b', '10.0.0.2')],
    lease: null as { holder: string; expiresAt: string } | null,
    /** What listRecentDeployments answers, call after call (the last one repeats). */
    deployments: [[]] as Array<Array<{ id: string; serviceId: number; state: string }>>,
    calls: [] as string[],
    events: [] as NewOutboxEvent[],
    probes: 0,
  };
  const ctx = {
    store: {
      listProjects: async () => [{ id: 1, name: 'shop' }],
      listServices: async () => [{ id: 1, name: 'web' }],
      listEnvironments: async () => [{ id: 1, name: 'production' }],
      listCurrentReleases: async () => [live],
      listRecentDeployments: async () => (w.deployments.length > 1 ? w.deployments.shift()! : w.deployments[0]!),
      getSettings: async () => new Map(),
      getLease: async () => w.lease,
      appendOutboxEvent: async (e: NewOutboxEvent) => void w.events.push(e),
    },
    runtime: { listReplicasRecent: async () => w.replicas },
    probe: async () => {
      w.probes++;
      return { ok: true, status: 200, error: null, durationMs: 1 };
    },
    edge: {
      listBackends: async () => w.backends,
      listServersOf: async (names: string[]) => new Map(names.map((n) => [n, n === BE ? w.servers : []])),
      listRoutes: async () => w.routes,
      ensureBackend: async (spec: EdgeBackendSpec) => void w.calls.push(`ensureBackend ${spec.name}`),
      addServer: async (backend: string, s: { name: string }, o: { weight?: number }) => void w.calls.push(`addServer ${backend}/${s.name} ${o.weight}`),
      removeServer: async (backend: string, name: string) => void w.calls.push(`removeServer ${backend}/${name}`),
      removeRoute: async (host: string) => void w.calls.push(`removeRoute ${host}`),
      removeBackend: async (name: string) => void w.calls.push(`removeBackend ${name}`),
      setWeights: async (backend: string) => void w.calls.push(`setWeights ${backend}`),
    },
  } as unknown as EngineContext;
  const healthy = () => {
    w.backends = [{ name: BE, hosts: ['shop.localhost'], https: { redirect: null, hsts: null }, check: { path: '/health', host: 'shop.localhost', intervalMs: 1000, timeoutMs: 1000, fall: 3, rise: 2 } }];
    w.servers = [server('a', '10.0.0.1'), server('b', '10.0.0.2')];
    w.routes = [{ host: 'shop.localhost', backend: BE }];
  };
  return { w, ctx, healthy };
}
const logger = pino({ level: 'silent' });

test('an edge equal to the desired state: nothing applied, no probe, no event', async () => {
  const { w, ctx, healthy } = world();
  healthy();
  const r = await repairEdge(ctx, logger);
  assert.deepEqual(w.calls, [], JSON.stringify(w.calls));
  assert.equal(w.probes, 0);
  assert.deepEqual(r, { corrected: 0, failed: 0 });
  assert.equal(w.events.length, 0);
});

test('each correction is applied through the Edge port with one edge.corrected event', async () => {
  const { w, ctx, healthy } = world();
  healthy();
  w.servers = [server('a', '10.0.0.1', 'drain'), server('ghost', '10.0.0.9')];
  w.routes.push({ host: 'bogus.localhost', backend: BE });
  const r = await repairEdge(ctx, logger);
  assert.deepEqual(w.calls, [`removeRoute bogus.localhost`, `addServer ${BE}/a 1`, `addServer ${BE}/b 1`, `removeServer ${BE}/ghost`]);
  assert.equal(w.probes, 2, 'the drained and the absent replica were probed before being admitted');
  assert.deepEqual(r, { corrected: 4, failed: 0 });
  assert.deepEqual(w.events.map((e) => [e.type, e.project, e.payload.correction]), [
    ['edge.corrected', 'shop', 'remove-route'],
    ['edge.corrected', 'shop', 'resolve-server'],
    ['edge.corrected', 'shop', 'add-server'],
    ['edge.corrected', 'shop', 'remove-server'],
  ]);
  assert.match(String(w.events[3]!.payload.summary), /ghost \(ready\) has no container behind it: removed/);
});

test('a backend whose service holds its deployment lease is left alone', async () => {
  const { w, ctx, healthy } = world();
  healthy();
  w.servers = [];
  w.lease = { holder: 'd-new', expiresAt: new Date(Date.now() + 30_000).toISOString() };
  assert.deepEqual(await repairEdge(ctx, logger), { corrected: 0, failed: 0 });
  assert.deepEqual(w.calls, []);
});

test('a deployment that started and ended since the desired state was read: the stale plan is not applied', async () => {
  const { w, ctx, healthy } = world();
  healthy();
  w.servers = [];
  w.deployments = [[{ id: 'd1', serviceId: 1, state: 'succeeded' }], [{ id: 'd2', serviceId: 1, state: 'succeeded' }]];
  assert.deepEqual(await repairEdge(ctx, logger), { corrected: 0, failed: 0 });
  assert.deepEqual(w.calls, []);
  // The next pass reads a consistent state and corrects.
  assert.deepEqual(await repairEdge(ctx, logger), { corrected: 2, failed: 0 });
});
