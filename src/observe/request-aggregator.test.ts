import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketIndex } from './latency-histogram';
import { ALL_ROUTES } from '../core/request-metrics';
import { RequestAggregator, withRollups } from './request-aggregator';
import type { RequestRecord } from './request-record';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const rec = (o: Partial<RequestRecord> = {}): RequestRecord => ({
  project: 'shop', service: 'web', env: 'production', at: T0, requestId: 'r', release: 3, replica: 'shop-web-production-v3-abcdef',
  method: 'GET', path: '/users/1', route: '/users/:id', status: 200, bytes: 100, durationMs: 10, upstreamMs: 9, clientIp: '127.0.0.1', termination: '--', ...o,
});

test('per-minute buckets per service, env, release and route: counts by status class, bytes, durations, histogram', () => {
  const agg = new RequestAggregator();
  agg.add(rec());
  agg.add(rec({ status: 500, durationMs: 300, at: T0 + 59_999 }));
  agg.add(rec({ status: 404, bytes: 10 }));
  agg.add(rec({ status: -1, termination: 'CD' }));
  agg.add(rec({ at: T0 + 60_000 }));
  agg.add(rec({ release: null, replica: null, status: 503 }));
  agg.add(rec({ route: '/' }));
  agg.add(rec({ env: 'staging' }));
  const buckets = agg.drain();
  assert.equal(agg.size, 0, 'drained');
  assert.equal(buckets.length, 5);
  const main = buckets.find((b) => b.start === T0 / 1000 && b.release === 3 && b.route === '/users/:id' && b.env === 'production')!;
  assert.equal(main.span, 60);
  assert.equal(main.requests, 4);
  assert.deepEqual(main.statusCounts, [0, 1, 0, 1, 1], 'the aborted request has no class');
  assert.equal(main.bytes, 310);
  assert.equal(main.durationMsSum, 330);
  assert.equal(main.histogram[bucketIndex(10)], 3);
  assert.equal(main.histogram[bucketIndex(300)], 1);
  assert.ok(buckets.some((b) => b.start === T0 / 1000 + 60 && b.requests === 1), 'next minute');
  assert.ok(buckets.some((b) => b.release === null && b.statusCounts[4] === 1), 'no replica answered');
});

test('restore adds drained buckets back to what came in since', () => {
  const agg = new RequestAggregator();
  agg.add(rec());
  const drained = agg.drain();
  agg.add(rec({ status: 500 }));
  agg.restore(drained);
  const [b] = agg.drain();
  assert.equal(b!.requests, 2);
  assert.deepEqual(b!.statusCounts, [0, 1, 0, 0, 1]);
});

test('a flush writes the minutes, the per-service totals over routes, the hourly rollup of both and the 5-/15-minute rollups of the totals', () => {
  const agg = new RequestAggregator();
  agg.add(rec({ at: T0 + 60_000 }));
  agg.add(rec({ at: T0 + 120_000, status: 500, durationMs: 2000, route: '/' }));
  agg.add(rec({ at: T0 + 3_600_000 }));
  const minutes = agg.drain();
  const rows = withRollups(minutes);
  const pick = (span: number, route: string) => rows.filter((r) => r.span === span && r.route === route).sort((a, b) => a.start - b.start).map((r) => [r.start - T0 / 1000, r.requests]);
  assert.deepEqual(pick(60, '/users/:id'), [[60, 1], [3600, 1]]);
  assert.deepEqual(pick(60, '/'), [[120, 1]]);
  assert.deepEqual(pick(60, ALL_ROUTES), [[60, 1], [120, 1], [3600, 1]]);
  assert.deepEqual(pick(3600, '/users/:id'), [[0, 1], [3600, 1]]);
  assert.deepEqual(pick(3600, ALL_ROUTES), [[0, 2], [3600, 1]]);
  const hour = rows.find((r) => r.span === 3600 && r.route === ALL_ROUTES && r.start === T0 / 1000)!;
  assert.deepEqual(hour.statusCounts, [0, 1, 0, 0, 1]);
  assert.equal(hour.histogram.reduce((a, b) => a + b, 0), 2);
  assert.equal(hour.durationMsSum, 2010);
  assert.deepEqual(pick(3600, '/'), [[0, 1]]);
  // The series' 5- and 15-minute steps: the per-service totals only.
  assert.deepEqual(pick(300, ALL_ROUTES), [[0, 2], [3600, 1]]);
  assert.deepEqual(pick(900, ALL_ROUTES), [[0, 2], [3600, 1]]);
  assert.ok(!rows.some((r) => (r.span === 300 || r.span === 900) && r.route !== ALL_ROUTES), 'no 5- or 15-minute rows per route');
  assert.deepEqual(rows.find((r) => r.span === 900 && r.start === T0 / 1000)!.statusCounts, [0, 1, 0, 0, 1]);
  assert.equal(rows.length, 15);
  assert.equal(minutes.length, 3, 'the minutes themselves are not modified');
  assert.ok(minutes.every((m) => m.requests === 1 && m.span === 60));
});
