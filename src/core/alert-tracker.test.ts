import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IDLE_TRACKER, trackAlert, type AlertTracker } from './alert-tracker';

/** Feeds observations one second apart; returns the transitions by second. */
function run(observations: Array<boolean | null>, forMs: number, clearForMs: number): string[] {
  let t: AlertTracker = IDLE_TRACKER;
  const out: string[] = [];
  observations.forEach((b, i) => {
    const r = trackAlert(t, b, i * 1000, forMs, clearForMs);
    t = r.tracker;
    if (r.transition) out.push(`${r.transition}@${i}`);
  });
  return out;
}

test('fires once the condition has held for `for`, resolves once it has been gone for `clear_for`', () => {
  const T = true, F = false;
  assert.deepEqual(run([T, T, T, T, T, F, F, F, F], 3000, 2000), ['fire@3', 'resolve@7']);
});

test('a break in the condition restarts the wait (no firing on a flapping value)', () => {
  const T = true, F = false;
  assert.deepEqual(run([T, T, F, T, T, F, T, T, T, T], 3000, 2000), ['fire@9']);
});

test('a short return of the condition while firing restarts the clear wait (no flapping resolve)', () => {
  const T = true, F = false;
  assert.deepEqual(run([T, F, T, F, F, T, F, F, F], 0, 2000), ['fire@0', 'resolve@8']);
});

test('unknown observations neither break nor confirm a condition', () => {
  const T = true, F = false, U = null;
  // Held since 0, confirmed only at 5; gone since 6, confirmed gone only at 10.
  assert.deepEqual(run([T, U, U, U, U, T, F, U, U, U, F, F], 1000, 1000), ['fire@5', 'resolve@10']);
});

test('for: 0 fires at the first breach and clear_for: 0 resolves at the first clear observation', () => {
  assert.deepEqual(run([false, true, false], 0, 0), ['fire@1', 'resolve@2']);
});
