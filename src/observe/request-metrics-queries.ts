/**
 * Answers `slipway metrics` and `slipway requests`: request metrics over a window (or as
 * time series, points per step) from the store's buckets, recent raw requests from the
 * in-memory ring.
 *
 * A window reads whole hours from the hourly rollup and only its ragged ends from minute
 * buckets, and reads per-route rows only when grouping by route (else the per-service
 * totals), so a 24 h query over 50 services reads a few thousand rows instead of hundreds of
 * thousands (bench/metrics-query.ts). Metrics are as fresh as the last flush (every few
 * seconds); the ring is live.
 */
import { SlipwayError } from '../core/errors';
import type { Store } from '../core/ports/store';
import { STATUS_CLASSES, type BucketSpan, type RequestBucket } from '../core/request-metrics';
import type { StatusFilter } from '../core/status-filter';
import type {
  MetricsGroup,
  MetricsPoint,
  MetricsQuery,
  MetricsResult,
  MetricsSeries,
  MetricsSeriesQuery,
  MetricsSeriesResult,
  OverviewQuery,
  OverviewSeriesQuery,
  RequestsQuery,
  RequestsResult,
} from '../core/contract/metrics';
import { emptyHistogram, mergeInto, quantile } from './latency-histogram';
import type { RecentRequests } from './recent-requests';
import { toRequestView } from './request-record';

/** `errors=true` (`slipway requests --errors`): the same as `status=5xx`. */
const SERVER_ERRORS: StatusFilter = { classes: [5], codes: [] };

interface Totals {
  requests: number;
  statusCounts: number[];
  bytes: number;
  durationMsSum: number;
  histogram: number[];
}

function emptyTotals(): Totals {
  return { requests: 0, statusCounts: [0, 0, 0, 0, 0], bytes: 0, durationMsSum: 0, histogram: emptyHistogram() };
}

type Grouping = MetricsResult['by'];
type SeriesGrouping = MetricsSeriesResult['by'];

/** One step of one series while the rows are added up; created at the first row that falls in it. */
interface StepTotals {
  requests: number;
  errors: number;
  histogram: number[];
}

/**
 * The step of a series over a window, so that a series has at most about 120 points:
 * 1 minute up to 2 h, 5 minutes up to 10 h, 15 minutes up to 24 h (96), 1 hour beyond
 * (168 for 7 d). Every step is a bucket span: a point is one stored row per release.
 */
export function seriesStepSeconds(windowMs: number): BucketSpan {
  if (windowMs <= 2 * 3_600_000) return 60;
  if (windowMs <= 10 * 3_600_000) return 300;
  if (windowMs <= 24 * 3_600_000) return 900;
  return 3600;
}

export class RequestMetricsQueries {
  constructor(
    private readonly store: Store,
    private readonly recent: RecentRequests,
    private readonly now: () => number = Date.now,
  ) {}

  /** One service over the window, in one group or grouped by release, route or status class. */
  async metrics(q: MetricsQuery): Promise<MetricsResult> {
    await this.requireService(q.project, q.service, q.env);
    return this.compute({ project: q.project, env: q.env, service: q.service }, q.since, q.by ?? null);
  }

  /** Every service of a project in an environment, one group per service (biggest first). */
  async overview(q: OverviewQuery): Promise<MetricsResult> {
    await this.requireEnvironment(q.project, q.env);
    return this.compute({ project: q.project, env: q.env }, q.since, 'service');
  }

  /** Recent requests of a service from the ring, newest first. */
  async requests(q: RequestsQuery): Promise<RequestsResult> {
    await this.requireService(q.project, q.service, q.env);
    const found = this.recent.find({ project: q.project, env: q.env, service: q.service }, { slowMs: q.slow, status: q.status ?? (q.errors ? SERVER_ERRORS : undefined), pathPrefix: q.path, limit: q.limit });
    return { requests: found.requests.map(toRequestView), retained: found.retained };
  }

  /** One service over the window as points per step (every step present), in one series or one per release. */
  async series(q: MetricsSeriesQuery): Promise<MetricsSeriesResult> {
    await this.requireService(q.project, q.service, q.env);
    return this.computeSeries({ project: q.project, env: q.env, service: q.service }, q.since, q.by ?? null, []);
  }

  /**
   * Every web service of the project over the window, one series per service by name (the
   * overview's sparklines): services without traffic get a series of zeros, services that
   * had traffic in the window (even if gone since) are included too.
   */
  async overviewSeries(q: OverviewSeriesQuery): Promise<MetricsSeriesResult> {
    const p = await this.requireEnvironment(q.project, q.env);
    const web = (await this.store.listServices(p.id)).filter((s) => s.type === 'web').map((s) => s.name);
    return this.computeSeries({ project: q.project, env: q.env }, q.since, 'service', web);
  }

