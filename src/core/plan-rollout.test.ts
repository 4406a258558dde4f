import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planRollout, type RolloutInput } from './plan-rollout';

/** Walks a plan and checks the surge/unavailable bounds at every point. */
function simulate(input: RolloutInput) {
  const plan = planRollout(input);
  let target = input.targetServing;
  let old = input.oldServing;
  let maxTotal = target + old;
  let minServing = target + old;
  for (const b of plan) {
    old -= b.retireBefore;
    minServing = Math.min(minServing, target + old);
    maxTotal = Math.max(maxTotal, target + old + b.start);
    target += b.start;
    old -= b.retireAfter;
    minServing = Math.min(minServing, target + old);
    assert.ok(old >= 0, 'never retires more old replicas than exist');
  }
  return { plan, target, old, maxTotal, minServing };
}

test('default rolling (surge 1, unavailable 0) replaces one at a time with no capacity loss', () => {
  const r = simulate({ desired: 2, targetServing: 0, oldServing: 2, maxSurge: 1, maxUnavailable: 0 });
  assert.deepEqual(r.plan, [
    { retireBefore: 0, start: 1, retireAfter: 1 },
    { retireBefore: 0, start: 1, retireAfter: 1 },
  ]);
  assert.equal(r.target, 2);
  assert.equal(r.old, 0);
  assert.equal(r.maxTotal, 3);
  assert.equal(r.minServing, 2);
});

test('first deploy starts everything allowed by surge in one batch', () => {
  const r = simulate({ desired: 3, targetServing: 0, oldServing: 0, maxSurge: 1, maxUnavailable: 0 });
  assert.equal(r.target, 3);
  assert.ok(r.plan.length >= 1);
});

test('surge 0 with unavailable 1 replaces in place', () => {
  const r = simulate({ desired: 3, targetServing: 0, oldServing: 3, maxSurge: 0, maxUnavailable: 1 });
  assert.equal(r.target, 3);
  assert.equal(r.old, 0);
  assert.equal(r.maxTotal, 3);
  assert.equal(r.minServing, 2);
});

test('bounds hold across many shapes', () => {
  for (let desired = 1; desired <= 6; desired++)
    for (let oldServing = 0; oldServing <= 7; oldServing++)
      for (let targetServing = 0; targetServing <= desired; targetServing++)
        for (let maxSurge = 0; maxSurge <= 3; maxSurge++)
          for (let maxUnavailable = 0; maxUnavailable <= 3; maxUnavailable++) {
            if (maxSurge + maxUnavailable === 0) continue;
            const input = { desired, targetServing, oldServing, maxSurge, maxUnavailable };
            const r = simulate(input);
            const label = JSON.stringify(input);
            assert.equal(r.target, desired, label);
            assert.equal(r.old, 0, label);
            const startTotal = targetServing + oldServing;
            assert.ok(r.maxTotal <= Math.max(startTotal, desired + maxSurge), `surge bound ${label}`);
            assert.ok(r.minServing >= Math.min(startTotal, desired - maxUnavailable), `unavailable bound ${label}`);
          }
});

test('scale down retires surplus old replicas', () => {
  const r = simulate({ desired: 2, targetServing: 2, oldServing: 3, maxSurge: 1, maxUnavailable: 0 });
  assert.equal(r.old, 0);
  assert.equal(r.target, 2);
});

test('refuses a plan that could never progress', () => {
  assert.throws(() => planRollout({ desired: 1, targetServing: 0, oldServing: 1, maxSurge: 0, maxUnavailable: 0 }));
});
