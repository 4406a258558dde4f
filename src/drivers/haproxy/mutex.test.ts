import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMutex } from './mutex';

test('runs one function at a time, in call order, and survives a failure', async () => {
  const mutex = createMutex();
  const events: string[] = [];
  const job = (id: string, ms: number, fail = false) =>
    mutex(async () => {
      events.push(`start ${id}`);
      await sleep(ms);
      events.push(`end ${id}`);
      if (fail) throw new Error(id);
      return id;
    });
  const results = await Promise.allSettled([job('a', 30), job('b', 5, true), job('c', 1)]);
  assert.deepEqual(events, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
});
