import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dockerSince } from './logs';

test("Docker's since keeps every nanosecond digit of a resume point", () => {
  assert.equal(dockerSince('2025-01-01T00:00:01.123456789Z'), '1735689601.123456789');
  assert.equal(dockerSince('2025-01-01T00:00:01.5Z'), '1735689601.500000000');
  assert.equal(dockerSince('2025-01-01T00:00:01Z'), '1735689601.000000000');
  assert.equal(dockerSince('2025-01-01T02:00:01.25+02:00'), '1735689601.250000000');
  assert.throws(() => dockerSince('yesterday'), /not an ISO time/);
});
