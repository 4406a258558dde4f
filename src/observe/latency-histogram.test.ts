import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketIndex, emptyHistogram, HISTOGRAM_SIZE, LATENCY_BOUNDS_MS, mergeInto, quantile } from './latency-histogram';

test('bounds: ten per decade from 1 ms to 80 s, strictly increasing, each step at most 25 % (log scale)', () => {
  assert.equal(LATENCY_BOUNDS_MS.length, 50);
  assert.equal(LATENCY_BOUNDS_MS[0], 1);
  assert.equal(LATENCY_BOUNDS_MS.at(-1), 80_000);
  assert.deepEqual(LATENCY_BOUNDS_MS.slice(10, 20), [10, 12, 15, 20, 25, 30, 40, 50, 60, 80]);
  for (let i = 1; i < LATENCY_BOUNDS_MS.length; i++) {
    const ratio = LATENCY_BOUNDS_MS[i]! / LATENCY_BOUNDS_MS[i - 1]!;
    assert.ok(ratio > 1 && ratio <= 1.34, `step ${i}: ${ratio}`);
  }
  assert.equal(HISTOGRAM_SIZE, 51);
});

test('bucketIndex: the first bucket whose upper bound is >= the value; beyond 80 s the overflow bucket', () => {
  assert.equal(bucketIndex(0), 0);
  assert.equal(bucketIndex(1), 0);
  assert.equal(bucketIndex(1.1), 1);
  assert.equal(bucketIndex(2), 3);
  assert.equal(bucketIndex(3), 5);
  assert.equal(bucketIndex(301), LATENCY_BOUNDS_MS.indexOf(400));
  assert.equal(bucketIndex(80_000), 49);
  assert.equal(bucketIndex(80_001), 50);
  for (let ms = 0; ms < 90_000; ms += 7) {
    const i = bucketIndex(ms);
    assert.ok(i === 50 || ms <= LATENCY_BOUNDS_MS[i]!);
    assert.ok(i === 0 || ms > LATENCY_BOUNDS_MS[i - 1]!);
  }
});

test('quantile: the upper bound of the bucket holding the rank; within one bucket of the truth', () => {
  assert.equal(quantile(emptyHistogram(), 0.5), null);
  const h = emptyHistogram();
  const values: number[] = [];
  // 1000 fast (0–9 ms), 15 slow around 300 ms: p99 is among the slow ones.
  for (let i = 0; i < 1000; i++) values.push(i % 10);
  for (let i = 0; i < 15; i++) values.push(300 + i);
  for (const v of values) h[bucketIndex(v)]!++;
  const sorted = [...values].sort((a, b) => a - b);
  for (const q of [0.5, 0.95, 0.99, 1]) {
    const truth = sorted[Math.ceil(q * sorted.length) - 1]!;
    const estimate = quantile(h, q)!;
    assert.ok(estimate >= truth, `q${q}: ${estimate} >= ${truth}`);
    assert.ok(Math.abs(bucketIndex(estimate) - bucketIndex(truth)) <= 1, `q${q}: ${estimate} within a bucket of ${truth}`);
  }
  assert.equal(quantile(h, 0.99), 400);
  const over = emptyHistogram();
  over[50] = 3;
  assert.equal(quantile(over, 0.5), 80_000);
});

test('mergeInto adds bucket by bucket', () => {
  const a = emptyHistogram();
  const b = emptyHistogram();
  a[3] = 2;
  b[3] = 5;
  b[10] = 1;
  assert.equal(mergeInto(a, b), a);
  assert.equal(a[3], 7);
  assert.equal(a[10], 1);
  assert.equal(a.reduce((x, y) => x + y, 0), 8);
});
