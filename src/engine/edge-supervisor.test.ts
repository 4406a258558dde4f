import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { EdgeServerSpec, EdgeStartResult } from '../core/ports/edge';
import type { NewOutboxEvent } from '../core/ports/store';
import type { EngineContext } from './engine-context';
import { EdgeSupervisor } from './edge-supervisor';

/** An edge that dies on demand: what the supervisor sees through the port (the real one: test/edge-watch.test.ts). */
function fakeEdge(opts: { failStarts?: number } = {}) {
  let onDown: ((reason: string) => void) | null = null;
  let failures = opts.failStarts ?? 0;
  let running = true;
  const starts: EdgeServerSpec[][] = [];
  const base = { running: true, pid: 1, version: '2.6', httpPort: 80, reloads: 0, httpsPort: null };
  const edge = {
    status: async () => ({ ...base, running }),
    ensureRunning: async () => base,
    start: async (servers: EdgeServerSpec[]): Promise<EdgeStartResult> => {
      starts.push(servers);
      if (failures-- > 0) throw new Error('cannot bind socket');
      running = true;
      return { ...base, pid: 100 + starts.length, started: true, servers: servers.length };
    },
    watch: (cb: (reason: string) => void) => {
      onDown = cb;
      return { stop: () => (onDown = null) };
    },
  };
  return {
    edge,
    starts,
    kill: (reason: string) => {
      running = false;
      const cb = onDown;
      onDown = null;
      cb?.(reason);
    },
    watched: () => onDown !== null,
  };
}

const servers: EdgeServerSpec[] = [
  { backend: 'be_shop_web_production', name: 'shop-web-v1-a', address: '10.0.0.2', port: 3000, weight: 1 },
  { backend: 'be_shop_web_production', name: 'shop-web-v1-b', address: '10.0.0.3', port: 3000, weight: 1 },
];

function setup(opts: { failStarts?: number } = {}) {
  const f = fakeEdge(opts);
  const events: NewOutboxEvent[] = [];
  const ctx = { edge: f.edge, store: { appendOutboxEvent: async (e: NewOutboxEvent) => void events.push(e) } } as unknown as EngineContext;
  const sup = new EdgeSupervisor(ctx, { logger: pino({ level: 'silent' }), desired: async () => servers, retryMs: 5, maxRetryMs: 20 });
  return { f, events, sup };
}

async function until(what: string, fn: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('a running edge is adopted at boot (no start) and watched', async () => {
  const { f, sup } = setup();
  const r = await sup.start();
  assert.equal(r.started, false);
  assert.equal(f.starts.length, 0);
  assert.ok(f.watched());
  await sup.stop();
  assert.ok(!f.watched(), 'stop ends the watch (and never stops the edge)');
});

test('a death: down() says so, the edge is started with the desired servers, an edge.restarted event, watched again', async () => {
  const { f, events, sup } = setup();
  await sup.start();
  f.kill('the master process (pid 1) exited');
  assert.equal(sup.down()?.reason, 'the master process (pid 1) exited');
  await until('the restart', () => sup.restarts === 1);
  assert.deepEqual(f.starts, [servers], 'started with the servers of the desired state');
  assert.equal(sup.down(), null);
  assert.ok(f.watched(), 'watching the new edge');
  await until('the event', () => events.length === 1);
  assert.equal(events[0]!.type, 'edge.restarted');
  assert.equal(events[0]!.project, null);
  assert.deepEqual({ ...events[0]!.payload, downMs: 0 }, { reason: 'the master process (pid 1) exited', downMs: 0, servers: 2, pid: 101, attempt: 1 });
  await sup.stop();
});

test('a restart that fails is retried with backoff until the edge runs', async () => {
  const { f, events, sup } = setup({ failStarts: 2 });
  await sup.start();
  f.kill('gone');
  await until('the restart', () => sup.restarts === 1);
  assert.equal(f.starts.length, 3);
  assert.equal(sup.down(), null);
  await until('the event', () => events.length === 1);
  assert.equal(events[0]!.payload.attempt, 3);
  await sup.stop();
});

test('the edge down at boot: started with the desired servers (no event: nothing was restarted)', async () => {
  const { f, events, sup } = setup();
  f.kill('before boot');
  const r = await sup.start();
  assert.equal(r.started, true);
  assert.deepEqual(f.starts, [servers]);
  assert.equal(events.length, 0);
  await sup.stop();
});
