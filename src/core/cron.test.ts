import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeNextRuns, parseCron } from './cron';
import { SlipwayError } from './errors';

const at = (iso: string) => new Date(iso);
const nextIso = (expr: string, after: string) => parseCron(expr).next(at(after)).toISOString();
const runsIso = (expr: string, from: string, n: number) =>
  describeNextRuns(parseCron(expr), at(from), n).map((d) => d.toISOString());

function assertInvalid(expr: string, message: RegExp) {
  assert.throws(
    () => parseCron(expr),
    (err: unknown) => {
      assert.ok(err instanceof SlipwayError, 'throws a SlipwayError');
      assert.equal(err.code, 'SLW_CONFIG_INVALID');
      assert.match(err.message, message);
      return true;
    },
  );
}

test('wildcards fire every minute at second 0', () => {
  const s = parseCron('* * * * *');
  assert.equal(s.expression, '* * * * *');
  assert.equal(s.hasSeconds, false);
  assert.equal(nextIso('* * * * *', '2024-03-10T12:34:56.789Z'), '2024-03-10T12:35:00.000Z');
});

test('next() is strictly after the given instant, even on an exact match', () => {
  assert.equal(nextIso('30 12 * * *', '2024-03-10T12:30:00.000Z'), '2024-03-11T12:30:00.000Z');
  assert.equal(nextIso('* * * * *', '2024-03-10T12:30:00.000Z'), '2024-03-10T12:31:00.000Z');
  assert.equal(nextIso('* * * * * *', '2024-03-10T12:30:00.000Z'), '2024-03-10T12:30:01.000Z');
  // Within the matching minute but past second 0: the next one is the next hour.
  assert.equal(nextIso('30 * * * *', '2024-03-10T12:30:00.001Z'), '2024-03-10T13:30:00.000Z');
});

test('plain numbers pin each field', () => {
  assert.equal(nextIso('15 4 20 7 *', '2024-01-01T00:00:00Z'), '2024-07-20T04:15:00.000Z');
});

test('ranges', () => {
  assert.deepEqual(runsIso('0 9-11 * * *', '2024-01-01T10:30:00Z', 3), [
    '2024-01-01T11:00:00.000Z',
    '2024-01-02T09:00:00.000Z',
    '2024-01-02T10:00:00.000Z',
  ]);
});

test('steps: */n, a-b/n and a/n', () => {
  assert.deepEqual(runsIso('0 */6 * * *', '2024-01-01T00:00:00Z', 4), [
    '2024-01-01T06:00:00.000Z',
    '2024-01-01T12:00:00.000Z',
    '2024-01-01T18:00:00.000Z',
    '2024-01-02T00:00:00.000Z',
  ]);
  assert.deepEqual(runsIso('10-30/10 0 * * *', '2024-01-01T00:00:00Z', 4), [
    '2024-01-01T00:10:00.000Z',
    '2024-01-01T00:20:00.000Z',
    '2024-01-01T00:30:00.000Z',
    '2024-01-02T00:10:00.000Z',
  ]);
  // `a/n` runs from a to the end of the field.
  assert.deepEqual(runsIso('45/5 0 * * *', '2024-01-01T00:00:00Z', 4), [
    '2024-01-01T00:45:00.000Z',
    '2024-01-01T00:50:00.000Z',
    '2024-01-01T00:55:00.000Z',
    '2024-01-02T00:45:00.000Z',
  ]);
});

test('lists, including ranges and steps inside a list', () => {
  assert.deepEqual(runsIso('0 1,5-6,*/12 * * *', '2024-01-01T00:30:00Z', 5), [
    '2024-01-01T01:00:00.000Z',
    '2024-01-01T05:00:00.000Z',
    '2024-01-01T06:00:00.000Z',
    '2024-01-01T12:00:00.000Z',
    '2024-01-02T00:00:00.000Z',
  ]);
});

test('month and day names are case-insensitive and work in ranges', () => {
  assert.equal(nextIso('0 0 1 mar *', '2024-01-15T00:00:00Z'), '2024-03-01T00:00:00.000Z');
  assert.equal(nextIso('0 0 1 JUN-aug *', '2024-09-01T00:00:00Z'), '2025-06-01T00:00:00.000Z');
  // 2024-01-06 is a Saturday; MON-FRI skips the weekend.
  assert.equal(nextIso('0 9 * * Mon-FRI', '2024-01-06T00:00:00Z'), '2024-01-08T09:00:00.000Z');
  assert.equal(nextIso('0 9 * * sun', '2024-01-01T00:00:00Z'), '2024-01-07T09:00:00.000Z');
});

