/**
 * Per-release sliding windows of request figures, for canary analysis (the ReleaseTraffic
 * port). Fed by RequestMetrics' `onRequest` hook with every counted request: one bucket per
 * release and 250 ms slot (requests, 5xx, sparse latency histogram), kept for `retentionMs`.
 *
 * Why not the recent-requests ring: it is bounded by count per service (10,000 by default),
 * so at a few hundred requests per second a 60 s window no longer fits, and the canary's 10 %
 * share would be a few hundred entries among the stable release's. Why not the per-minute
 * store buckets: a window of 3–10 s cannot be read from them. Slots of 250 ms keep a window's
 * edges within a quarter second of what the engine asked (a step's first window starts when the
 * weights changed: whole seconds would add up to a second of stable-only time to it), and their
 * histograms are sparse (the few latency buckets a slot's requests fall in), so 10 minutes cost
 * at most 2,400 small slots per release with traffic, whatever the request rate.
 *
 * A request counts in the slot its line arrived in (not when it started): a window judged at
 * time T then holds exactly what had arrived by T, and no request falls into two windows.
 */
import { figures, type WindowFigures } from '../core/canary-analysis';
import type { ServiceRef } from '../core/domain';
import type { ReleaseTraffic, ServiceTraffic } from '../core/ports/release-traffic';
import { bucketIndex, emptyHistogram, quantile } from './latency-histogram';

interface Slot {
  requests: number;
  errors: number;
  /** Latency bucket index → count. */
  histogram: Map<number, number>;
}

/** Slot length: the resolution of a window's edges. */
export const SLOT_MS = 250;

export interface ReleaseWindowsOptions {
  /** How long seconds are kept (default 10 min: longer than any analysis interval). */
  retentionMs?: number;
  now?: () => number;
}

const key = (project: string, service: string, env: string, release: number) => `${project}\u0000${service}\u0000${env}\u0000${release}`;

export class ReleaseWindows implements ReleaseTraffic, ServiceTraffic {
  private readonly byRelease = new Map<string, Map<number, Slot>>();
  private readonly retentionSlots: number;
  private readonly now: () => number;
  private lastPruneSlot = 0;

  constructor(opts: ReleaseWindowsOptions = {}) {
    this.retentionSlots = Math.ceil((opts.retentionMs ?? 600_000) / SLOT_MS);
    this.now = opts.now ?? Date.now;
  }

  /** One counted request (cheap: called for every request the edge reports). */
  record(r: { project: string; service: string; env: string; release: number | null; status: number; durationMs: number }): void {
    if (r.release === null) return;
    const slot = Math.floor(this.now() / SLOT_MS);
    const k = key(r.project, r.service, r.env, r.release);
    let slots = this.byRelease.get(k);
    if (!slots) this.byRelease.set(k, (slots = new Map()));
    let b = slots.get(slot);
    if (!b) {
      slots.set(slot, (b = { requests: 0, errors: 0, histogram: new Map() }));
      // Once a second at most: pruning walks every release's slots.
      if (slot - this.lastPruneSlot >= 1000 / SLOT_MS) this.prune(slot);
    }
    b.requests++;
    if (r.status >= 500 && r.status <= 599) b.errors++;
    const i = bucketIndex(r.durationMs);
    b.histogram.set(i, (b.histogram.get(i) ?? 0) + 1);
  }

  window(ref: ServiceRef, release: number, sinceMs: number, untilMs: number): WindowFigures {
    return this.sum([this.byRelease.get(key(ref.project, ref.service, ref.env, release))], sinceMs, untilMs);
  }

  /** Every release of the service together (alert rules judge the service, whichever release answered). */
  serviceWindow(ref: ServiceRef, sinceMs: number, untilMs: number): WindowFigures {
    const prefix = key(ref.project, ref.service, ref.env, 0).replace(/0$/, '');
    return this.sum([...this.byRelease].filter(([k]) => k.startsWith(prefix)).map(([, slots]) => slots), sinceMs, untilMs);
  }

  private sum(releases: Array<Map<number, Slot> | undefined>, sinceMs: number, untilMs: number): WindowFigures {
    const from = Math.round(sinceMs / SLOT_MS);
    const to = Math.round(untilMs / SLOT_MS);
    let requests = 0;
    let errors = 0;
    const histogram = emptyHistogram();
    for (const slots of releases) {
      if (!slots) continue;
      for (const [s, b] of slots) {
        if (s < from || s >= to) continue;
        requests += b.requests;
        errors += b.errors;
        for (const [i, n] of b.histogram) histogram[i]! += n;
      }
    }
    return figures(requests, errors, quantile(histogram, 0.99));
  }

  private prune(nowSlot: number): void {
    this.lastPruneSlot = nowSlot;
    const oldest = nowSlot - this.retentionSlots;
    for (const [k, slots] of this.byRelease) {
      for (const s of slots.keys()) if (s < oldest) slots.delete(s);
      if (slots.size === 0) this.byRelease.delete(k);
    }
  }
}
