import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { DiskReading, HostProbe, HostReading } from '../core/ports/host-probe';
import type { Replica, ReplicaStats, Runtime } from '../core/ports/runtime';
import type { Store } from '../core/ports/store';
import type { SlotRestartCount } from '../core/replica-restarts';
import { MINUTE_MS, type HostSample, type ReplicaSample } from '../core/resource-stats';
import { ResourceSampler } from './resource-sampler';

/** The Store methods the sampler calls, recorded (the store contract covers what the store does with them). */
class RecordingStore {
  rounds: Array<{ replicas: ReplicaSample[]; hosts: HostSample[] }> = [];
  compactions: Array<{ rollupBefore: number; deleteBefore: number }> = [];
  restartCounts: Array<SlotRestartCount & { project: string; env: string }> = [];
  restartsSince: number[] = [];
  prunedBefore: number[] = [];
  async allRestartCounts(since: number) {
    this.restartsSince.push(since);
    return this.restartCounts;
  }
  async pruneReplicaRestarts(before: number) {
    this.prunedBefore.push(before);
    return 0;
  }
  async addResourceSamples(replicas: ReplicaSample[], hosts: HostSample[]): Promise<void> {
    this.rounds.push({ replicas, hosts });
  }
  async compactResourceSamples(c: { rollupBefore: number; deleteBefore: number }) {
    this.compactions.push(c);
    return { averaged: 0, deleted: 0 };
  }
  latest(name: string): ReplicaSample | undefined {
    return this.rounds.at(-1)?.replicas.find((r) => r.replica === name);
  }
  latestHost(): HostSample | undefined {
    return this.rounds.at(-1)?.hosts[0];
  }
}

const replica = (name: string, slot?: number, restartCount = 0): Replica => ({
  id: `id-${name}`,
  server: 'local',
  name,
  labels: { project: 'shop', service: 'web', env: 'production', release: 3, deployment: 'd', ...(slot !== undefined ? { slot } : {}) },
  state: 'running',
  address: '10.0.0.2',
  port: 3000,
  image: 'sha256:x',
  startedAt: '2026-01-01T00:00:00.000Z',
  exitCode: null,
  health: 'none',
  restartCount,
});

/** A Runtime whose replica list and per-container counters the test sets; everything else is unused here. */
class FakeRuntime {
  replicas: Replica[] = [];
  usage = new Map<string, number>();
  systemNs = 1e12;
  listError: Error | null = null;
  failing = new Set<string>();
  inFlight = 0;
  peak = 0;

  async listReplicasRecent(): Promise<Replica[]> {
    if (this.listError) throw this.listError;
    return [...this.replicas, { ...replica('stopped'), state: 'exited' }];
  }

  async replicaStats(id: string): Promise<ReplicaStats | null> {
    this.peak = Math.max(this.peak, ++this.inFlight);
    await new Promise((r) => setTimeout(r, 5));
    this.inFlight--;
    if (this.failing.has(id)) throw new Error(`stats of ${id} timed out`);
    return { at: 0, cpu: { usageNs: this.usage.get(id) ?? 0, systemNs: this.systemNs, onlineCpus: 2 }, memoryUsedBytes: 64 * 1024 ** 2, memoryLimitBytes: 512 * 1024 ** 2 };
  }
}

class FakeHost implements HostProbe {
  busy = 100;
  total = 1000;
  error: Error | null = null;
  async read(): Promise<HostReading> {
    if (this.error) throw this.error;
    return {
      at: clock.now,
      cpu: { busy: this.busy, total: this.total },
      cpus: 2,
      memoryTotalBytes: 4e9,
      memoryAvailableBytes: 3e9,
      disk: { path: '/var/lib/slipway', usedBytes: 20e9, totalBytes: 100e9, availableBytes: 75e9 },
    };
  }
  async disk(path: string): Promise<DiskReading> {
    return { path, totalBytes: 100e9, availableBytes: 75e9 };
  }
}

const clock = { now: Date.UTC(2026, 0, 1, 12, 0, 0) };

function logger() {
  const lines: Array<{ level: number; msg: string }> = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as { level: number; msg: string }) });
  return { log, lines };
}

