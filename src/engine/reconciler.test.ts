import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import type { Deployment, Release, ServiceRef } from '../core/domain';
import type { Replica } from '../core/ports/runtime';
import type { EngineContext } from './engine-context';
import { BACKOFF_MIN_MS, HEALTHY_RESET_MS, nextRepairAt, Reconciler } from './reconciler';
import type { EdgeServer } from '../core/ports/edge';
import type { SickReplica } from './replica-health';

const release = (serviceId: number, replicas: number, schedule: string | null = null) =>
  ({ id: serviceId * 10, serviceId, environmentId: 1, number: 3, config: { type: schedule ? 'job' : 'web', replicas, schedule, port: 3000 } }) as unknown as Release;
const replica = (service: string, state: string, releaseNumber = 3) =>
  ({ name: `${service}-${Math.random()}`, state, exitCode: state === 'running' ? null : 137, labels: { project: 'shop', service, env: 'production', release: releaseNumber, deployment: 'd' } }) as unknown as Replica;

function world() {
  const w = {
    releases: [release(1, 2), release(2, 1), release(3, 1, '*/5 * * * *')],
    replicas: [] as Replica[],
    active: [] as Array<Pick<Deployment, 'serviceId' | 'state'>>,
    repairs: [] as ServiceRef[],
    sick: [] as SickReplica[][],
    servers: new Map<string, EdgeServer[]>(),
    events: [] as Array<{ type: string; payload: Record<string, unknown> }>,
    clock: 1_000_000,
  };
  const ctx = {
    store: {
      listProjects: async () => [{ id: 1, name: 'shop' }],
      listServices: async () => [{ id: 1, name: 'web' }, { id: 2, name: 'worker' }, { id: 3, name: 'nightly' }],
      listEnvironments: async () => [{ id: 1, name: 'production' }],
      listCurrentReleases: async () => w.releases,
      listRecentDeployments: async () => w.active,
      appendOutboxEvent: async (e: { type: string; payload: Record<string, unknown> }) => void w.events.push(e),
    },
    runtime: { listReplicasRecent: async () => w.replicas },
    edge: { listServersOf: async (backends: string[]) => new Map(backends.map((b) => [b, w.servers.get(b) ?? []])) },
  } as unknown as EngineContext;
  const engine = {
    repair: async (ref: ServiceRef, _by?: string, sick: SickReplica[] = []) => {
      w.repairs.push(ref);
      w.sick.push(sick);
      return { id: `r${w.repairs.length}` } as Deployment;
    },
  };
  const reconciler = new Reconciler(ctx, engine, { intervalMs: 1000, logger: pino({ level: 'silent' }), now: () => w.clock });
  return { w, reconciler };
}

test('healthy services are left alone; jobs are never repaired', async () => {
  const { w, reconciler } = world();
  w.replicas = [replica('web', 'running'), replica('web', 'running'), replica('worker', 'running')];
  const pass = await reconciler.pass();
  assert.deepEqual(w.repairs, []);
  assert.equal(pass.services, 2, 'the job is not counted');
  assert.equal(pass.repairsStarted, 0);
});

test('a dead replica or a missing one starts a repair of that service only', async () => {
  const { w, reconciler } = world();
  w.replicas = [replica('web', 'running'), replica('web', 'exited'), replica('worker', 'running')];
  assert.equal((await reconciler.pass()).repairsStarted, 1);
  assert.deepEqual(w.repairs, [{ project: 'shop', service: 'web', env: 'production' }]);
  const { w: w2, reconciler: r2 } = world();
  w2.replicas = [replica('web', 'running'), replica('web', 'running')]; // the worker's only replica is gone
  await r2.pass();
  assert.deepEqual(w2.repairs.map((r) => r.service), ['worker']);
});

