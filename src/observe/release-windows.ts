/**
 * Per-release sliding windows of request figures, for canary analysis (the ReleaseTraffic
 * port). Fed by RequestMetrics' `onRequest` hook with every counted request: one bucket per
 * release and second (requests, 5xx, latency histogram), kept for `retentionMs`.
 *
 * Why not the recent-requests ring: it is bounded by count per service (10,000 by default),
 * so at a few hundred requests per second a 60 s window no longer fits, and the canary's 10 %
 * share would be a few hundred entries among the stable release's. Why not the per-minute
 * store buckets: a window of 3–10 s cannot be read from them. Per-second buckets cost a
 * histogram per release and second (52 numbers): 10 min is ~31k numbers per release with
 * traffic, whatever the request rate.
 *
 * A request counts in the second its line arrived (not when it started): a window judged at
 * time T then holds exactly what had arrived by T, and no request falls into two windows.
 */
import { figures, type WindowFigures } from '../core/canary-analysis';
import type { ServiceRef } from '../core/domain';
import type { ReleaseTraffic } from '../core/ports/release-traffic';
import { bucketIndex, emptyHistogram, mergeInto, quantile } from './latency-histogram';

interface SecondBucket {
  requests: number;
  errors: number;
  histogram: number[];
}

export interface ReleaseWindowsOptions {
  /** How long seconds are kept (default 10 min: longer than any analysis interval). */
  retentionMs?: number;
  now?: () => number;
}

const key = (project: string, service: string, env: string, release: number) => `${project}\u0000${service}\u0000${env}\u0000${release}`;

export class ReleaseWindows implements ReleaseTraffic {
  private readonly byRelease = new Map<string, Map<number, SecondBucket>>();
  private readonly retentionS: number;
  private readonly now: () => number;
  private lastPruneS = 0;

  constructor(opts: ReleaseWindowsOptions = {}) {
    this.retentionS = Math.ceil((opts.retentionMs ?? 600_000) / 1000);
    this.now = opts.now ?? Date.now;
  }

  /** One counted request (cheap: called for every request the edge reports). */
  record(r: { project: string; service: string; env: string; release: number | null; status: number; durationMs: number }): void {
    if (r.release === null) return;
    const second = Math.floor(this.now() / 1000);
    const k = key(r.project, r.service, r.env, r.release);
    let seconds = this.byRelease.get(k);
    if (!seconds) this.byRelease.set(k, (seconds = new Map()));
    let b = seconds.get(second);
    if (!b) {
      seconds.set(second, (b = { requests: 0, errors: 0, histogram: emptyHistogram() }));
      if (second !== this.lastPruneS) this.prune(second);
    }
    b.requests++;
    if (r.status >= 500 && r.status <= 599) b.errors++;
    b.histogram[bucketIndex(r.durationMs)]!++;
  }

  window(ref: ServiceRef, release: number, sinceMs: number, untilMs: number): WindowFigures {
    const seconds = this.byRelease.get(key(ref.project, ref.service, ref.env, release));
    const from = Math.floor(sinceMs / 1000);
    const to = Math.floor(untilMs / 1000);
    let requests = 0;
    let errors = 0;
    const histogram = emptyHistogram();
    if (seconds) {
      for (const [s, b] of seconds) {
        if (s < from || s >= to) continue;
        requests += b.requests;
        errors += b.errors;
        mergeInto(histogram, b.histogram);
      }
    }
    return figures(requests, errors, quantile(histogram, 0.99));
  }

  private prune(nowS: number): void {
    this.lastPruneS = nowS;
    const oldest = nowS - this.retentionS;
    for (const [k, seconds] of this.byRelease) {
      for (const s of seconds.keys()) if (s < oldest) seconds.delete(s);
      if (seconds.size === 0) this.byRelease.delete(k);
    }
  }
}
