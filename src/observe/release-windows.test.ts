import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReleaseWindows } from './release-windows';

const ref = { project: 'p', service: 'web', env: 'production' };
const req = (release: number | null, status: number, durationMs: number) => ({ ...ref, release, status, durationMs });

test('counts requests, 5xx and p99 per release over 250 ms slots of arrival', () => {
  let now = 1_000_000;
  const w = new ReleaseWindows({ now: () => now });
  for (let i = 0; i < 80; i++) w.record(req(1, 200, 10));
  for (let i = 0; i < 20; i++) w.record(req(2, i < 4 ? 500 : 200, i === 0 ? 900 : 50));
  w.record(req(null, 503, 1));
  now += 1000;
  w.record(req(2, 500, 5)); // in the next second: outside a window that ends here
  assert.deepEqual(w.window(ref, 1, 1_000_000, 1_001_000), { requests: 80, errors: 0, errorRate: 0, p99Ms: 10 });
  const canary = w.window(ref, 2, 1_000_000, 1_001_000);
  assert.deepEqual([canary.requests, canary.errors, canary.errorRate], [20, 4, 0.2]);
  assert.equal(canary.p99Ms, 1000); // 900 ms falls in the (800, 1000] bucket
  // Consecutive windows chain: the next one starts where this ended and sees the later request only.
  assert.deepEqual(w.window(ref, 2, 1_001_000, 1_002_000), { requests: 1, errors: 1, errorRate: 1, p99Ms: 5 });
  assert.deepEqual(w.window({ ...ref, env: 'staging' }, 2, 0, 2_000_000), { requests: 0, errors: 0, errorRate: null, p99Ms: null });
});

test('a window starts and ends within a slot of what was asked', () => {
  let now = 2_000_000;
  const w = new ReleaseWindows({ now: () => now });
  for (let t = 0; t < 2000; t += 50) {
    now = 2_000_000 + t;
    w.record(req(1, 200, 3));
  }
  // 1.6 s of a 2 s stream: 32 of the 40 requests, give or take a slot's worth (5).
  const n = w.window(ref, 1, 2_000_300, 2_001_900).requests;
  assert.ok(Math.abs(n - 32) <= 5, String(n));
});

test('slots older than the retention are pruned', () => {
  let now = 0;
  const w = new ReleaseWindows({ now: () => now, retentionMs: 5000 });
  w.record(req(1, 200, 1));
  now = 10_000;
  w.record(req(1, 200, 1));
  assert.equal(w.window(ref, 1, 0, 20_000).requests, 1);
});
