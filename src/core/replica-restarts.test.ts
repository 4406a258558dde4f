import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freeSlots, planRepairSlots } from './replica-restarts';

test('free slots: the lowest ones no replica holds; replicas without a slot hold none', () => {
  assert.deepEqual(freeSlots([], 3), [0, 1, 2]);
  assert.deepEqual(freeSlots([0, 2, undefined, null], 2), [1, 3]);
  assert.deepEqual(freeSlots([1], 0), []);
});

test('a repair fills the free slots, each the restart of the dead replica that held it (exit or OOM), else of nothing (removed)', () => {
  const plan = planRepairSlots({
    dead: [
      { name: 'c', slot: 2, exitCode: 137, oomKilled: true },
      { name: 'a', slot: 0, exitCode: 1 },
    ],
    taken: [1, 3],
    missing: 3,
    sick: [],
  });
  assert.deepEqual(plan.missing, [
    { slot: 0, reason: 'exited', exitCode: 1, replica: 'a' },
    { slot: 2, reason: 'oom_killed', exitCode: 137, replica: 'c' },
    { slot: 4, reason: 'removed', exitCode: null, replica: null },
  ]);
});

test('dead replicas without a slot (from before slots) fill the slots no dead replica held; dead ones beyond the missing count are no restart', () => {
  assert.deepEqual(
    planRepairSlots({ dead: [{ name: 'old', exitCode: 0 }, { name: 'b', slot: 1, exitCode: 2 }], taken: [], missing: 2, sick: [] }).missing,
    [
      { slot: 0, reason: 'exited', exitCode: 0, replica: 'old' },
      { slot: 1, reason: 'exited', exitCode: 2, replica: 'b' },
    ],
  );
  assert.deepEqual(planRepairSlots({ dead: [{ name: 'x', slot: 5, exitCode: 1 }], taken: [0, 1], missing: 0, sick: [] }).missing, []);
});

test('a sick replica\'s replacement takes its slot (unhealthy); one without a slot gets a free one', () => {
  const plan = planRepairSlots({ dead: [], taken: [0, 1, undefined], missing: 0, sick: [{ name: 's1', slot: 1, exitCode: null }, { name: 'legacy', exitCode: null }] });
  assert.deepEqual(plan.sick, [
    { slot: 1, reason: 'unhealthy', exitCode: null, replica: 's1' },
    { slot: 2, reason: 'unhealthy', exitCode: null, replica: 'legacy' },
  ]);
});
