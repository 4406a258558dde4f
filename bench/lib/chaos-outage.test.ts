import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failureAt, quantile, recoveredAt, recoveryMs, windowFigures, type RequestRecord } from './chaos-outage';

const ok = (sentAt: number, cls: 'main' | 'long' = 'main'): RequestRecord => ({ cls, sentAt, endAt: sentAt + 5, ok: true });
const fail = (sentAt: number, endAt: number, kind: string, cls: 'main' | 'long' = 'main'): RequestRecord => ({ cls, sentAt, endAt, ok: false, kind });

test('outage runs from the first to the last failure of the window, relative to the fault', () => {
  const records = [ok(900), ok(1000), fail(1100, 1102, 'ECONNREFUSED'), fail(1300, 1301, 'non2xx:503'), fail(1500, 1600, 'ECONNRESET', 'long'), ok(1700), ok(2500)];
  const w = windowFigures(records, 1000, 1000, 3000);
  assert.equal(w.requests, 5);
  assert.equal(w.failed, 2);
  assert.equal(w.longRequests, 1);
  assert.equal(w.longFailed, 1);
  assert.deepEqual(w.errors, { ECONNREFUSED: 1, 'non2xx:503': 1, ECONNRESET: 1 });
  assert.equal(w.firstFailureMs, 102);
  assert.equal(w.lastFailureMs, 600);
  assert.equal(w.outageMs, 498);
});

test('a timeout counts when its request was sent; other failures when they were recorded', () => {
  assert.equal(failureAt(fail(1000, 6000, 'timeout')), 1000);
  assert.equal(failureAt(fail(1000, 1200, 'ECONNRESET')), 1200);
  const w = windowFigures([fail(1000, 6000, 'timeout'), fail(1400, 1410, 'ECONNREFUSED')], 900, 900, 2000);
  assert.equal(w.failed, 2);
  assert.equal(w.outageMs, 410);
});

test('no failures: zero counts and null outage; one failure: outage 0', () => {
  const none = windowFigures([ok(1000), ok(1100)], 1000, 1000, 2000);
  assert.equal(none.failed, 0);
  assert.equal(none.outageMs, null);
  assert.equal(none.firstFailureMs, null);
  assert.equal(windowFigures([fail(1500, 1500, 'ECONNREFUSED')], 1000, 1000, 2000).outageMs, 0);
});

test('every request counts in exactly one window', () => {
  const records = [ok(999), fail(990, 1000, 'ECONNRESET'), ok(1000), fail(1999, 2000, 'ECONNREFUSED'), ok(2000)];
  const a = windowFigures(records, 0, 0, 1000);
  const b = windowFigures(records, 1000, 1000, 2000);
  const c = windowFigures(records, 2000, 2000, 3000);
  assert.equal(a.requests + b.requests + c.requests, records.length);
  assert.equal(a.failed + b.failed + c.failed, 2);
  assert.equal(b.failed, 1); // the reset at 1000 belongs to the second window
  assert.equal(c.failed, 1);
});

test('recovery is the start of the final run of passing checks after the fault', () => {
  const checks = [
    { at: 500, ok: true },
    { at: 1000, ok: true }, // not yet noticed
    { at: 1250, ok: false },
    { at: 1500, ok: true }, // flapping
    { at: 1750, ok: false },
    { at: 2000, ok: true },
    { at: 2250, ok: true },
  ];
  assert.equal(recoveredAt(checks, 1000), 2000);
  assert.equal(recoveryMs(checks, 1000, null), 1000);
  assert.equal(recoveryMs(checks, 1000, 1600), 1600, 'a later failed request extends the recovery');
  assert.equal(recoveredAt([...checks, { at: 2500, ok: false }], 1000), null, 'not back at the end');
  assert.equal(recoveredAt([{ at: 500, ok: true }], 1000), null, 'no check after the fault');
  assert.equal(recoveryMs([{ at: 2500, ok: false }], 1000, null), null);
  assert.equal(recoveredAt([{ at: 1100, ok: true }], 1000), 1100, 'never inconsistent: back at the first check');
});

test('quantile by nearest rank', () => {
  assert.equal(quantile([], 0.99), 0);
  assert.equal(quantile([5, 1, 3, 2, 4], 0.5), 3);
  assert.equal(quantile([5, 1, 3, 2, 4], 0.99), 5);
});