test('a service with a deployment in progress is left to it', async () => {
  const { w, reconciler } = world();
  w.replicas = [replica('web', 'running'), replica('worker', 'running')];
  w.active = [{ serviceId: 1, state: 'rolling' }];
  await reconciler.pass();
  assert.equal(w.repairs.length, 0);
  w.active = [{ serviceId: 1, state: 'awaiting_approval' }];
  await reconciler.pass();
  assert.deepEqual(w.repairs.map((r) => r.service), ['web'], 'a deployment waiting for approval holds nothing');
});

test('repairs that do not last back off, doubling; a while healthy forgets it', async () => {
  const { w, reconciler } = world();
  w.replicas = [replica('web', 'running'), replica('worker', 'running')];
  await reconciler.pass();
  assert.equal(w.repairs.length, 1);
  w.clock += BACKOFF_MIN_MS - 1;
  await reconciler.pass();
  assert.equal(w.repairs.length, 1, 'not again within the first backoff');
  w.clock += 1;
  await reconciler.pass();
  assert.equal(w.repairs.length, 2);
  assert.equal(nextRepairAt(0, 2), 2 * BACKOFF_MIN_MS);
  w.clock += BACKOFF_MIN_MS;
  await reconciler.pass();
  assert.equal(w.repairs.length, 2, 'the second wait is twice as long');
  // Repaired and healthy past the reset: the next death is repaired at once.
  w.replicas = [replica('web', 'running'), replica('web', 'running'), replica('worker', 'running')];
  w.clock += HEALTHY_RESET_MS + 1;
  await reconciler.pass();
  w.replicas = [replica('web', 'running'), replica('worker', 'running')];
  await reconciler.pass();
  assert.equal(w.repairs.length, 3);
  assert.equal(nextRepairAt(0, 100), 600_000, 'capped');
});

test('a replica failing its edge checks past replace_after starts a repair that replaces it; a whole sick service backs off', async () => {
  const { w, reconciler } = world();
  const health = { path: '/health', intervalMs: 1000, timeoutMs: 2000, fall: 3, rise: 2, replaceAfterMs: 60_000, liveness: null };
  w.releases = [{ ...release(1, 2), config: { type: 'web', replicas: 2, schedule: null, port: 3000, health } } as unknown as Release];
  const [a, b] = [replica('web', 'running'), replica('web', 'running')];
  w.replicas = [a!, b!];
  const server = (name: string, health: 'up' | 'down', secs: number): EdgeServer => ({ name, address: '10.0.0.2', port: 3000, state: 'ready', weight: 1, activeSessions: 0, health, healthChangedSecondsAgo: secs });
  const backend = 'be_shop_web_production';
  w.servers.set(backend, [server(a!.name, 'down', 30), server(b!.name, 'up', 100)]);
  await reconciler.pass();
  assert.equal(w.repairs.length, 0, 'out of rotation for 30 s: the edge keeps it out, no replacement yet');
  assert.deepEqual(w.events.map((e) => [e.type, e.payload.replica]), [['replica.unhealthy', a!.name]]);
  await reconciler.pass();
  assert.equal(w.events.length, 1, 'reported once per episode');
  w.servers.set(backend, [server(a!.name, 'down', 61), server(b!.name, 'up', 100)]);
  await reconciler.pass();
  assert.equal(w.repairs.length, 1);
  assert.deepEqual(w.sick[0]!.map((s) => [s.name, s.cause]), [[a!.name, 'edge']]);
  // Both down for long (a dependency of the whole service is down): not replaced again and again.
  w.servers.set(backend, [server(a!.name, 'down', 120), server(b!.name, 'down', 120)]);
  w.clock += BACKOFF_MIN_MS - 1;
  await reconciler.pass();
  assert.equal(w.repairs.length, 1, 'within the backoff of the last repair');
  w.clock += 1;
  await reconciler.pass();
  assert.equal(w.repairs.length, 2);
  assert.equal(w.sick[1]!.length, 2);
  w.clock += BACKOFF_MIN_MS;
  await reconciler.pass();
  assert.equal(w.repairs.length, 2, 'the second wait is twice as long');
});
