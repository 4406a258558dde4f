import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecentRequests } from './recent-requests';
import type { RequestRecord } from './request-record';

const rec = (i: number, o: Partial<RequestRecord> = {}): RequestRecord => ({
  project: 'shop', service: 'web', env: 'production', at: i, requestId: `r${i}`, release: 1, replica: null,
  method: 'GET', path: '/', route: '/', status: 200, bytes: 1, durationMs: 1, upstreamMs: 1, clientIp: '127.0.0.1', termination: '--', ...o,
});
const web = { project: 'shop', service: 'web', env: 'production' };

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

test('filters: slow, errors (5xx), path prefix, limit', () => {
  const recent = new RecentRequests(100);
  recent.add(rec(1, { durationMs: 1200 }));
  recent.add(rec(2, { status: 500, path: '/api/x' }));
  recent.add(rec(3, { status: 404, path: '/api/y' }));
  recent.add(rec(4, { status: 503, durationMs: 1500, path: '/other' }));
  recent.add(rec(5, { path: '/api/z' }));
  const ids = (f: Parameters<RecentRequests['find']>[1]) => recent.find(web, f).requests.map((r) => r.requestId);
  assert.deepEqual(ids({ slowMs: 1000, limit: 10 }), ['r4', 'r1']);
  assert.deepEqual(ids({ errorsOnly: true, limit: 10 }), ['r4', 'r2'], '404 is a client error, not counted');
  assert.deepEqual(ids({ pathPrefix: '/api', limit: 10 }), ['r5', 'r3', 'r2']);
  assert.deepEqual(ids({ pathPrefix: '/api', errorsOnly: true, limit: 10 }), ['r2']);
  assert.deepEqual(ids({ limit: 2 }), ['r5', 'r4']);
});