test('day-of-week 7 and 0 are both Sunday', () => {
  const expected = '2024-01-07T00:00:00.000Z';
  assert.equal(nextIso('0 0 * * 7', '2024-01-01T00:00:00Z'), expected);
  assert.equal(nextIso('0 0 * * 0', '2024-01-01T00:00:00Z'), expected);
  assert.equal(nextIso('0 0 * * 5-7', '2024-01-06T12:00:00Z'), expected);
});

test('macros', () => {
  const from = '2024-05-15T10:20:30Z';
  assert.equal(nextIso('@hourly', from), '2024-05-15T11:00:00.000Z');
  assert.equal(nextIso('@daily', from), '2024-05-16T00:00:00.000Z');
  assert.equal(nextIso('@midnight', from), '2024-05-16T00:00:00.000Z');
  assert.equal(nextIso('@weekly', from), '2024-05-19T00:00:00.000Z');
  assert.equal(nextIso('@monthly', from), '2024-06-01T00:00:00.000Z');
  assert.equal(nextIso('@yearly', from), '2025-01-01T00:00:00.000Z');
  assert.equal(nextIso('@ANNUALLY', from), '2025-01-01T00:00:00.000Z');
  assert.equal(parseCron('@daily').expression, '@daily');
});

test('next() crosses month and year boundaries', () => {
  assert.equal(nextIso('0 0 1 * *', '2024-01-31T23:59:59Z'), '2024-02-01T00:00:00.000Z');
  assert.equal(nextIso('* * * * *', '2024-12-31T23:59:30Z'), '2025-01-01T00:00:00.000Z');
  assert.equal(nextIso('0 0 31 * *', '2024-04-01T00:00:00Z'), '2024-05-31T00:00:00.000Z');
  assert.equal(nextIso('30 6 * 1 *', '2024-02-01T00:00:00Z'), '2025-01-01T06:30:00.000Z');
});

test('Feb 29 only matches in leap years, skipping century non-leap years', () => {
  assert.deepEqual(runsIso('0 0 29 2 *', '2024-03-01T00:00:00Z', 2), [
    '2028-02-29T00:00:00.000Z',
    '2032-02-29T00:00:00.000Z',
  ]);
  // 2100 is not a leap year, so the gap is eight years.
  assert.equal(nextIso('0 0 29 2 *', '2096-03-01T00:00:00Z'), '2104-02-29T00:00:00.000Z');
});

test('day-of-month and day-of-week both restricted match on EITHER', () => {
  // The 13th (a Saturday in Jan 2024) or any Friday.
  assert.deepEqual(runsIso('0 0 13 * FRI', '2024-01-01T00:00:00Z', 4), [
    '2024-01-05T00:00:00.000Z',
    '2024-01-12T00:00:00.000Z',
    '2024-01-13T00:00:00.000Z',
    '2024-01-19T00:00:00.000Z',
  ]);
  // Only one restricted: the other is ignored rather than ORed.
  assert.equal(nextIso('0 0 13 * *', '2024-01-01T00:00:00Z'), '2024-01-13T00:00:00.000Z');
  assert.equal(nextIso('0 0 * * FRI', '2024-01-01T00:00:00Z'), '2024-01-05T00:00:00.000Z');
});

test('6-field form has a leading seconds field', () => {
  const s = parseCron('*/5 * * * * *');
  assert.equal(s.hasSeconds, true);
  assert.deepEqual(runsIso('*/5 * * * * *', '2024-01-01T00:00:57.250Z', 3), [
    '2024-01-01T00:01:00.000Z',
    '2024-01-01T00:01:05.000Z',
    '2024-01-01T00:01:10.000Z',
  ]);
  assert.equal(nextIso('30 0 0 1 1 *', '2024-01-01T00:00:30Z'), '2025-01-01T00:00:30.000Z');
});

