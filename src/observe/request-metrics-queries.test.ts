/**
 * Time series of request metrics (RequestMetricsQueries.series / overviewSeries) over known
 * buckets: written as the flusher writes them (withRollups: minutes, totals, rollups), read
 * back through a store that filters exactly as the Store port promises (the store contract
 * checks the real one does).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../core/ports/store';
import type { RequestBucket, RequestBucketQuery } from '../core/request-metrics';
import { metricsSeriesQuery, metricsSeriesResult, overviewSeriesQuery, type MetricsSeriesResult } from '../core/contract/metrics';
import { bucketIndex, emptyHistogram } from './latency-histogram';
import { withRollups } from './request-aggregator';
import { RecentRequests } from './recent-requests';
import { RequestMetricsQueries, seriesStepSeconds } from './request-metrics-queries';

/** 2026-01-01 12:00:00 UTC, epoch seconds: on an hour (and 15-minute) boundary. */
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0) / 1000;
const MIN = 60;
const HOUR = 3600;

class BucketStore {
  rows: RequestBucket[] = [];
  reads: RequestBucketQuery[] = [];
  services: Array<{ name: string; type: 'web' | 'worker' }> = [
    { name: 'web', type: 'web' },
    { name: 'api', type: 'web' },
    { name: 'jobs', type: 'worker' },
  ];

  async getProject(name: string) {
    return name === 'shop' ? { id: 1, name, createdAt: '' } : null;
  }
  async getEnvironment(projectId: number, name: string) {
    return name === 'production' ? { id: 1, projectId, name, createdAt: '' } : null;
  }
  async getService(projectId: number, name: string) {
    const s = this.services.find((x) => x.name === name);
    return s ? { id: 1, projectId, name, type: s.type, createdAt: '' } : null;
  }
  async listServices(projectId: number) {
    return this.services.map((s, id) => ({ id, projectId, name: s.name, type: s.type, createdAt: '' }));
  }
  async listRequestBuckets(q: RequestBucketQuery): Promise<RequestBucket[]> {
    this.reads.push(q);
    return this.rows.filter(
      (b) =>
        b.project === q.project &&
        b.env === q.env &&
        (q.service === undefined || b.service === q.service) &&
        (q.allRoutes ? b.route === '*' : b.route !== '*') &&
        b.span === q.span &&
        b.start >= q.from &&
        b.start < q.to,
    );
  }
  /** As a flush writes: minutes, the service totals and every rollup, adding to existing rows. */
  flush(minutes: RequestBucket[]): void {
    for (const b of withRollups(minutes)) {
      const same = this.rows.find((r) => r.service === b.service && r.release === b.release && r.route === b.route && r.span === b.span && r.start === b.start);
      if (!same) {
        this.rows.push(b);
        continue;
      }
      same.requests += b.requests;
      for (let i = 0; i < 5; i++) same.statusCounts[i]! += b.statusCounts[i]!;
      for (let i = 0; i < b.histogram.length; i++) same.histogram[i]! += b.histogram[i]!;
    }
  }
}

/** A minute bucket of `n` requests all taking `ms`, `errors` of them 5xx. */
function minute(start: number, n: number, o: { ms?: number; errors?: number; release?: number | null; service?: string; route?: string } = {}): RequestBucket {
  const histogram = emptyHistogram();
  histogram[bucketIndex(o.ms ?? 10)] = n;
  const errors = o.errors ?? 0;
  return {
    project: 'shop',
    env: 'production',
    service: o.service ?? 'web',
    release: o.release === undefined ? 3 : o.release,
    route: o.route ?? '/',
    span: 60,
    start,
    requests: n,
    statusCounts: [0, n - errors, 0, 0, errors],
    bytes: n * 100,
    durationMsSum: n * (o.ms ?? 10),
    histogram,
  };
}

