import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLocalDomain, nextAttemptAt, renewAt } from './renewal';

test('renewal is due at 2/3 of the lifetime', () => {
  assert.equal(renewAt('2026-01-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z'), '2026-03-02T00:00:00.000Z');
  assert.equal(renewAt('2026-01-01T00:00:00.000Z', '2026-01-01T00:01:30.000Z'), '2026-01-01T00:01:00.000Z');
});

test('retries back off: doubling from the first wait up to the cap', () => {
  const now = Date.parse('2026-01-01T00:00:00.000Z');
  const policy = { firstMs: 1000, maxMs: 10_000 };
  const waits = [1, 2, 3, 4, 5, 50].map((f) => Date.parse(nextAttemptAt(now, f, policy)) - now);
  assert.deepEqual(waits, [1000, 2000, 4000, 8000, 10_000, 10_000]);
});

test('local development names', () => {
  assert.ok(isLocalDomain('localhost'));
  assert.ok(isLocalDomain('app.localhost'));
  assert.ok(!isLocalDomain('localhost.example.com'));
  assert.ok(!isLocalDomain('app.example.com'));
});
