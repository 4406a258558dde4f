/**
 * The stats sampler: every `intervalMs` it reads CPU and memory of every running Slipway
 * replica (bounded concurrency) and the host's CPU, memory and disk, and records one round
 * in the store; once a minute it compacts (raw → per-minute averages, 24 h retention).
 *
 * CPU is a rate, so a percentage needs two readings: the sampler keeps each container's
 * previous counters in memory and compares consecutive readings (the first reading of a
 * container, and the first round after a start, have no CPU figure). A replica's restarts are
 * its slot's repairs in the last 24 h (core/replica-restarts.ts), read once a round; restarts
 * older than a week are pruned with the compaction. Rounds start every
 * interval and never overlap: one that takes longer is followed at once. When Docker is unreachable the
 * host is still sampled; the failure is logged once, and its end too.
 */
import type { Logger } from 'pino';
import { errorMessage } from '../core/errors';
import type { HostProbe, HostReading } from '../core/ports/host-probe';
import type { Replica, ReplicaStats, Runtime } from '../core/ports/runtime';
import type { Store } from '../core/ports/store';
import {
  compactionCutoffs,
  containerCpuPercent,
  DEFAULT_STATS_RETENTION,
  hostCpuPercent,
  MINUTE_MS,
  type ContainerCpuCounters,
  type HostCpuCounters,
  type HostSample,
  type ReplicaSample,
  type StatsRetention,
} from '../core/resource-stats';
import { RESTART_RETENTION_MS, RESTART_WINDOW_MS, slotKey } from '../core/replica-restarts';
import { mapLimit } from './map-limit';

export interface ResourceSamplerOptions {
  runtime: Runtime;
  host: HostProbe;
  store: Store;
  logger: Logger;
  /** Time between the starts of two rounds. */
  intervalMs: number;
  /** Stats calls to the runtime in flight at once. */
  concurrency: number;
  /** A replica whose stats take longer is skipped for this round. */
  statsTimeoutMs?: number;
  retention?: StatsRetention;
  /** The server name host samples are recorded under. */
  server?: string;
  now?: () => number;
}

export interface SamplerRound {
  at: number;
  durationMs: number;
  replicas: number;
  /** Replicas whose stats could not be read this round. */
  failed: number;
  host: boolean;
  /** Why the replica list could not be read (the runtime is down), else null. */
  runtimeError: string | null;
}

export class ResourceSampler {
  private readonly cpu = new Map<string, ContainerCpuCounters>();
  private hostCpu: HostCpuCounters | null = null;
  private lastCompaction = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private stopped = true;
  private runtimeDown = false;
  private hostDown = false;
  private last: SamplerRound | null = null;

