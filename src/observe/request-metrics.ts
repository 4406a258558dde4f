/**
 * Request metrics ingestion: each line from the edge is parsed, resolved to its service,
 * release and route, counted into per-minute buckets and kept in the recent-requests ring.
 * Every `flushIntervalMs` the buckets (and their hourly rollup) are added to the store in one
 * transaction; buckets older than the retention are pruned every hour.
 *
 * Counting is synchronous and cheap: this runs once per request at full edge speed. What
 * cannot be counted is counted as such (malformed lines, lines for no service), so the
 * ingestion figures always add up to the lines received.
 */
import type { Logger } from 'pino';
import { errorMessage } from '../core/errors';
import type { Store } from '../core/ports/store';
import type { EdgeRequestLine } from '../core/request-log';
import type { TrustedProxies } from './client-ip';
import { parseRequestLine } from './parse-request-line';
import { RecentRequests } from './recent-requests';
import { RequestAggregator, withRollups } from './request-aggregator';
import { toRecord, type RequestRecord } from './request-record';
import { RouteLimiter } from './route-limiter';
import { routeTemplate } from './route-template';
import { ServiceDirectory } from './service-directory';

export interface RequestMetricsOptions {
  store: Store;
  logger: Logger;
  trustedProxies: TrustedProxies;
  /** Raw requests kept per service (default 10,000). */
  recentPerService?: number;
  /** Distinct route templates per service before new ones count as `other` (default 200). */
  maxRoutesPerService?: number;
  /** Default 5 s. */
  flushIntervalMs?: number;
  /** Buckets older than this are pruned (default 14 days). */
  retentionMs?: number;
  now?: () => number;
  /** Called with every counted request (e.g. the Prometheus counters); must be cheap and must not throw. */
  onRequest?: (r: RequestRecord) => void;
}

export interface IngestStats {
  /** Lines handed to ingest(). */
  lines: number;
  /** Not a request line (not JSON, or fields missing). */
  malformed: number;
  /** Requests of a known service: counted and kept. */
  counted: number;
  /** Requests no service was routed for (unknown host: the edge's 404), or whose backend no service matches. */
  unrouted: number;
  /** Waiting for the service directory to learn a new backend. */
  waiting: number;
  flushes: number;
  flushFailures: number;
  lastFlushError: string | null;
}

const PRUNE_EVERY_MS = 3_600_000;
/** A new backend name triggers a directory refresh at most this often. */
const REFRESH_MIN_INTERVAL_MS = 1000;
const MAX_WAITING = 50_000;

export class RequestMetrics {
  readonly recent: RecentRequests;
  private readonly aggregator = new RequestAggregator();
  private readonly routes: RouteLimiter;
  private readonly directory: ServiceDirectory;
  private readonly now: () => number;
  private readonly flushIntervalMs: number;
  private readonly retentionMs: number;
  private readonly log: Logger;
  private waiting: Array<{ line: EdgeRequestLine; arrived: number }> = [];
  private timers: NodeJS.Timeout[] = [];
  private refreshTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private readonly counters: IngestStats = { lines: 0, malformed: 0, counted: 0, unrouted: 0, waiting: 0, flushes: 0, flushFailures: 0, lastFlushError: null };

  constructor(private readonly opts: RequestMetricsOptions) {
    this.recent = new RecentRequests(opts.recentPerService ?? 10_000);
    this.routes = new RouteLimiter(opts.maxRoutesPerService ?? 200);
    this.directory = new ServiceDirectory(opts.store);
    this.now = opts.now ?? Date.now;
    this.flushIntervalMs = opts.flushIntervalMs ?? 5000;
    this.retentionMs = opts.retentionMs ?? 14 * 86_400_000;
    this.log = opts.logger;
  }

