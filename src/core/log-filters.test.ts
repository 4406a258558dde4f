import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileLogGrep, MAX_GREP_LENGTH, parseLogSince } from './log-filters';

test('since: a duration back from now or an ISO time', () => {
  const now = Date.parse('2025-06-01T12:00:00Z');
  assert.equal(parseLogSince('10m', now), '2025-06-01T11:50:00.000Z');
  assert.equal(parseLogSince('90s', now), '2025-06-01T11:58:30.000Z');
  assert.equal(parseLogSince('2025-05-31T08:00:00+02:00', now), '2025-05-31T06:00:00.000Z');
  assert.equal(parseLogSince('2025-05-31', now), '2025-05-31T00:00:00.000Z');
  for (const bad of ['', 'yesterday', '10 minutes', '-5m', '2025-13-45T00:00:00Z']) assert.equal(parseLogSince(bad, now), null, bad);
});

test('grep: RE2 matching anywhere in the line; bad patterns get a reason', () => {
  const g = compileLogGrep('(?i)error|timeout');
  assert.ok('test' in g);
  assert.equal(g.test('an ERROR happened'), true);
  assert.equal(g.test('request timeout'), true);
  assert.equal(g.test('all good'), false);

  const bad = compileLogGrep('a(');
  assert.ok('problem' in bad && /not a valid regular expression \(missing closing \)/.test(bad.problem), JSON.stringify(bad));
  assert.ok('problem' in compileLogGrep(''));
  assert.ok('problem' in compileLogGrep('x'.repeat(MAX_GREP_LENGTH + 1)));
  assert.ok('problem' in compileLogGrep('(?<=x)y'), 'lookbehind is not RE2');
});

test('grep: a pattern that backtracks exponentially in JavaScript runs in linear time', () => {
  const g = compileLogGrep('(a+)+$');
  assert.ok('test' in g);
  const started = performance.now();
  assert.equal(g.test(`${'a'.repeat(5000)}!`), false);
  // A backtracking engine would need ~2^5000 steps; a budget of seconds only guards against a hang.
  assert.ok(performance.now() - started < 5000);
});
