import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapLimit } from './map-limit';

test('never more than `limit` calls in flight; results in input order', async () => {
  let inFlight = 0;
  let peak = 0;
  const out = await mapLimit([50, 10, 30, 0, 20, 5, 15], 3, async (ms, i) => {
    peak = Math.max(peak, ++inFlight);
    await new Promise((r) => setTimeout(r, ms));
    inFlight--;
    return `${i}:${ms}`;
  });
  assert.equal(peak, 3);
  assert.deepEqual(out, ['0:50', '1:10', '2:30', '3:0', '4:20', '5:5', '6:15']);
});

test('an empty list and a limit above the length', async () => {
  assert.deepEqual(await mapLimit([], 4, async () => 1), []);
  assert.deepEqual(await mapLimit([1, 2], 10, async (n) => n * 2), [2, 4]);
});

test('a rejection rejects the whole map; a bad limit is refused', async () => {
  await assert.rejects(mapLimit([1, 2, 3], 2, async (n) => { if (n === 2) throw new Error('two'); return n; }), /two/);
  await assert.rejects(mapLimit([1], 0, async (n) => n), /concurrency must be a whole number/);
});