  /** Loads the service directory, prunes once, then flushes and prunes periodically. */
  async start(): Promise<void> {
    await this.directory.refresh();
    await this.prune();
    const flush = setInterval(() => void this.flush(), this.flushIntervalMs);
    const prune = setInterval(() => void this.prune().catch((err) => this.log.error({ err: errorMessage(err) }, 'request metrics: prune failed')), PRUNE_EVERY_MS);
    flush.unref();
    prune.unref();
    this.timers = [flush, prune];
  }

  /** Stops the timers and writes what was counted. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    await this.flush();
  }

  stats(): IngestStats {
    return { ...this.counters, waiting: this.waiting.length };
  }

  ingest(text: string): void {
    this.counters.lines++;
    const line = parseRequestLine(text);
    if (!line) {
      this.counters.malformed++;
      return;
    }
    if (!line.b.startsWith('be_')) {
      this.counters.unrouted++;
      return;
    }
    if (this.count(line)) return;
    // A backend the directory does not know yet (a service deployed since the last refresh).
    if (this.waiting.length >= MAX_WAITING) {
      this.counters.unrouted++;
      return;
    }
    this.waiting.push({ line, arrived: this.now() });
    this.scheduleRefresh();
  }

  /** Adds what was counted since the last flush to the store, in one transaction; on failure keeps it for the next one. */
  flush(): Promise<void> {
    // Cleared once settled (not inside the body: with nothing to write it finishes before the assignment).
    this.flushing ??= this.writeBuckets().finally(() => (this.flushing = null));
    return this.flushing;
  }

  private async writeBuckets(): Promise<void> {
    const minutes = this.aggregator.drain();
    try {
      if (minutes.length > 0) await this.opts.store.mergeRequestBuckets(withRollups(minutes));
      this.counters.flushes++;
      if (minutes.length > 0) this.log.debug({ buckets: minutes.length, ...this.stats() }, 'request metrics: flushed');
    } catch (err) {
      this.aggregator.restore(minutes);
      this.counters.flushFailures++;
      this.counters.lastFlushError = errorMessage(err);
      this.log.error({ err: errorMessage(err), buckets: minutes.length }, 'request metrics: flush failed; kept for the next one');
    }
  }

  /** Deletes buckets older than the retention; returns how many. */
  async prune(): Promise<number> {
    const pruned = await this.opts.store.pruneRequestBuckets(Math.floor((this.now() - this.retentionMs) / 1000));
    if (pruned > 0) this.log.info({ pruned }, 'request metrics: pruned buckets past retention');
    return pruned;
  }

  /** Counts the line if its backend is known; false otherwise. */
  private count(line: EdgeRequestLine): boolean {
    const key = this.directory.resolve(line.b);
    if (!key) return false;
    const route = this.routes.admit(`${key.project}\0${key.env}\0${key.service}`, routeTemplate(line.p));
    const record = toRecord(line, key, route, this.opts.trustedProxies);
    this.aggregator.add(record);
    this.recent.add(record);
    this.counters.counted++;
    this.opts.onRequest?.(record);
    return true;
  }

  /** One directory refresh at a time, at most one per REFRESH_MIN_INTERVAL_MS. */
  private scheduleRefresh(): void {
    if (this.refreshTimer) return;
    const delay = Math.max(0, this.directory.refreshedAt + REFRESH_MIN_INTERVAL_MS - this.now());
    this.refreshTimer = setTimeout(() => {
      void this.refreshDirectory().finally(() => {
        this.refreshTimer = null;
        if (this.waiting.length > 0) this.scheduleRefresh();
      });
    }, delay);
    this.refreshTimer.unref();
  }

  private async refreshDirectory(): Promise<void> {
    const started = this.now();
    try {
      await this.directory.refresh();
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'request metrics: could not refresh the service directory');
      return;
    }
    const still: typeof this.waiting = [];
    for (const w of this.waiting) {
      if (this.count(w.line)) continue;
      // Arrived before this refresh began and still unknown: no service has that backend.
      if (w.arrived <= started) this.counters.unrouted++;
      else still.push(w);
    }
    this.waiting = still;
  }
}
