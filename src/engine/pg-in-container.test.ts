import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExecResult, Runtime } from '../core/ports/runtime';
import { failureText, pgBackRest } from './pg-in-container';

test('a failed command is described by its ERROR/FATAL lines when it printed some, else by its last lines', () => {
  const pgbackrest = [
    '2026-12-07 17:41:36.740 P00   INFO: backup command begin 2.45: --exec-id=193 --stanza=main --type=diff',
    '2026-12-07 17:41:38.187 P00   WARN: a timeline switch has occurred since the 20261207-173951F backup',
    "2026-12-07 17:41:38.190 P00  ERROR: [047]: unable to create path '/var/lib/pgbackrest/backup/main/x': [13] Permission denied",
    '2026-12-07 17:41:39.208 P00   INFO: backup command end: aborted with exception [047]',
  ].join('\n');
  assert.equal(failureText(pgbackrest), ": ERROR: [047]: unable to create path '/var/lib/pgbackrest/backup/main/x': [13] Permission denied");
  assert.equal(failureText('psql: error: connection refused\nFATAL:  role "x" does not exist\n'), ': FATAL:  role "x" does not exist');
  assert.equal(failureText('one\n\ntwo\nthree', 2), ':\ntwo\nthree');
  assert.equal(failureText(''), '');
});

test('pgBackRest waits out another process holding the stanza lock ([050]), then reports what is left', async () => {
  const locked = { exitCode: 50, timedOut: false, output: "ERROR: [050]: unable to acquire lock on file '/tmp/pgbackrest/main-backup.lock': Resource temporarily unavailable" };
  const ok = { exitCode: 0, timedOut: false, output: 'INFO: backup command end: completed successfully' };
  const runs: string[][] = [];
  const runtimeAnswering = (answers: ExecResult[]) => ({ exec: (_id: string, argv: string[]) => (runs.push(argv), Promise.resolve(answers.shift() ?? locked)) }) as unknown as Runtime;
  const slept: number[] = [];
  const sleep = (ms: number) => (slept.push(ms), Promise.resolve());
  let waits = 0;

  const r = await pgBackRest(runtimeAnswering([locked, locked, ok]), 'c1', ['--type=diff', 'backup'], { timeoutMs: 1000, sleep, onLocked: () => waits++ });
  assert.equal(r.exitCode, 0, 'the third try runs once the lock is free');
  assert.deepEqual(runs[0], ['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups', 'pgbackrest', '--type=diff', 'backup'], 'as the postgres user');
  assert.equal(runs.length, 3);
  assert.equal(waits, 2, 'each wait is said');

  runs.length = 0;
  slept.length = 0;
  const held = await pgBackRest(runtimeAnswering([]), 'c1', ['backup'], { timeoutMs: 1000, sleep });
  assert.equal(held.exitCode, 50, 'a lock held past the wait is reported as pgBackRest said it');
  assert.equal(slept.reduce((a, b) => a + b, 0), 60_000, 'for at most a minute');

  runs.length = 0;
  const other = await pgBackRest(runtimeAnswering([{ exitCode: 47, timedOut: false, output: 'ERROR: [047]: unable to create path' }]), 'c1', ['backup'], { timeoutMs: 1000, sleep });
  assert.equal(other.exitCode, 47);
  assert.equal(runs.length, 1, 'any other failure is not retried');
});
