/** Request input bounds (issue 18, item 6 for API bodies): refused before zod, naming the field and the limit. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSlipwayError } from '../core/errors';
import { notificationTargetBody, secretsChangeBody } from '../core/contract/requests';
import { INPUT_LIMITS, parseInput } from './parse-body';

function refusal(fn: () => unknown): { message: string; details: Array<{ path?: string; message: string }> } {
  try {
    fn();
  } catch (err) {
    assert.ok(isSlipwayError(err) && err.code === 'SLW_BAD_REQUEST', String(err));
    return { message: err.message, details: err.details };
  }
  assert.fail('expected a refusal');
}

/** CPU time of one call: what holds the event loop. */
function cpuMs(fn: () => unknown): number {
  const c0 = process.cpuUsage();
  try {
    fn();
  } catch {
    // refusals are expected
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

test('lists and maps over the input limits are refused naming the field, before zod walks them', () => {
  const events = Array.from({ length: 100_000 }, () => 'nope');
  const r = refusal(() => parseInput(notificationTargetBody, { url: 'https://hooks.example.com', events }, 'notification target'));
  assert.deepEqual(r.details, [{ path: 'events', message: `must have at most ${INPUT_LIMITS.items} items (got 100000)` }]);
  const set = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`K${i}`, 'secret-value']));
  const s = refusal(() => parseInput(secretsChangeBody, { set }, 'secrets change'));
  assert.deepEqual(s.details, [{ path: 'set', message: `must have at most ${INPUT_LIMITS.items} entries (got 5000)` }]);
  assert.ok(!s.message.includes('secret-value'), 'values are never quoted');
  let deep: unknown = 1;
  for (let i = 0; i < 50; i++) deep = { a: deep };
  assert.match(refusal(() => parseInput(secretsChangeBody, { set: deep }, 'secrets change')).details[0]!.message, /nesting limit exceeded/);
  const wide = Array.from({ length: 20 }, () => Array.from({ length: 900 }, () => 1));
  assert.match(refusal(() => parseInput(secretsChangeBody, { unset: wide }, 'secrets change')).details[0]!.message, /size limit exceeded: more than 10000 values/);
});

test('a body with many wrong items reports 20 of them and a count, within the event-loop bound', () => {
  const events = Array.from({ length: INPUT_LIMITS.items }, () => 'nope');
  const body = { url: 'https://hooks.example.com', events };
  const r = refusal(() => parseInput(notificationTargetBody, body, 'notification target'));
  assert.equal(r.details.length, 20);
  assert.match(r.message, /; and 980 more$/);
  for (let i = 0; i < 5; i++) cpuMs(() => parseInput(notificationTargetBody, body, 'x')); // warm-up
  const worst = Math.max(...Array.from({ length: 5 }, () => cpuMs(() => parseInput(notificationTargetBody, body, 'x'))));
  assert.ok(worst < 50, `${worst.toFixed(1)} ms of CPU for ${INPUT_LIMITS.items} wrong items (bound 50 ms)`);
});