  constructor(private readonly opts: ResourceSamplerOptions) {
    if (!(opts.intervalMs > 0)) throw new Error(`stats interval must be positive (got ${opts.intervalMs})`);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops scheduling and waits for a round in progress (the store may close right after). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** The last completed round (for logs and tests). */
  lastRound(): SamplerRound | null {
    return this.last;
  }

  /** One round: read, record, and compact when a minute has passed since the last compaction. */
  async sampleOnce(): Promise<SamplerRound> {
    const now = this.opts.now ?? Date.now;
    const started = now();
    const [replicas, host] = await Promise.all([this.sampleReplicas(started), this.sampleHost()]);
    await this.opts.store.addResourceSamples(replicas.samples, host ? [host] : []);
    if (started - this.lastCompaction >= MINUTE_MS) {
      this.lastCompaction = started;
      const result = await this.opts.store.compactResourceSamples(compactionCutoffs(started, this.opts.retention ?? DEFAULT_STATS_RETENTION));
      if (result.averaged || result.deleted) this.opts.logger.debug(result, 'stats compacted');
      // Restarts of replica slots are a time series too: kept a week (alert windows are shorter).
      const pruned = await this.opts.store.pruneReplicaRestarts(started - RESTART_RETENTION_MS);
      if (pruned) this.opts.logger.debug({ pruned }, 'replica restarts pruned');
    }
    this.last = { at: started, durationMs: now() - started, replicas: replicas.samples.length, failed: replicas.failed, host: host !== null, runtimeError: replicas.error };
    return this.last;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      const started = Date.now();
      this.running = this.sampleOnce()
        .then((r) => this.opts.logger.debug(r, 'stats sampled'))
        .catch((err) => this.opts.logger.warn({ err: errorMessage(err) }, 'stats round failed'))
        .finally(() => {
          this.running = null;
          // Rounds start every interval; one that took longer is followed at once, never overlapped.
          if (!this.stopped) this.schedule(Math.max(0, this.opts.intervalMs - (Date.now() - started)));
        });
    }, delayMs);
    // The sampler never keeps the process alive on its own.
    this.timer.unref();
  }

  private async sampleReplicas(at: number): Promise<{ samples: ReplicaSample[]; failed: number; error: string | null }> {
    let replicas: Replica[];
    const timeoutMs = this.statsTimeoutMs();
    try {
      // Bounded: a hung engine must not stall host sampling, nor stop() at shutdown.
      replicas = (await withTimeout(this.opts.runtime.listReplicasRecent({}), timeoutMs, 'listing replicas')).filter((r) => r.state === 'running');
    } catch (err) {
      const error = errorMessage(err);
      if (!this.runtimeDown) this.opts.logger.warn({ err: error }, 'stats: cannot list replicas; sampling the host only until the runtime answers');
      this.runtimeDown = true;
      return { samples: [], failed: 0, error };
    }
    if (this.runtimeDown) this.opts.logger.info('stats: the runtime answers again');
    this.runtimeDown = false;

    // Restarts per slot (repairs; Docker's RestartCount is always 0 under restart policy `no`): one read per round.
    const restarts = new Map((await this.opts.store.allRestartCounts(at - RESTART_WINDOW_MS)).map((c) => [`${c.project}\u0000${c.env}\u0000${slotKey(c.service, c.release, c.slot)}`, c.count]));
    const restartsOf = (r: Replica) => (r.labels.slot === undefined ? 0 : (restarts.get(`${r.labels.project}\u0000${r.labels.env}\u0000${slotKey(r.labels.service, r.labels.release, r.labels.slot)}`) ?? 0));
    let failed = 0;
    const readings = await mapLimit(replicas, this.opts.concurrency, (r) =>
      this.opts.runtime.replicaStats(r.id, timeoutMs).catch((err: unknown) => {
        failed++;
        this.opts.logger.debug({ replica: r.name, err: errorMessage(err) }, 'stats: replica not read this round');
        return null;
      }),
    );
    const samples: ReplicaSample[] = [];
    const seen = new Set<string>();
    replicas.forEach((r, i) => {
      const s = readings[i];
      if (!s) return;
      seen.add(r.id);
      samples.push(this.replicaSample(r, s, at, restartsOf(r)));
    });
    // Forget containers that are gone, so the map does not grow with every deploy.
    for (const id of this.cpu.keys()) if (!seen.has(id)) this.cpu.delete(id);
    return { samples, failed, error: null };
  }

  private statsTimeoutMs(): number {
    return this.opts.statsTimeoutMs ?? Math.max(2000, this.opts.intervalMs);
  }

  private replicaSample(r: Replica, s: ReplicaStats, at: number, restarts: number): ReplicaSample {
    const cpuPercent = containerCpuPercent(this.cpu.get(r.id), s.cpu);
    this.cpu.set(r.id, s.cpu);
    return {
      replica: r.name,
      project: r.labels.project,
      service: r.labels.service,
      env: r.labels.env,
      release: r.labels.release,
      at,
      spanMs: this.opts.intervalMs,
      cpuPercent,
      memoryUsedBytes: s.memoryUsedBytes,
      memoryLimitBytes: s.memoryLimitBytes,
      restarts,
    };
  }

  private async sampleHost(): Promise<HostSample | null> {
    let h: HostReading;
    try {
      h = await this.opts.host.read();
    } catch (err) {
      if (!this.hostDown) this.opts.logger.warn({ err: errorMessage(err) }, 'stats: cannot read the host');
      this.hostDown = true;
      return null;
    }
    this.hostDown = false;
    const cpuPercent = hostCpuPercent(this.hostCpu, h.cpu);
    this.hostCpu = h.cpu;
    return {
      server: this.opts.server ?? 'local',
      at: h.at,
      spanMs: this.opts.intervalMs,
      cpuPercent,
      cpus: h.cpus,
      memoryUsedBytes: h.memoryTotalBytes - h.memoryAvailableBytes,
      memoryTotalBytes: h.memoryTotalBytes,
      diskUsedBytes: h.disk.usedBytes,
      diskTotalBytes: h.disk.totalBytes,
      diskAvailableBytes: h.disk.availableBytes,
    };
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
