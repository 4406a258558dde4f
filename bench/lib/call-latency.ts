/**
 * Latency of one API call made sequentially (no other client), as a dashboard or CLI user
 * sees it on an otherwise idle control plane.
 */

export interface CallLatency {
  medianMs: number;
  p99Ms: number;
  maxMs: number;
}

/** The q-quantile of ascending samples, nearest rank (with fewer than 100 samples, p99 is the maximum). */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) throw new Error('quantile of no samples');
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Runs `call` once to warm up (connection, caches), then `runs` times one after the other. */
export async function timeCall(runs: number, call: () => Promise<unknown>): Promise<CallLatency> {
  await call();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await call();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  const r = (v: number) => Math.round(v * 10) / 10;
  return { medianMs: r(quantile(samples, 0.5)), p99Ms: r(quantile(samples, 0.99)), maxMs: r(samples.at(-1)!) };
}
