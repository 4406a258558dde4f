/**
 * Pure rolling-update planner. Given how many replicas of the target release are
 * already serving and how many old ones remain, it returns the batches that take
 * the service to `desired` replicas of the target while honouring
 *   max_surge:       at most desired + maxSurge replicas exist at once;
 *   max_unavailable: at least desired - maxUnavailable replicas serve at once.
 * The engine executes each batch: retire `retireBefore` old replicas, start `start`
 * new ones and wait for readiness, then retire `retireAfter` old ones.
 */
export interface RolloutInput {
  desired: number;
  /** Target-release replicas already serving. */
  targetServing: number;
  /** Replicas of other releases still serving. */
  oldServing: number;
  maxSurge: number;
  maxUnavailable: number;
}

export interface RolloutBatch {
  retireBefore: number;
  start: number;
  retireAfter: number;
}

export function planRollout(input: RolloutInput): RolloutBatch[] {
  const { desired } = input;
  const surge = Math.max(0, input.maxSurge);
  const unavailable = Math.max(0, input.maxUnavailable);
  if (surge + unavailable < 1) throw new Error('maxSurge + maxUnavailable must be at least 1');

  let target = input.targetServing;
  let old = input.oldServing;
  const batches: RolloutBatch[] = [];

  // Too many target replicas already (scale down): retire the surplus of the target itself is
  // not this planner's business; it only retires old ones. Extra old replicas beyond what keeps
  // capacity at `desired` are retired up front.
  const surplusOld = Math.max(0, target + old - desired - surge);
  if (surplusOld > 0 && target >= desired) {
    batches.push({ retireBefore: 0, start: 0, retireAfter: old });
    return batches;
  }

  while (target < desired) {
    const serving = target + old;
    // How many old replicas we may take away before starting, keeping >= desired - unavailable.
    const retireBefore = Math.min(old, Math.max(0, serving - (desired - unavailable)));
    const afterRetire = serving - retireBefore;
    // How many we may start without exceeding desired + surge.
    const room = desired + surge - afterRetire;
    const start = Math.min(desired - target, Math.max(0, room));
    if (start === 0) {
      // Capacity is pinned (e.g. surge 0 and nothing may be unavailable yet): free one slot.
      if (old === 0) break;
      batches.push({ retireBefore: 1, start: 0, retireAfter: 0 });
      old -= 1;
      continue;
    }
    old -= retireBefore;
    target += start;
    // Once the new ones serve, retire old replicas down to the desired total.
    const retireAfter = Math.min(old, Math.max(0, target + old - desired));
    old -= retireAfter;
    batches.push({ retireBefore, start, retireAfter });
  }
  if (old > 0) batches.push({ retireBefore: 0, start: 0, retireAfter: old });
  return batches;
}
