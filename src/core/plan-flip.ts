/**
 * Pure planning of blue-green switches at the edge: the weight changes of a flip, and
 * whether a rollback can be a flip back to the warm set or must be a normal rollout.
 */
import type { EdgeServerState } from './ports/edge';
import { isExpired, type WarmSet } from './warm-set';

export interface WeightChange {
  name: string;
  weight: number;
}

/**
 * The weights that move all new requests from `down` to `up`, in the order the edge applies
 * them: every raise before any cut, so there is no instant with no server in rotation
 * (the worst case in between is both sets taking requests for microseconds, never none).
 */
export function flipWeights(up: string[], down: string[]): WeightChange[] {
  const overlap = up.find((n) => down.includes(n));
  if (overlap) throw new Error(`server ${overlap} cannot go both up and down in one flip`);
  return [...up.map((name) => ({ name, weight: 1 })), ...down.map((name) => ({ name, weight: 0 }))];
}

/** A replica of the service as the engine sees it, joined with its edge server (if any). */
export interface FlipCandidate {
  name: string;
  release: number;
  running: boolean;
  /** Edge state of its server; null when the edge has no server for it. */
  edge: EdgeServerState | null;
}

export type FlipBackPlan =
  | { flip: true; up: string[]; down: string[] }
  | { flip: false; reason: string };

/**
 * A rollback to `target` is only a flip back when the warm set is that release, its window
 * is still open, and the whole set (`desired` replicas) is running on standby at the edge.
 * Anything less is a normal rollback, and the reason says why.
 */
export function planFlipBack(input: { warm: WarmSet | null; target: number; desired: number; now: Date; replicas: FlipCandidate[] }): FlipBackPlan {
  const { warm, target } = input;
  if (!warm) return { flip: false, reason: 'no warm set is kept for this service' };
  if (warm.release !== target) return { flip: false, reason: `the warm set runs v${warm.release}, not v${target}` };
  if (isExpired(warm, input.now)) return { flip: false, reason: `the warm window of v${target} ended at ${warm.retireAt}` };
  const mine = input.replicas.filter((r) => r.release === target);
  const standby = mine.filter((r) => r.running && r.edge === 'standby');
  if (standby.length < input.desired) {
    const running = mine.filter((r) => r.running).length;
    return { flip: false, reason: `only ${standby.length} of the ${input.desired} warm replica(s) of v${target} are on standby at the edge (${running} running)` };
  }
  const down = input.replicas.filter((r) => r.release !== target && r.edge === 'ready').map((r) => r.name);
  return { flip: true, up: standby.map((r) => r.name), down };
}