  private async computeSeries(target: { project: string; env: string; service?: string }, sinceMs: number, by: SeriesGrouping, alwaysServices: string[]): Promise<MetricsSeriesResult> {
    const nowMs = this.now();
    const nowSec = nowMs / 1000;
    const step = seriesStepSeconds(sinceMs);
    // Steps sit on multiples of the step (epoch-aligned), so successive polls of a chart agree
    // on the x axis; the first step holds now − since, the last one holds now.
    const from = Math.floor((nowMs - sinceMs) / 1000 / step) * step;
    const last = Math.floor(nowSec / step) * step;
    const count = (last - from) / step + 1;
    const to = Math.floor(nowSec) + 1;
    // Steps sit on their span's boundaries, so a step is one row per release of the rollup of
    // that span (the per-service totals: route `*`): ~100 rows per service whatever the window,
    // where minute rows would be 1,440 a day. No ragged ends to read from minute rows, as
    // metrics() must: the rollup row of the current step is added to by every flush too.
    const rows = await this.readBuckets({ ...target, allRoutes: true }, step, from, to);

    const groups = new Map<string, { key: Omit<MetricsSeries, 'points'>; steps: Array<StepTotals | undefined> }>();
    const groupOf = (id: string, key: Omit<MetricsSeries, 'points'>) => {
      let g = groups.get(id);
      if (!g) groups.set(id, (g = { key, steps: new Array<StepTotals | undefined>(count) }));
      return g;
    };
    if (by === null) groupOf('', {});
    for (const name of alwaysServices) groupOf(name, { service: name });
    for (const b of rows) {
      const i = Math.floor((b.start - from) / step);
      if (i < 0 || i >= count) continue;
      const g = by === 'release' ? groupOf(String(b.release), { release: b.release }) : by === 'service' ? groupOf(b.service, { service: b.service }) : groupOf('', {});
      let s = g.steps[i];
      if (!s) g.steps[i] = s = { requests: 0, errors: 0, histogram: emptyHistogram() };
      s.requests += b.requests;
      s.errors += b.statusCounts[4];
      mergeInto(s.histogram, b.histogram);
    }

    // Every series shares the x axis: its times are formatted once.
    const times = Array.from({ length: count }, (_, i) => new Date((from + i * step) * 1000).toISOString());
    const series: MetricsSeries[] = [...groups.values()].map((g) => ({ ...g.key, points: toPoints(g.steps, times, from, step, nowSec) }));
    if (by === 'release') series.sort((a, b) => (a.release ?? Infinity) - (b.release ?? Infinity));
    else if (by === 'service') series.sort((a, b) => a.service!.localeCompare(b.service!));
    return {
      project: target.project,
      env: target.env,
      service: target.service ?? null,
      from: new Date(from * 1000).toISOString(),
      to: new Date(nowMs).toISOString(),
      stepSeconds: step,
      by,
      series,
    };
  }

  private async compute(target: { project: string; env: string; service?: string }, sinceMs: number, by: Grouping): Promise<MetricsResult> {
    const nowMs = this.now();
    const nowSec = Math.floor(nowMs / 1000);
    const from = Math.floor((nowMs - sinceMs) / 60_000) * 60;
    const to = nowSec + 1;
    // Per-route rows only when grouping by route; everything else reads the per-service totals.
    const rows = await this.bucketsIn({ ...target, allRoutes: by !== 'route' }, from, to);
    const windowSec = Math.max(1, nowMs / 1000 - from);
    const groups = new Map<string, { key: Partial<MetricsGroup>; totals: Totals }>();
    const add = (id: string, key: Partial<MetricsGroup>, b: RequestBucket) => {
      let g = groups.get(id);
      if (!g) groups.set(id, (g = { key, totals: emptyTotals() }));
      const t = g.totals;
      t.requests += b.requests;
      for (let i = 0; i < 5; i++) t.statusCounts[i]! += b.statusCounts[i]!;
      t.bytes += b.bytes;
      t.durationMsSum += b.durationMsSum;
      mergeInto(t.histogram, b.histogram);
    };
    for (const b of rows) {
      if (by === 'release') add(String(b.release), { release: b.release }, b);
      else if (by === 'route') add(b.route, { route: b.route }, b);
      else if (by === 'service') add(b.service, { service: b.service }, b);
      else add('', {}, b);
    }
    let out: MetricsGroup[];
    if (by === 'status') {
      // Histograms are not kept per status: status groups carry counts only.
      const all = groups.get('')?.totals;
      out = STATUS_CLASSES.map((status, i) => {
        const n = all?.statusCounts[i] ?? 0;
        const statusCounts = Object.fromEntries(STATUS_CLASSES.map((c) => [c, c === status ? n : 0])) as MetricsGroup['statusCounts'];
        return { status, requests: n, ratePerSec: n / windowSec, errorRate: status === '5xx' && n > 0 ? 1 : 0, statusCounts, latencyMs: null, bytes: null };
      });
    } else {
      if (by === null && groups.size === 0) groups.set('', { key: {}, totals: emptyTotals() });
      out = [...groups.values()].map((g) => summarize(g.key, g.totals, windowSec));
      out.sort((a, b) => b.requests - a.requests || label(a).localeCompare(label(b)));
    }
    return {
      project: target.project,
      env: target.env,
      service: target.service ?? null,
      from: new Date(from * 1000).toISOString(),
      to: new Date(nowMs).toISOString(),
      by,
      groups: out,
    };
  }