function setup(nowSec: number) {
  const store = new BucketStore();
  const queries = new RequestMetricsQueries(store as unknown as Store, new RecentRequests(1), () => nowSec * 1000);
  const series = async (since: string, by?: 'release') => check(await queries.series({ project: 'shop', service: 'web', ...metricsSeriesQuery.parse({ since, ...(by ? { by } : {}) }) }));
  const overview = async (since: string) => check(await queries.overviewSeries({ project: 'shop', ...overviewSeriesQuery.parse({ since }) }));
  return { store, queries, series, overview };
}

/** Every answer passes the strict response schema, and every series has the same continuous x axis. */
function check(r: MetricsSeriesResult): MetricsSeriesResult {
  metricsSeriesResult.parse(r);
  const from = Date.parse(r.from) / 1000;
  for (const s of r.series) {
    assert.deepEqual(
      s.points.map((p) => Date.parse(p.t) / 1000),
      s.points.map((_, i) => from + i * r.stepSeconds),
      'one point per step, oldest first, none missing',
    );
  }
  return r;
}

const requestsOf = (r: MetricsSeriesResult, i = 0) => r.series[i]!.points.map((p) => p.requests);

describe('request metrics series', () => {
  test('the step keeps a series to about 120 points: 1 min ≤ 2h, 5 min ≤ 10h, 15 min ≤ 24h, 1 h beyond', () => {
    const h = 3_600_000;
    assert.deepEqual(
      [60_000, h, 2 * h, 2 * h + 60_000, 10 * h, 10 * h + 60_000, 24 * h, 24 * h + 60_000, 7 * 24 * h, 14 * 24 * h].map(seriesStepSeconds),
      [60, 60, 60, 300, 300, 900, 900, 3600, 3600, 3600],
    );
  });

  test('1h: one point per minute, gaps are zeros with null latencies, counts and error rates per minute', async () => {
    // Now is 30.5 minutes into the hour: the window starts at 11:30 (rounded down), 61 points.
    const now = T0 + 30 * MIN + 30;
    const { store, series } = setup(now);
    store.flush([
      minute(T0 - 30 * MIN, 60, { errors: 6 }), // the first step
      minute(T0 + 5 * MIN, 120, { route: '/a' }),
      minute(T0 + 5 * MIN, 30, { route: '/b', errors: 30 }), // two routes of the same minute add up
      minute(T0 + 30 * MIN, 15), // the current minute: 30 s elapsed
      minute(T0 - 31 * MIN, 1000), // before the window
      minute(T0 + 5 * MIN, 7, { service: 'api' }), // another service
    ]);
    const r = await series('1h');
    assert.equal(r.stepSeconds, 60);
    assert.equal(r.from, new Date((T0 - 30 * MIN) * 1000).toISOString());
    assert.equal(r.to, new Date(now * 1000).toISOString());
    assert.equal(r.by, null);
    assert.equal(r.service, 'web');
    assert.equal(r.series.length, 1);
    assert.equal('release' in r.series[0]! || 'service' in r.series[0]!, false, 'the single series names nothing');
    const points = r.series[0]!.points;
    assert.equal(points.length, 61);
    const expected = new Array<number>(61).fill(0);
    expected[0] = 60;
    expected[35] = 150;
    expected[60] = 15;
    assert.deepEqual(requestsOf(r), expected);
    assert.deepEqual(points[0], { t: r.from, requests: 60, ratePerSec: 1, errorRate: 0.1, p50: 10, p95: 10, p99: 10 });
    assert.equal(points[35]!.errorRate, 0.2);
    assert.equal(points[35]!.ratePerSec, 2.5);
    assert.equal(points[60]!.ratePerSec, 0.5, 'the step holding now counts the 30 s elapsed');
    assert.deepEqual(points[1], { t: new Date((T0 - 29 * MIN) * 1000).toISOString(), requests: 0, ratePerSec: 0, errorRate: 0, p50: null, p95: null, p99: null });
    // Only the per-service totals at the step's span were read.
    assert.deepEqual(store.reads.map((q) => [q.span, q.allRoutes, q.service]), [[60, true, 'web']]);
  });

  test('an empty window is still every step, all zeros', async () => {
    const { series } = setup(T0);
    const r = await series('15m');
    assert.equal(r.series.length, 1);
    assert.equal(r.series[0]!.points.length, 16);
    assert.ok(r.series[0]!.points.every((p) => p.requests === 0 && p.p99 === null));
    assert.deepEqual((await series('15m', 'release')).series, [], 'grouped by release, there is no release to show');
  });

  test('6h: 5-minute steps; the quantiles of a step come from the merged histograms of its minutes', async () => {
    const now = T0 + 2 * MIN;
    const { store, series } = setup(now);
    // One step (12:00–12:05): 95 fast requests in one minute, 5 slow ones in another.
    // Alone, the slow minute's p50 would be 800 ms; merged, p50 and p95 are 2 ms and p99 800 ms.
    store.flush([minute(T0, 95, { ms: 2 }), minute(T0 + 3 * MIN, 5, { ms: 800, errors: 5 })]);
    store.flush([minute(T0 - 5 * HOUR, 10, { ms: 50 })]);
    const r = await series('6h');
    assert.equal(r.stepSeconds, 300);
    assert.equal(r.from, new Date((T0 - 6 * HOUR) * 1000).toISOString());
    assert.equal(r.series[0]!.points.length, 6 * 12 + 1);
    const last = r.series[0]!.points.at(-1)!;
    assert.equal(last.requests, 100);
    assert.equal(last.errorRate, 0.05);
    assert.equal(last.ratePerSec, 0.833, 'the current step has lasted 2 minutes');
    assert.deepEqual([last.p50, last.p95, last.p99], [2, 2, 800]);
    assert.equal(r.series[0]!.points[12]!.requests, 10, '11:00 is the 13th step');
    assert.equal(requestsOf(r).reduce((a, b) => a + b, 0), 110);
    assert.deepEqual(store.reads.map((q) => q.span), [300], 'the 5-minute rollup, not 360 minute rows');
  });

  test('24h: 15-minute steps from the 15-minute rollup; by release, one series per release, null (no replica answered) last', async () => {
    const now = T0 + 20 * MIN;
    const { store, series } = setup(now);
    store.flush([
      minute(T0 - 23 * HOUR, 40, { release: 2 }),
      minute(T0 - 23 * HOUR + 14 * MIN, 20, { release: 2, ms: 300 }),
      minute(T0 + 16 * MIN, 30, { release: 3 }),
      minute(T0 + 17 * MIN, 10, { release: 2 }),
      minute(T0 + 17 * MIN, 4, { release: null, errors: 4, ms: 1 }),
    ]);
    const r = await series('24h', 'release');
    assert.equal(r.stepSeconds, 900);
    assert.equal(r.by, 'release');
    assert.deepEqual(r.series.map((s) => s.release), [2, 3, null]);
    for (const s of r.series) assert.equal(s.points.length, 97);
    const [v2, v3, none] = r.series;
    // 24 h before 12:20 is 12:20 yesterday, rounded down to 12:15 (step 0); 13:00 yesterday is step 3.
    assert.equal(r.from, new Date((T0 - 23 * HOUR - 45 * MIN) * 1000).toISOString());
    assert.equal(v2!.points[3]!.requests, 60, 'two minutes of one step');
    assert.deepEqual([v2!.points[3]!.p50, v2!.points[3]!.p99], [10, 300]);
    assert.equal(v2!.points[96]!.requests, 10);
    assert.equal(v3!.points[96]!.requests, 30);
    assert.equal(v3!.points[3]!.requests, 0);
    assert.deepEqual([none!.points[96]!.requests, none!.points[96]!.errorRate, none!.points[96]!.p99], [4, 1, 1]);
    assert.deepEqual(store.reads.map((q) => q.span), [900]);
  });

  test('beyond 24h: hour steps from the hourly rollup, the current hour included', async () => {
    const now = T0 + 30 * MIN;
    const { store, series } = setup(now);
    store.flush([
      minute(T0 - 71 * HOUR + 5 * MIN, 50, { ms: 3 }),
      minute(T0 - 71 * HOUR + 55 * MIN, 50, { ms: 3000 }),
      minute(T0 - 2 * HOUR, 8),
      minute(T0 + 29 * MIN, 12), // the current hour: read from its hourly row, flushed with the minute
    ]);
    const r = await series('3d');
    assert.equal(r.stepSeconds, 3600);
    assert.equal(r.from, new Date((T0 - 72 * HOUR) * 1000).toISOString());
    const points = r.series[0]!.points;
    assert.equal(points.length, 73);
    assert.equal(points[1]!.requests, 100);
    assert.deepEqual([points[1]!.p50, points[1]!.p95, points[1]!.p99], [3, 3000, 3000], 'the hour merged from two minutes of different speeds');
    assert.equal(points[1]!.ratePerSec, Math.round((100 / 3600) * 1000) / 1000);
    assert.equal(points[70]!.requests, 8);
    assert.equal(points[72]!.requests, 12);
    assert.equal(points[72]!.ratePerSec, Math.round((12 / (30 * 60)) * 1000) / 1000);
    assert.equal(requestsOf(r).reduce((a, b) => a + b, 0), 120);
    assert.deepEqual(store.reads.map((q) => [q.span, q.allRoutes]), [[3600, true]], 'hourly rows only: no minute row is read');
  });

  test('a 14-day series reads one hourly row per hour and release (336 + 1 points)', async () => {
    const { store, series } = setup(T0);
    store.flush([minute(T0 - 14 * 24 * HOUR, 5)]);
    const r = await series('14d');
    assert.equal(r.series[0]!.points.length, 14 * 24 + 1);
    assert.equal(r.series[0]!.points[0]!.requests, 5);
  });

  test('the overview: one series per web service by name, services without traffic as zeros, workers left out', async () => {
    const now = T0 + 10 * MIN;
    const { store, overview } = setup(now);
    store.flush([minute(T0, 10), minute(T0, 5, { release: 4 }), minute(T0 + 2 * MIN, 7, { service: 'gone' }), minute(T0 - 2 * HOUR, 99, { service: 'api' })]);
    const r = await overview('1h');
    assert.equal(r.service, null);
    assert.equal(r.by, 'service');
    assert.deepEqual(r.series.map((s) => s.service), ['api', 'gone', 'web'], 'a service gone since still shows its traffic; jobs is a worker');
    assert.ok(r.series.every((s) => s.points.length === 61 && !('release' in s)));
    assert.deepEqual(r.series.map((s) => s.points.reduce((n, p) => n + p.requests, 0)), [0, 7, 15]);
    assert.equal(r.series[2]!.points[50]!.requests, 15, 'releases of a service add up');
    assert.deepEqual(store.reads.map((q) => [q.span, q.service]), [[60, undefined]], 'one read for every service');
  });

  test('unknown project, environment or service is SLW_NOT_FOUND; the query accepts `by` release only', async () => {
    const { queries } = setup(T0);
    await assert.rejects(queries.series({ project: 'shop', service: 'nope', ...metricsSeriesQuery.parse({}) }), { code: 'SLW_NOT_FOUND' });
    await assert.rejects(queries.series({ project: 'shop', service: 'web', ...metricsSeriesQuery.parse({ env: 'staging' }) }), { code: 'SLW_NOT_FOUND' });
    await assert.rejects(queries.overviewSeries({ project: 'nope', ...overviewSeriesQuery.parse({}) }), { code: 'SLW_NOT_FOUND' });
    assert.deepEqual(metricsSeriesQuery.parse({}), { env: 'production', since: 3_600_000 });
    assert.equal(metricsSeriesQuery.safeParse({ by: 'route' }).success, false);
    assert.equal(metricsSeriesQuery.safeParse({ since: '30s' }).success, false);
    assert.equal(metricsSeriesQuery.safeParse({ step: '5m' }).success, false, 'unknown query fields are refused');
    assert.equal(overviewSeriesQuery.safeParse({ by: 'release' }).success, false);
  });
});
