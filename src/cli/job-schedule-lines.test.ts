import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scheduleLines } from './commands/jobs';

test('slipway jobs: each job live in the environment says its schedule and next run, or that it is off there and how to run it by hand', () => {
  assert.deepEqual(
    scheduleLines(
      [
        { service: 'report', release: 3, schedule: null, nextRunAt: null },
        { service: 'nightly', release: 7, schedule: '0 3 * * *', nextRunAt: '2026-12-09T03:00:00.000Z' },
      ],
      'production',
    ),
    [
      'report (v3): schedule off in production, never run on schedule here (by hand: slipway run report --env production -- <command>)',
      'nightly (v7): "0 3 * * *" (UTC), next run at 2026-12-09T03:00:00.000Z',
    ],
  );
  assert.deepEqual(scheduleLines([], 'staging'), []);
});
