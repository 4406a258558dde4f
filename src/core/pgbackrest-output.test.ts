import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newBackupLabel, parsePgBackRestInfo, progressPercent, verifyProblems } from './pgbackrest-output';

// pgBackRest 2.45's answer (Debian bookworm), trimmed: system-id exceeds 2^53 and is never read.
const INFO = `[{"archive":[{"database":{"id":1,"repo-key":1},"id":"15-1","max":"000000010000000000000003","min":"000000010000000000000001"}],"backup":[{"archive":{"start":"000000010000000000000002","stop":"000000010000000000000002"},"backrest":{"format":5,"version":"2.45"},"database":{"id":1,"repo-key":1},"error":false,"info":{"delta":23393969,"repository":{"delta":3077615,"size":3077615},"size":23393969},"label":"20261207-102339F","lsn":{"start":"0/2000028","stop":"0/2000138"},"prior":null,"reference":null,"timestamp":{"start":1796639019,"stop":1796639032},"type":"full"},{"archive":{"start":"000000010000000000000008","stop":"000000010000000000000008"},"info":{"delta":100,"repository":{"delta":40,"size":3000000},"size":23393969},"label":"20261207-102339F_20261207-103519D","prior":"20261207-102339F","timestamp":{"start":1796639719,"stop":1796639723},"type":"diff"}],"cipher":"none","db":[{"id":1,"repo-key":1,"system-id":7716505797818335254,"version":"15"}],"name":"main","repo":[{"cipher":"none","key":1,"status":{"code":0,"message":"ok"}}],"status":{"code":0,"lock":{"backup":{"held":false}},"message":"ok"}}]`;

test('info: the sets with sizes, WAL range and times; the archive range; the status', () => {
  const info = parsePgBackRestInfo(INFO, 'main');
  assert.equal(info.status, 'ok');
  assert.deepEqual(info.archive, { min: '000000010000000000000001', max: '000000010000000000000003' });
  assert.deepEqual(info.sets[0], {
    label: '20261207-102339F', type: 'full', prior: null, startedAt: new Date(1796639019000).toISOString(), stoppedAt: new Date(1796639032000).toISOString(),
    sizeBytes: 23393969, storedBytes: 3077615, walStart: '000000010000000000000002', walStop: '000000010000000000000002',
  });
  assert.deepEqual([info.sets[1]!.type, info.sets[1]!.prior, info.sets[1]!.storedBytes], ['diff', '20261207-102339F', 40]);
  assert.deepEqual(parsePgBackRestInfo(INFO, 'other'), { sets: [], archive: null, status: 'stanza other not found' });
  assert.throws(() => parsePgBackRestInfo('ERROR: [055]: unable to load info file', 'main'), /did not print JSON/);
});

test('verify: exit 0 with damage is still damage', () => {
  const bad = [
    '2026-12-07 10:24:28.429 P00   INFO: stanza: main',
    '                                    status: error',
    '                                      backup: 20261207-102339F, status: invalid, total files checked: 970, total valid files: 969',
    '                                        checksum invalid: 1',
    '2026-12-07 10:24:28.429 P00   INFO: verify command end: completed successfully (628ms)',
  ].join('\n');
  assert.deepEqual(verifyProblems(bad), ['backup 20261207-102339F (invalid): checksum invalid 1 file(s)']);
  assert.deepEqual(verifyProblems('2026-12-07 10:24:28.429 P00   INFO: stanza: main\n    status: ok\n'), []);
});

test('progress and the new label are read from the console lines', () => {
  assert.equal(progressPercent('2026-12-07 10:35:22.518 P01 DETAIL: backup file /var/lib/postgresql/data/base/5/1249 (520KB, 31.40%) checksum 681a'), 31.4);
  assert.equal(progressPercent('P01 DETAIL: restore file /var/lib/postgresql/data/base/5/1249 (8KB, 100.00%) checksum x'), 100);
  assert.equal(progressPercent('INFO: backup start archive = 000000010000000000000008'), null);
  assert.equal(newBackupLabel('P00   INFO: new backup label = 20261207-102339F_20261207-103519D\n'), '20261207-102339F_20261207-103519D');
  assert.equal(newBackupLabel('nothing'), null);
});