test('results always have zero milliseconds', () => {
  for (const d of describeNextRuns(parseCron('*/7 */3 * * * *'), at('2024-01-01T00:00:00.999Z'), 20)) {
    assert.equal(d.getUTCMilliseconds(), 0);
  }
});

test('describeNextRuns returns n strictly increasing runs', () => {
  assert.deepEqual(describeNextRuns(parseCron('@hourly'), at('2024-01-01T00:00:00Z'), 0), []);
  const runs = describeNextRuns(parseCron('0 0 * * MON'), at('2024-01-01T00:00:00Z'), 3);
  assert.deepEqual(
    runs.map((d) => d.toISOString()),
    ['2024-01-08T00:00:00.000Z', '2024-01-15T00:00:00.000Z', '2024-01-22T00:00:00.000Z'],
  );
});

test('sparse schedules are found quickly by skipping whole fields', () => {
  const started = performance.now();
  const s = parseCron('59 23 31 12 *');
  let cursor = at('2000-01-01T00:00:00Z');
  for (let i = 0; i < 200; i++) cursor = s.next(cursor);
  assert.equal(cursor.toISOString(), '2199-12-31T23:59:00.000Z');
  assert.ok(performance.now() - started < 1000, 'skips rather than iterating minute by minute');
});

test('rejects the wrong number of fields', () => {
  assertInvalid('* * *', /expected 5 fields \(minute hour day-of-month month day-of-week\) or 6 with leading seconds, got 3/);
  assertInvalid('* * * * * * *', /got 7/);
  assertInvalid('', /got 0/);
  assertInvalid('   ', /got 0/);
});

test('rejects out-of-range values, naming the field and the range', () => {
  assertInvalid('61 * * * *', /minute field "61": expected 0-59/);
  assertInvalid('* 24 * * *', /hour field "24": expected 0-23/);
  assertInvalid('* * 0 * *', /day-of-month field "0": expected 1-31/);
  assertInvalid('* * 32 * *', /day-of-month field "32": expected 1-31/);
  assertInvalid('* * * 13 *', /month field "13": expected 1-12/);
  assertInvalid('* * * * 8', /day-of-week field "8": expected 0-7/);
  assertInvalid('60 * * * * *', /second field "60": expected 0-59/);
  assertInvalid('1,2,99 * * * *', /minute field "1,2,99": expected 0-59/);
});

test('rejects bad steps', () => {
  assertInvalid('*/0 * * * *', /minute field "\*\/0": step must be a positive integer/);
  assertInvalid('*/x * * * *', /step must be a positive integer/);
  assertInvalid('*/ * * * *', /step must be a positive integer/);
  assertInvalid('*/2/3 * * * *', /minute field "\*\/2\/3"/);
});

test('rejects garbage and malformed syntax', () => {
  assertInvalid('abc * * * *', /minute field "abc": expected 0-59/);
  assertInvalid('* * * FOO *', /month field "FOO": expected 1-12 or JAN-DEC/);
  assertInvalid('* * * * MONDAY', /day-of-week field "MONDAY": expected 0-7 or SUN-SAT/);
  // Names only belong to their own field.
  assertInvalid('* * * * JAN', /day-of-week field "JAN"/);
  assertInvalid('1-2-3 * * * *', /minute field "1-2-3"/);
  assertInvalid('1, * * * *', /minute field "1,"/);
  assertInvalid('-5 * * * *', /minute field "-5"/);
  assertInvalid('@reboot', /unknown macro/);
});

test('rejects reversed ranges', () => {
  assertInvalid('5-1 * * * *', /minute field "5-1": range start 5 is greater than end 1/);
  assertInvalid('* * * * FRI-MON', /day-of-week field "FRI-MON"/);
});

test('rejects schedules that can never fire at parse time', () => {
  assertInvalid('0 0 30 2 *', /schedule "0 0 30 2 \*" never matches/);
  assertInvalid('0 0 31 4,6,9,11 *', /never matches/);
  // Possible combinations still parse: Feb 29 exists, and a weekday rescues Feb 30.
  assert.doesNotThrow(() => parseCron('0 0 29 2 *'));
  assert.doesNotThrow(() => parseCron('0 0 30,31 2,3 *'));
  assert.equal(nextIso('0 0 30 2 MON', '2024-02-01T00:00:00Z'), '2024-02-05T00:00:00.000Z');
});
