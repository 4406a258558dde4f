import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import type { Release } from '../core/domain';
import type { EdgeServer, EdgeServerState } from '../core/ports/edge';
import type { ProbeResult } from '../core/ports/probe';
import type { Replica } from '../core/ports/runtime';
import { ReplicaHealthMonitor, replicasToReplace } from './replica-health';
import type { EngineContext } from './engine-context';

const health = { path: '/health', intervalMs: 1000, timeoutMs: 2000, graceMs: 0, successes: 2, deadlineMs: 60_000, fall: 3, rise: 2, replaceAfterMs: 60_000, liveness: null as string | null };
const release = (h: Partial<typeof health> = {}, port: number | null = 3000) => ({ number: 4, config: { port, health: { ...health, ...h } } }) as unknown as Release;
const replica = (name: string, state = 'running', rel = 4) => ({ name, state, address: '10.0.0.9', port: 3000, labels: { release: rel } }) as unknown as Replica;
const server = (name: string, health: EdgeServer['health'], secs: number, state: EdgeServerState = 'ready'): EdgeServer => ({ name, address: '10.0.0.9', port: 3000, state, weight: 1, activeSessions: 0, health, healthChangedSecondsAgo: secs });

test('replace decision: out of rotation at the edge for replace_after, counted from the edge\'s own last change', () => {
  const replicas = [replica('a'), replica('b'), replica('c'), replica('d', 'running', 3), replica('e', 'exited')];
  const servers = [server('a', 'down', 60), server('b', 'down', 59), server('c', 'up', 600), server('d', 'down', 600), server('e', 'down', 600)];
  const got = replicasToReplace({ release: release(), replicas, servers });
  assert.deepEqual(got.map((s) => [s.name, s.cause]), [['a', 'edge']], 'b not yet; c healthy; d of another release; e dead (a plain repair)');
  assert.match(got[0]!.reason, /failing its edge health checks on \/health for 60 s/);
  assert.deepEqual(replicasToReplace({ release: release({ replaceAfterMs: 5000 }), replicas, servers }).map((s) => s.name), ['a', 'b']);
  // Drained or in maintenance: on its way out, not replaced; unchecked: nothing known.
  assert.deepEqual(replicasToReplace({ release: release(), replicas, servers: [server('a', 'down', 600, 'drain'), server('b', 'down', 600, 'maint'), server('c', 'unchecked', 600)] }), []);
});

test('replace decision: liveness failing fall times in a row, only when configured and for services with a port', () => {
  const replicas = [replica('a'), replica('b')];
  const failures = new Map([['a', 3], ['b', 2]]);
  assert.deepEqual(replicasToReplace({ release: release(), replicas, servers: [], livenessFailures: failures }), [], 'no liveness path configured');
  const got = replicasToReplace({ release: release({ liveness: '/live' }), replicas, servers: [], livenessFailures: failures });
  assert.deepEqual(got.map((s) => [s.name, s.cause]), [['a', 'liveness']]);
  assert.match(got[0]!.reason, /failing its liveness probe on \/live \(3 times in a row\)/);
  assert.deepEqual(replicasToReplace({ release: release({ liveness: '/live' }, null), replicas, servers: [], livenessFailures: failures }), [], 'a worker has no address to probe');
});

test('monitor: probes the liveness path of each live replica, counts failures in a row, reports once per episode', async () => {
  let answer: ProbeResult = { ok: false, status: 500, error: null, durationMs: 1 };
  const urls: string[] = [];
  const events: Array<{ type: string; payload: Record<string, unknown> }> = [];
  const ctx = {
    probe: async (url: string) => (urls.push(url), answer),
    store: { appendOutboxEvent: async (e: { type: string; payload: Record<string, unknown> }) => void events.push(e) },
    logger: pino({ level: 'silent' }),
  } as unknown as Pick<EngineContext, 'probe' | 'store' | 'logger'>;
  const m = new ReplicaHealthMonitor(ctx);
  const ref = { project: 'p', service: 'web', env: 'production' };
  const rel = release({ liveness: '/live' });
  assert.deepEqual(await m.check(ref, rel, [replica('a')], []), []);
  assert.deepEqual(urls, ['http://10.0.0.9:3000/live']);
  assert.deepEqual(await m.check(ref, rel, [replica('a')], []), []);
  assert.deepEqual((await m.check(ref, rel, [replica('a')], [])).map((s) => s.name), ['a'], 'third failure in a row (fall 3)');
  assert.deepEqual(events.map((e) => [e.type, e.payload.replica]), [['replica.unhealthy', 'a']]);
  answer = { ok: true, status: 200, error: null, durationMs: 1 };
  assert.deepEqual(await m.check(ref, rel, [replica('a')], []), [], 'a success resets the count');
  answer = { ok: false, status: null, error: 'timeout', durationMs: 2000 };
  await m.check(ref, rel, [replica('a')], []);
  assert.equal(events.length, 2, 'a new episode is reported again');
});
