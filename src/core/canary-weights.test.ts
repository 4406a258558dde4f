import { test } from 'node:test';
import assert from 'node:assert/strict';
import { abortWeights, canaryReplicaCount, canarySplit, stepWeights, MAX_EDGE_WEIGHT } from './canary-weights';

test('canarySplit gives the exact share when the reduced ratio fits in 1–256', () => {
  assert.deepEqual(canarySplit(10, 2, 1), { canary: 2, stable: 9, effectivePercent: 10 });
  assert.deepEqual(canarySplit(50, 2, 1), { canary: 2, stable: 1, effectivePercent: 50 });
  assert.deepEqual(canarySplit(20, 1, 1), { canary: 1, stable: 4, effectivePercent: 20 });
  assert.deepEqual(canarySplit(50, 4, 2), { canary: 2, stable: 1, effectivePercent: 50 });
  for (const p of [1, 5, 10, 25, 33, 50, 75, 99]) {
    for (const s of [1, 2, 3, 7, 100]) {
      // The canary count the engine starts for that step (canaryReplicaCount).
      for (const c of [canaryReplicaCount(s, [p])]) {
        const split = canarySplit(p, s, c);
        assert.ok(split.canary >= 1 && split.canary <= MAX_EDGE_WEIGHT && split.stable >= 1 && split.stable <= MAX_EDGE_WEIGHT, `${p}% ${s}/${c}: ${JSON.stringify(split)}`);
        // Within half a percent point even when the ratio had to be scaled down.
        assert.ok(Math.abs(split.effectivePercent - p) <= 0.5, `${p}% of ${s} stable / ${c} canary gave ${split.effectivePercent}`);
      }
    }
  }
});

test('canarySplit scales a ratio that does not fit and reports the share it really gives', () => {
  const split = canarySplit(1, 100, 1); // exact would be 100 : 99
  assert.deepEqual([split.canary, split.stable], [100, 99]);
  const close = canarySplit(33, 100, 1); // 3300 : 67 does not fit; 197 : 4 is 33.0 %
  assert.ok(close.canary <= 256 && Math.abs(close.effectivePercent - 33) < 0.1, JSON.stringify(close));
  const tight = canarySplit(99, 100, 1); // one canary cannot take 99 % from 100 replicas at weight 1 each
  assert.deepEqual([tight.canary, tight.stable], [256, 1]);
  assert.equal(tight.effectivePercent, 71.91);
});

test('canarySplit refuses weights outside 1–99 and empty sets', () => {
  assert.throws(() => canarySplit(0, 2, 1));
  assert.throws(() => canarySplit(100, 2, 1));
  assert.throws(() => canarySplit(10.5, 2, 1));
  assert.throws(() => canarySplit(10, 0, 1));
});

test('a step line lists the canary first and never sets a server to 0; the abort line raises stable before cutting the canary', () => {
  const split = canarySplit(10, 2, 1);
  assert.deepEqual(stepWeights(['c1'], ['s1', 's2'], split), [
    { name: 'c1', weight: 2 },
    { name: 's1', weight: 9 },
    { name: 's2', weight: 9 },
  ]);
  assert.deepEqual(abortWeights(['c1'], ['s1', 's2']), [
    { name: 's1', weight: 1 },
    { name: 's2', weight: 1 },
    { name: 'c1', weight: 0 },
  ]);
});

test('canary replicas: enough for the largest step, at least 1, at most the replicas', () => {
  assert.equal(canaryReplicaCount(2, [10, 50]), 1);
  assert.equal(canaryReplicaCount(4, [10, 50]), 2);
  assert.equal(canaryReplicaCount(1, [5]), 1);
  assert.equal(canaryReplicaCount(3, [99]), 3);
  assert.equal(canaryReplicaCount(10, [10, 25]), 3);
});
