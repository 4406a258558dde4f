import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecentRequests } from './recent-requests';
import type { RequestRecord } from './request-record';

const rec = (i: number, o: Partial<RequestRecord> = {}): RequestRecord => ({
  project: 'shop', service: 'web', env: 'production', at: i, requestId: `r${i}`, release: 1, replica: null,
  method: 'GET', path: '/', route: '/', status: 200, bytes: 1, durationMs: 1, upstreamMs: 1, clientIp: '127.0.0.1', termination: '--', ...o,
});
const web = { project: 'shop', service: 'web', env: 'production' };
const fiveXX = { classes: [5], codes: [] };

test('a bounded ring per service, newest first', () => {
  const recent = new RecentRequests(3);
  for (let i = 1; i <= 5; i++) recent.add(rec(i));
  recent.add(rec(6, { service: 'api' }));
  const found = recent.find(web, { limit: 10 });
  assert.deepEqual(found.requests.map((r) => r.requestId), ['r5', 'r4', 'r3']);
  assert.equal(found.retained, 3);
  assert.deepEqual(recent.find({ ...web, service: 'api' }, { limit: 10 }).requests.map((r) => r.requestId), ['r6']);
  assert.deepEqual(recent.find({ ...web, env: 'staging' }, { limit: 10 }), { requests: [], retained: 0 });
  assert.throws(() => new RecentRequests(0));
});

test('filters: slow, status (5xx: --errors), path prefix, limit', () => {
  const recent = new RecentRequests(100);
  recent.add(rec(1, { durationMs: 1200 }));
  recent.add(rec(2, { status: 500, path: '/api/x' }));
  recent.add(rec(3, { status: 404, path: '/api/y' }));
  recent.add(rec(4, { status: 503, durationMs: 1500, path: '/other' }));
  recent.add(rec(5, { path: '/api/z' }));
  const ids = (f: Parameters<RecentRequests['find']>[1]) => recent.find(web, f).requests.map((r) => r.requestId);
  assert.deepEqual(ids({ slowMs: 1000, limit: 10 }), ['r4', 'r1']);
  assert.deepEqual(ids({ status: fiveXX, limit: 10 }), ['r4', 'r2'], '404 is a client error, not counted');
  assert.deepEqual(ids({ pathPrefix: '/api', limit: 10 }), ['r5', 'r3', 'r2']);
  assert.deepEqual(ids({ pathPrefix: '/api', status: fiveXX, limit: 10 }), ['r2']);
  assert.deepEqual(ids({ limit: 2 }), ['r5', 'r4']);
});

test('status filter: classes and codes together, a request the client left (-1) in none, the limit counts matches only', () => {
  const recent = new RecentRequests(100);
  const statuses = [200, 404, 500, 429, -1, 503, 301, 404, 502];
  statuses.forEach((status, i) => recent.add(rec(i + 1, { status })));
  const ids = (status: { classes: number[]; codes: number[] }, limit = 100) => recent.find(web, { status, limit }).requests.map((r) => r.status);
  assert.deepEqual(ids({ classes: [4], codes: [] }), [404, 429, 404]);
  assert.deepEqual(ids({ classes: [], codes: [404, 500] }), [404, 500, 404]);
  assert.deepEqual(ids({ classes: [5], codes: [404] }), [502, 404, 503, 500, 404]);
  assert.deepEqual(ids({ classes: [4, 5], codes: [] }, 2), [502, 404], 'newest first, stops at the limit');
  assert.deepEqual(ids({ classes: [1, 2, 3, 4, 5], codes: [] }).length, statuses.length - 1, 'only the request without an answer is left out');
});