function setup(o: { concurrency?: number } = {}) {
  const store = new RecordingStore();
  const runtime = new FakeRuntime();
  const host = new FakeHost();
  const { log, lines } = logger();
  const sampler = new ResourceSampler({ runtime: runtime as unknown as Runtime, host, store: store as unknown as Store, logger: log, intervalMs: 5000, concurrency: o.concurrency ?? 4, now: () => clock.now });
  return { store, runtime, host, sampler, lines };
}

test('CPU % compares consecutive readings of each container; memory, limit, restarts and the host are recorded', async () => {
  const { store, runtime, host, sampler } = setup();
  // Restarts are the repairs of the replica's slot of its release (24 h); Docker's RestartCount (5) is never used.
  runtime.replicas = [replica('a', 0), replica('b', 1, 5), replica('legacy', undefined, 5)];
  runtime.usage.set('id-legacy', 0);
  store.restartCounts = [
    { project: 'shop', env: 'production', service: 'web', release: 3, slot: 1, count: 2, lastAt: clock.now },
    { project: 'shop', env: 'production', service: 'web', release: 2, slot: 0, count: 7, lastAt: clock.now },
    { project: 'shop', env: 'staging', service: 'web', release: 3, slot: 0, count: 9, lastAt: clock.now },
  ];
  runtime.usage.set('id-a', 1e9).set('id-b', 0);
  const first = await sampler.sampleOnce();
  assert.deepEqual({ ...first, durationMs: 0 }, { at: clock.now, durationMs: 0, replicas: 3, failed: 0, host: true, runtimeError: null });
  assert.deepEqual(store.restartsSince, [clock.now - 24 * 60 * MINUTE_MS], 'one read of the restarts a round, over 24 h');
  assert.deepEqual([store.latest('a')?.cpuPercent, store.latest('b')?.cpuPercent], [null, null], 'the first reading has no CPU figure');
  assert.equal(store.latestHost()?.cpuPercent, null);

  // 5 s later: the host had 2 CPUs × 5 s = 10 s of CPU time; a used 2.5 s (50 % of a core), b used 10 s (both cores).
  clock.now += 5000;
  runtime.systemNs += 10e9;
  runtime.usage.set('id-a', 1e9 + 2.5e9).set('id-b', 10e9);
  host.busy += 30;
  host.total += 200;
  await sampler.sampleOnce();
  const [a, b] = [store.latest('a'), store.latest('b')];
  assert.deepEqual(a, {
    replica: 'a', project: 'shop', service: 'web', env: 'production', release: 3, at: clock.now, spanMs: 5000,
    cpuPercent: 50, memoryUsedBytes: 64 * 1024 ** 2, memoryLimitBytes: 512 * 1024 ** 2, restarts: 0,
  });
  assert.equal(b?.cpuPercent, 200);
  assert.equal(b?.restarts, 2);
  assert.equal(store.latest('legacy')?.restarts, 0, 'a replica without a slot (started before slots) has none');
  assert.deepEqual(store.latestHost(), {
    server: 'local', at: clock.now, spanMs: 5000, cpuPercent: 15, cpus: 2,
    memoryUsedBytes: 1e9, memoryTotalBytes: 4e9, diskUsedBytes: 20e9, diskTotalBytes: 100e9, diskAvailableBytes: 75e9,
  });
  assert.equal(store.latest('stopped'), undefined, 'only running replicas are sampled');
});

test('stats calls are bounded; a replica that fails is skipped for the round, the others are recorded', async () => {
  const { store, runtime, sampler } = setup({ concurrency: 3 });
  runtime.replicas = Array.from({ length: 10 }, (_, i) => replica(`r${i}`));
  runtime.failing.add('id-r4');
  const round = await sampler.sampleOnce();
  assert.equal(runtime.peak, 3);
  assert.deepEqual([round.replicas, round.failed], [9, 1]);
  assert.equal(store.rounds[0]?.replicas.length, 9);
  assert.equal(store.latest('r4'), undefined);
});

