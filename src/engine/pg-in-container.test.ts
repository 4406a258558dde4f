import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failureText } from './pg-in-container';

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