  /** Minute buckets for the ragged ends of the window, hourly rollups for the whole hours in between. */
  private async bucketsIn(target: BucketTarget, from: number, to: number): Promise<RequestBucket[]> {
    const read = (span: BucketSpan, a: number, b: number) => this.readBuckets(target, span, a, b);
    const firstHour = Math.ceil(from / 3600) * 3600;
    const currentHour = Math.floor((to - 1) / 3600) * 3600;
    if (firstHour >= currentHour) return read(60, from, to);
    const parts = await Promise.all([read(60, from, firstHour), read(3600, firstHour, currentHour), read(60, currentHour, to)]);
    return parts.flat();
  }

  private readBuckets(target: BucketTarget, span: BucketSpan, from: number, to: number): Promise<RequestBucket[]> {
    return from < to ? this.store.listRequestBuckets({ ...target, span, from, to }) : Promise.resolve([]);
  }

  private async requireEnvironment(project: string, env: string) {
    const p = await this.store.getProject(project);
    if (!p) throw new SlipwayError('SLW_NOT_FOUND', `project ${project} does not exist`);
    if (!(await this.store.getEnvironment(p.id, env))) throw new SlipwayError('SLW_NOT_FOUND', `environment ${env} of project ${project} does not exist`);
    return p;
  }

  private async requireService(project: string, service: string, env: string): Promise<void> {
    const p = await this.requireEnvironment(project, env);
    if (!(await this.store.getService(p.id, service))) throw new SlipwayError('SLW_NOT_FOUND', `service ${service} of project ${project} does not exist`);
  }
}

type BucketTarget = { project: string; env: string; service?: string; allRoutes: boolean };

/** Every step of the window, oldest first: zeros and null latencies where nothing was counted. */
function toPoints(steps: Array<StepTotals | undefined>, times: string[], from: number, step: number, nowSec: number): MetricsPoint[] {
  const points = new Array<MetricsPoint>(steps.length);
  for (let i = 0; i < steps.length; i++) {
    const t = from + i * step;
    const s = steps[i];
    const at = times[i]!;
    if (!s || s.requests === 0) {
      points[i] = { t: at, requests: 0, ratePerSec: 0, errorRate: 0, p50: null, p95: null, p99: null };
      continue;
    }
    // The step holding now has only lasted until now.
    const seconds = Math.max(1, Math.min(step, nowSec - t));
    points[i] = {
      t: at,
      requests: s.requests,
      ratePerSec: Math.round((s.requests / seconds) * 1000) / 1000,
      errorRate: s.errors / s.requests,
      p50: quantile(s.histogram, 0.5),
      p95: quantile(s.histogram, 0.95),
      p99: quantile(s.histogram, 0.99),
    };
  }
  return points;
}

function summarize(key: Partial<MetricsGroup>, t: Totals, windowSec: number): MetricsGroup {
  const statusCounts = Object.fromEntries(STATUS_CLASSES.map((c, i) => [c, t.statusCounts[i]!])) as MetricsGroup['statusCounts'];
  const latencyMs =
    t.requests === 0
      ? null
      : { p50: quantile(t.histogram, 0.5)!, p95: quantile(t.histogram, 0.95)!, p99: quantile(t.histogram, 0.99)!, mean: Math.round((t.durationMsSum / t.requests) * 10) / 10 };
  return {
    ...key,
    requests: t.requests,
    ratePerSec: Math.round((t.requests / windowSec) * 1000) / 1000,
    errorRate: t.requests === 0 ? 0 : t.statusCounts[4]! / t.requests,
    statusCounts,
    latencyMs,
    bytes: t.bytes,
  };
}

function label(g: MetricsGroup): string {
  return String(g.route ?? g.service ?? g.release ?? g.status ?? '');
}
