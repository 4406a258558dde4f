import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixedLogTime, formatLogCursor, LogCursorTracker, parseLogCursor } from './log-cursor';
import { SlipwayError } from './errors';

const t = (n: number) => `2025-01-01T00:00:0${n}.000000000Z`;

test('cursors count lines that share a time and do not move back for a straggler', () => {
  const c = new LogCursorTracker();
  assert.equal(c.next(t(1)), `${t(1)}~1`);
  assert.equal(c.next(t(1)), `${t(1)}~2`);
  assert.equal(c.next(t(3)), `${t(3)}~1`);
  assert.equal(c.next(t(2)), `${t(3)}~1`, 'an older line arriving late keeps the cursor');
  assert.equal(c.next(t(3)), `${t(3)}~2`);
});

test('a resume drops what the client had: older lines and the first n at the cursor time', () => {
  const c = new LogCursorTracker(parseLogCursor(`${t(3)}~2`, 'Last-Event-ID'));
  assert.equal(c.next(t(2)), null);
  assert.equal(c.next(t(3)), null);
  assert.equal(c.next(t(3)), null);
  assert.equal(c.next(t(3)), `${t(3)}~3`, 'a third line at the same time is new');
  assert.equal(c.next(t(4)), `${t(4)}~1`);
});

test('replaying a stream from any of its ids yields exactly the rest', () => {
  const times = [t(1), t(1), t(2), t(3), t(3), t(3), t(4)];
  const first = new LogCursorTracker();
  const ids = times.map((x) => first.next(x)!);
  for (let cut = 0; cut < times.length; cut++) {
    const resumed = new LogCursorTracker(parseLogCursor(ids[cut]!, 'after'));
    const rest = times.map((x) => resumed.next(x)).filter((id) => id !== null);
    assert.deepEqual(rest, ids.slice(cut + 1), `resume after ${ids[cut]}`);
  }
});

test('bad cursors are refused naming the field; times are normalised to nine digits', () => {
  for (const bad of ['', 'yesterday', `${t(1)}`, `${t(1)}~0`, '2025-01-01T00:00:01Z~1']) {
    assert.throws(() => parseLogCursor(bad, 'Last-Event-ID'), (e: unknown) => e instanceof SlipwayError && e.code === 'SLW_BAD_REQUEST' && e.message.startsWith('Last-Event-ID:'));
  }
  assert.deepEqual(parseLogCursor(formatLogCursor({ at: t(5), count: 12 }), 'x'), { at: t(5), count: 12 });
  assert.equal(fixedLogTime('2025-01-01T00:00:01.5Z'), '2025-01-01T00:00:01.500000000Z');
  assert.equal(fixedLogTime('2025-01-01T00:00:01Z'), '2025-01-01T00:00:01.000000000Z');
  assert.equal(fixedLogTime('2025-01-01T01:00:01.25+01:00'), '2025-01-01T00:00:01.250000000Z');
  assert.ok(fixedLogTime('2025-01-01T00:00:01.123456789Z') < fixedLogTime('2025-01-01T00:00:01.5Z'), 'text order is time order once normalised');
});
