/**
 * Pure planning of a canary split at the edge. HAProxy balances by weight within one
 * backend (0–256 per server): a server's share of new requests is its weight over the sum.
 * With S stable and C canary replicas, a canary share of p % needs per-server weights a
 * (canary) and b (stable) with C·a / (C·a + S·b) = p / 100, i.e. a : b = p·S : (100 − p)·C.
 */
import type { WeightChange } from './plan-flip';

export const MAX_EDGE_WEIGHT = 256;

export interface CanarySplit {
  /** Weight of each canary server. */
  canary: number;
  /** Weight of each stable server. */
  stable: number;
  /** The canary share these weights really give, in percent (exact when the ratio fits in 0–256). */
  effectivePercent: number;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * Per-server weights for `percent` % of new requests to the canary set. The exact ratio is
 * used when it fits in 1–256 after reduction; otherwise the closest pair within 1–256, and
 * `effectivePercent` says what the split then is.
 */
export function canarySplit(percent: number, stableReplicas: number, canaryReplicas: number): CanarySplit {
  if (!Number.isInteger(percent) || percent < 1 || percent > 99) throw new Error(`canary weight must be a whole percent between 1 and 99, not ${percent}`);
  if (stableReplicas < 1 || canaryReplicas < 1) throw new Error('a canary split needs at least one stable and one canary replica');
  let a = percent * stableReplicas;
  let b = (100 - percent) * canaryReplicas;
  const g = gcd(a, b);
  a /= g;
  b /= g;
  if (a > MAX_EDGE_WEIGHT || b > MAX_EDGE_WEIGHT) {
    // The closest pair within 1–256: for each stable weight, the nearest canary weight.
    const share = (x: number, y: number) => (canaryReplicas * x) / (canaryReplicas * x + stableReplicas * y);
    let best = { a: 1, b: 1, err: Infinity };
    for (let y = 1; y <= MAX_EDGE_WEIGHT; y++) {
      const x = Math.min(MAX_EDGE_WEIGHT, Math.max(1, Math.round((y * a) / b)));
      const err = Math.abs(share(x, y) - percent / 100);
      if (err < best.err) best = { a: x, b: y, err };
    }
    ({ a, b } = best);
  }
  const effectivePercent = (100 * canaryReplicas * a) / (canaryReplicas * a + stableReplicas * b);
  return { canary: a, stable: b, effectivePercent: Math.round(effectivePercent * 100) / 100 };
}

/**
 * The one edge line of a step: canary servers first, then stable ones. No server goes to 0,
 * so the backend always has both sets in rotation while the line runs.
 */
export function stepWeights(canary: string[], stable: string[], split: CanarySplit): WeightChange[] {
  return [...canary.map((name) => ({ name, weight: split.canary })), ...stable.map((name) => ({ name, weight: split.stable }))];
}

/**
 * The abort line: stable servers back to weight 1 (raised first, so the backend is never
 * empty), canary servers to 0 (no new request; in-flight ones finish).
 */
export function abortWeights(canary: string[], stable: string[]): WeightChange[] {
  return [...stable.map((name) => ({ name, weight: 1 })), ...canary.map((name) => ({ name, weight: 0 }))];
}

/**
 * Canary replicas to start: enough that each carries no more than a stable replica would at
 * the largest step (ceil(replicas × max weight / 100)), at least 1. Fewer would overload the
 * canary at a 50 % step of a 4-replica service; more would spend memory on replicas that take
 * a small share of traffic.
 */
export function canaryReplicaCount(replicas: number, weights: number[]): number {
  const top = Math.max(...weights);
  return Math.max(1, Math.min(replicas, Math.ceil((replicas * top) / 100)));
}