test('with the runtime down the host is still sampled, and the outage is logged once', async () => {
  const { store, runtime, sampler, lines } = setup();
  runtime.replicas = [replica('a')];
  runtime.listError = new Error('connect ENOENT /var/run/docker.sock');
  const r1 = await sampler.sampleOnce();
  clock.now += 5000;
  await sampler.sampleOnce();
  assert.equal(r1.runtimeError, 'connect ENOENT /var/run/docker.sock');
  assert.equal(r1.host, true);
  assert.deepEqual(store.rounds.map((r) => [r.replicas.length, r.hosts.length]), [[0, 1], [0, 1]]);
  assert.equal(lines.filter((l) => /cannot list replicas/.test(l.msg)).length, 1);
  runtime.listError = null;
  clock.now += 5000;
  assert.equal((await sampler.sampleOnce()).replicas, 1);
  assert.equal(lines.filter((l) => /answers again/.test(l.msg)).length, 1);
});

test('a hung runtime costs a round no more than the stats timeout; the host is still sampled', async () => {
  const store = new RecordingStore();
  const runtime = new FakeRuntime();
  runtime.listReplicasRecent = () => new Promise(() => undefined);
  const sampler = new ResourceSampler({ runtime: runtime as unknown as Runtime, host: new FakeHost(), store: store as unknown as Store, logger: pino({ level: 'silent' }), intervalMs: 5000, concurrency: 2, statsTimeoutMs: 100, now: () => clock.now });
  const started = Date.now();
  const r = await sampler.sampleOnce();
  assert.ok(Date.now() - started < 1000, `round took ${Date.now() - started} ms`);
  assert.equal(r.runtimeError, 'listing replicas: no answer within 100 ms');
  assert.deepEqual(store.rounds.map((x) => [x.replicas.length, x.hosts.length]), [[0, 1]]);
});

test('a host that cannot be read does not stop replica sampling', async () => {
  const { store, runtime, host, sampler } = setup();
  runtime.replicas = [replica('a')];
  host.error = new Error('EACCES /proc/stat');
  clock.now += 5000;
  const r = await sampler.sampleOnce();
  assert.deepEqual([r.host, r.replicas], [false, 1]);
  assert.deepEqual(store.rounds.map((r) => [r.replicas.length, r.hosts.length]), [[1, 0]]);
});

test('compaction runs once a minute with the 15 min / 24 h cutoffs', async () => {
  const { store, runtime, sampler } = setup();
  runtime.replicas = [replica('a')];
  const start = Date.UTC(2026, 0, 2, 0, 0, 0);
  // 20 minutes of rounds every 5 s.
  for (let i = 0; i < 240; i++) {
    clock.now = start + i * 5000;
    await sampler.sampleOnce();
  }
  assert.equal(store.rounds.length, 240);
  assert.equal(store.compactions.length, 20);
  const last = store.compactions.at(-1)!;
  const lastAt = start + 19 * MINUTE_MS;
  assert.deepEqual(last, { rollupBefore: lastAt - 15 * MINUTE_MS, deleteBefore: lastAt - 24 * 60 * MINUTE_MS });
  assert.equal(store.prunedBefore.length, 20, 'replica restarts are pruned with the compaction');
  assert.equal(store.prunedBefore.at(-1), lastAt - 7 * 24 * 60 * MINUTE_MS, 'after a week');
});

test('start/stop: rounds repeat every interval and stop waits for the round in progress', async () => {
  const store = new RecordingStore();
  const runtime = new FakeRuntime();
  runtime.replicas = [replica('a')];
  const sampler = new ResourceSampler({ runtime: runtime as unknown as Runtime, host: new FakeHost(), store: store as unknown as Store, logger: pino({ level: 'silent' }), intervalMs: 20, concurrency: 2 });
  sampler.start();
  await new Promise((r) => setTimeout(r, 200));
  await sampler.stop();
  const rounds = store.rounds.length;
  assert.ok(rounds >= 5 && rounds <= 12, `expected a round every 20 ms for 200 ms, got ${rounds}`);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(store.rounds.length, rounds, 'no round after stop');
  assert.ok(sampler.lastRound());
  assert.throws(() => new ResourceSampler({ runtime: runtime as unknown as Runtime, host: new FakeHost(), store: store as unknown as Store, logger: pino(), intervalMs: 0, concurrency: 1 }), /interval must be positive/);
});
