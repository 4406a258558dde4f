/**
 * Per-minute buckets in memory, per project+env+service+release+route, until the next
 * flush takes them. A flush writes each minute bucket, adds it to its service's totals and to
 * its hour's rollup (the rows long queries read), and the service's totals to their 5- and
 * 15-minute rollups (the steps of time series), so every span and level holds the same totals.
 */
import { ALL_ROUTES, BUCKET_SPANS, ROUTE_SPANS, statusClassIndex, type BucketSpan, type RequestBucket } from '../core/request-metrics';
import { bucketIndex, emptyHistogram, mergeInto } from './latency-histogram';
import type { RequestRecord } from './request-record';

export class RequestAggregator {
  private buckets = new Map<string, RequestBucket>();

  get size(): number {
    return this.buckets.size;
  }

  add(r: RequestRecord): void {
    const start = Math.floor(r.at / 60_000) * 60;
    const key = `${r.project}\0${r.env}\0${r.service}\0${r.release ?? 0}\0${r.route}\0${start}`;
    let b = this.buckets.get(key);
    if (!b) {
      b = { project: r.project, env: r.env, service: r.service, release: r.release, route: r.route, span: 60, start, requests: 0, statusCounts: [0, 0, 0, 0, 0], bytes: 0, durationMsSum: 0, histogram: emptyHistogram() };
      this.buckets.set(key, b);
    }
    b.requests++;
    const cls = statusClassIndex(r.status);
    if (cls !== null) b.statusCounts[cls]!++;
    b.bytes += r.bytes;
    b.durationMsSum += r.durationMs;
    b.histogram[bucketIndex(r.durationMs)]!++;
  }

  /** Takes every minute bucket collected so far (the aggregator starts empty again). */
  drain(): RequestBucket[] {
    const out = [...this.buckets.values()];
    this.buckets = new Map();
    return out;
  }

  /** Puts drained buckets back (their write failed): they are added to whatever came in since. */
  restore(buckets: RequestBucket[]): void {
    for (const b of buckets) {
      const key = `${b.project}\0${b.env}\0${b.service}\0${b.release ?? 0}\0${b.route}\0${b.start}`;
      const existing = this.buckets.get(key);
      if (!existing) {
        this.buckets.set(key, b);
        continue;
      }
      existing.requests += b.requests;
      for (let i = 0; i < 5; i++) existing.statusCounts[i]! += b.statusCounts[i]!;
      existing.bytes += b.bytes;
      existing.durationMsSum += b.durationMsSum;
      mergeInto(existing.histogram, b.histogram);
    }
  }
}

/**
 * What one flush writes: the minute buckets, each service+release's totals over its routes
 * (route ALL_ROUTES, what queries not grouped by route read), the hourly rollup of both, and
 * the 5- and 15-minute rollups of the totals (ROUTE_SPANS: series never split by route).
 */
export function withRollups(minutes: RequestBucket[]): RequestBucket[] {
  const out = new Map<string, RequestBucket>();
  const add = (b: RequestBucket, span: BucketSpan, route: string) => {
    const start = Math.floor(b.start / span) * span;
    const key = `${b.project}\0${b.env}\0${b.service}\0${b.release ?? 0}\0${route}\0${span}\0${start}`;
    const into = out.get(key);
    if (!into) {
      out.set(key, { ...b, route, span, start, statusCounts: [...b.statusCounts], histogram: [...b.histogram] });
      return;
    }
    into.requests += b.requests;
    for (let i = 0; i < 5; i++) into.statusCounts[i]! += b.statusCounts[i]!;
    into.bytes += b.bytes;
    into.durationMsSum += b.durationMsSum;
    mergeInto(into.histogram, b.histogram);
  };
  for (const m of minutes) {
    for (const span of ROUTE_SPANS) add(m, span, m.route);
    for (const span of BUCKET_SPANS) add(m, span, ALL_ROUTES);
  }
  return [...out.values()];
}
