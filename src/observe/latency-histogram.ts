/**
 * Latency histograms with fixed, log-scale bucket bounds: ten per decade (1, 1.2, 1.5, 2, 2.5,
 * 3, 4, 5, 6, 8 × 10^k ms, each about 25 % above the previous) from 1 ms to 80 s, plus an
 * overflow bucket. Fixed bounds make histograms of different minutes, replicas and releases
 * addable, which is what lets the store keep one per bucket and queries merge any range.
 *
 * A quantile is reported as the upper bound of the bucket holding it, so it is never below
 * the true value and never more than one bucket above it (≈ 25 %).
 *
 * The stored histograms are arrays indexed by bucket: these bounds must never change without
 * a migration of the stored rows.
 */
const MANTISSAS = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8];

/** Upper bounds (inclusive) in milliseconds; the last bucket (index BOUNDS_MS.length) has no bound. */
export const LATENCY_BOUNDS_MS: readonly number[] = Object.freeze(
  [1, 10, 100, 1000, 10_000].flatMap((decade) => MANTISSAS.map((m) => Math.round(m * decade * 10) / 10)),
);

/** Number of buckets of a histogram, the overflow bucket included. */
export const HISTOGRAM_SIZE = LATENCY_BOUNDS_MS.length + 1;

export function emptyHistogram(): number[] {
  return new Array<number>(HISTOGRAM_SIZE).fill(0);
}

/** The bucket of a duration: the first whose upper bound is ≥ ms (binary search). */
export function bucketIndex(ms: number): number {
  let lo = 0;
  let hi = LATENCY_BOUNDS_MS.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ms <= LATENCY_BOUNDS_MS[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Adds `from` into `into` (same size), in place; returns `into`. */
export function mergeInto(into: number[], from: readonly number[]): number[] {
  for (let i = 0; i < HISTOGRAM_SIZE; i++) into[i]! += from[i] ?? 0;
  return into;
}

/**
 * The q-quantile (0 < q ≤ 1) as the upper bound of the bucket that holds the
 * ceil(q × n)-th smallest value; null for an empty histogram. The overflow bucket
 * reports the largest bound (a lower bound of the truth, the only figure we have).
 */
export function quantile(histogram: readonly number[], q: number): number | null {
  let n = 0;
  for (const c of histogram) n += c;
  if (n === 0) return null;
  const rank = Math.max(1, Math.ceil(q * n));
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i]!;
    if (seen >= rank) return LATENCY_BOUNDS_MS[Math.min(i, LATENCY_BOUNDS_MS.length - 1)]!;
  }
  return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1]!;
}
