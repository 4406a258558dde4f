import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BackupView } from '../core/contract/views';
import {
  backupHealthText,
  backupProblemLines,
  backupRows,
  backupSummaryLines,
  deploymentBackupLines,
  isIsoTimeWithZone,
  matchBackupId,
  restoreFlagsProblem,
  restoreLines,
  tookCell,
  verificationLines,
  verifiedCell,
} from './backups-format';

const NOW = Date.parse('2026-12-07T12:00:00Z');
const hoursAgo = (h: number) => new Date(NOW - h * 3_600_000).toISOString();

const ok: BackupView = {
  id: '1a2b3c4d-0000-4000-8000-000000000001', env: 'production', accessory: 'db', type: 'full', trigger: 'schedule',
  deploymentId: null, triggeredBy: null, state: 'succeeded', label: '20261207-100000F', sizeBytes: 12 * 1024 * 1024, storedBytes: 3 * 1024 * 1024,
  startedAt: hoursAgo(2), finishedAt: hoursAgo(2), durationMs: 4100, tables: 12, rows: 1234, contents: '1234 rows in 12 table(s) at its restore point', error: null,
  verification: { state: 'passed', startedAt: hoursAgo(2), finishedAt: hoursAgo(2), durationMs: 9500, checks: [{ name: 'restore', ok: true, detail: 'restored to the restore point' }], error: null },
  expired: false,
};
const failed: BackupView = { ...ok, id: '9f8e7d6c-0000-4000-8000-000000000002', type: 'diff', trigger: 'manual', state: 'failed', label: null, sizeBytes: null, storedBytes: null, durationMs: 800, tables: null, rows: null, contents: null, error: 'archive-push timed out', verification: null };
const badVerify: BackupView = {
  ...ok, id: '5e5e5e5e-0000-4000-8000-000000000003',
  verification: { state: 'failed', startedAt: hoursAgo(1), finishedAt: hoursAgo(1), durationMs: 3000, checks: [{ name: 'restore', ok: true, detail: 'ok' }, { name: 'row counts', ok: false, detail: 'orders: 0 rows, 812 at backup' }], error: 'row counts: orders: 0 rows, 812 at backup' },
};

test('backup rows: short id, size, duration, verified mark; failures stand out', () => {
  const [a, b, c] = backupRows([ok, failed, badVerify], NOW);
  assert.deepEqual(a, { id: '1a2b3c4d', accessory: 'db', type: 'full', trigger: 'schedule', state: 'ok', size: '12 MiB', took: '4.1s', verified: '✓ passed', started: '2h ago' });
  assert.equal(b!.state, '✗ FAILED');
  assert.equal(b!.size, '-');
  assert.equal(b!.verified, '-');
  assert.equal(c!.verified, '✗ FAILED');
  assert.equal(backupRows([{ ...ok, state: 'running', finishedAt: null, durationMs: null, verification: null }], NOW)[0]!.state, 'running…');
  assert.equal(backupRows([{ ...ok, expired: true }], NOW)[0]!.state, 'expired');
  assert.equal(verifiedCell({ ...ok.verification!, state: 'running' }), '…');
});

test('durations are short and readable', () => {
  assert.deepEqual([tookCell(null), tookCell(850), tookCell(4100), tookCell(41_000), tookCell(125_000), tookCell(3_720_000)], ['-', '850ms', '4.1s', '41s', '2m05s', '1h02m']);
});

test('problems under the table say why each backup or verification failed', () => {
  assert.deepEqual(backupProblemLines([ok, failed, badVerify]), [
    '✗ backup 9f8e7d6c of db FAILED: archive-push timed out',
    '✗ verification of backup 5e5e5e5e of db FAILED: row counts: orders: 0 rows, 812 at backup',
  ]);
  assert.deepEqual(backupProblemLines([ok]), []);
});

test('`slipway deployment` lists the backups taken before its release command, each with its restore command', () => {
  assert.deepEqual(deploymentBackupLines([], 'shop'), []);
  assert.deepEqual(deploymentBackupLines([{ ...ok, trigger: 'release' }, { ...failed, trigger: 'release' }, { ...ok, expired: true }], 'shop'), [
    'backups before the release command:',
    `  db: backup ${ok.id} (full, ok, 12 MiB, took 4.1s)`,
    `    restore: slipway restore db --backup ${ok.id} --env production -p shop`,
    `  db: backup ${failed.id} (diff, ✗ FAILED, took 800ms)`,
    '    ✗ archive-push timed out',
    `  db: backup ${ok.id} (full, expired, 12 MiB, took 4.1s)`,
  ]);
});

test('the summary of `slipway backup` names the id, label, size, duration and how to verify it', () => {
  const text = backupSummaryLines(ok).join('\n');
  assert.match(text, /full backup of db \(production\) done/);
  assert.match(text, /id: +1a2b3c4d-0000-4000-8000-000000000001/);
  assert.match(text, /label: +20261207-100000F/);
  assert.match(text, /size: +12 MiB \(3\.0 MiB added to the repository\)/);
  assert.match(text, /took: +4\.1s/);
  assert.match(text, /slipway backups verify 1a2b3c4d-0000-4000-8000-000000000001/);
  assert.ok(!backupSummaryLines(failed).some((l) => l.includes('label:')));
});

test('verification lines: the outcome, then each check', () => {
  assert.deepEqual(verificationLines(ok), ['✓ verification of backup 1a2b3c4d of db (production) passed in 9.5s', '  ✓ restore: restored to the restore point']);
  const bad = verificationLines(badVerify);
  assert.match(bad[0]!, /^✗ verification of backup 5e5e5e5e of db \(production\) FAILED: row counts/);
  assert.equal(bad[2], '  ✗ row counts: orders: 0 rows, 812 at backup');
  assert.match(verificationLines({ ...ok, verification: null })[0]!, /not recorded/);
});

test('restore flags: exactly one source, a zoned ISO time, and --in-place only with --yes', () => {
  const ctx = { accessory: 'db', where: 'shop/production', usedBy: ['web', 'worker'] };
  assert.match(restoreFlagsProblem({}, ctx)!, /--backup <id>.*or --to-time <ISO time>/);
  assert.match(restoreFlagsProblem({ backup: 'x', toTime: '2026-12-07T10:30:00Z' }, ctx)!, /either --backup or --to-time, not both/);
  assert.match(restoreFlagsProblem({ toTime: '2026-12-07 10:30' }, ctx)!, /^--to-time: expected an ISO 8601 time with a zone.*"2026-12-07 10:30"/);
  const refusal = restoreFlagsProblem({ backup: '1a2b3c4d', inPlace: true }, ctx)!;
  assert.match(refusal, /replaces the live data of db in shop\/production/);
  assert.match(refusal, /services using it \(web, worker\) are stopped/);
  assert.match(refusal, /a backup of its current state is taken first/);
  assert.match(refusal, /replaced by backup 1a2b3c4d/);
  assert.match(refusal, /--yes/);
  assert.match(restoreFlagsProblem({ toTime: '2026-12-07T10:30:00+01:00', inPlace: true }, { ...ctx, usedBy: null })!, /the services using it are stopped/);
  assert.equal(restoreFlagsProblem({ backup: '1a2b3c4d', inPlace: true, yes: true }, ctx), null);
  assert.equal(restoreFlagsProblem({ toTime: '2026-12-07T10:30:00.5Z' }, ctx), null);
  assert.ok(isIsoTimeWithZone('2026-12-07T10:30:00Z'));
  assert.ok(!isIsoTimeWithZone('2026-13-45T10:30:00Z'));
  assert.ok(!isIsoTimeWithZone('2026-12-07T10:30:00'));
});

test('a backup id prefix resolves only when it is unique', () => {
  const list = [ok, failed, { ...ok, id: '1a2b9999-0000-4000-8000-000000000004' }];
  assert.deepEqual(matchBackupId('9F8E', list, 'shop/production'), { id: failed.id });
  assert.match((matchBackupId('1a2b', list, 'shop/production') as { problem: string }).problem, /matches 2 backups/);
  assert.match((matchBackupId('ffff', list, 'shop/production') as { problem: string }).problem, /no backup of shop\/production has an id starting "ffff"/);
  assert.match((matchBackupId('db; drop', list, 'shop/production') as { problem: string }).problem, /is not a backup id/);
});

test('restore lines: where it went, the backup of what it replaced, what next', () => {
  const lines = restoreLines({ accessory: 'db-restored-202612071030', inPlace: false, backup: ok, toTime: null, safetyBackup: null, next: ['slipway db shell db-restored-202612071030', 'to switch: point DATABASE_URL at it'] });
  assert.deepEqual(lines, [
    '✔ restored backup 1a2b3c4d (20261207-100000F) into a new accessory: db-restored-202612071030',
    'next:',
    '  slipway db shell db-restored-202612071030',
    '  to switch: point DATABASE_URL at it',
  ]);
  const inPlace = restoreLines({ accessory: 'db', inPlace: true, backup: null, toTime: '2026-12-07T10:30:00Z', safetyBackup: failed, next: [] });
  assert.deepEqual(inPlace, ['✔ restored the state at 2026-12-07T10:30:00Z in place into db', `  the data it replaced is in backup ${failed.id}`]);
});

test('backup health at a glance', () => {
  assert.equal(backupHealthText({ state: 'ok', lastBackupAt: hoursAgo(2), lastVerifiedAt: hoursAgo(2), detail: null }, NOW), 'backups: ok, last 2h ago, verified 2h ago');
  assert.equal(backupHealthText({ state: 'none', lastBackupAt: null, lastVerifiedAt: null, detail: null }, NOW), 'backups: none yet');
  assert.equal(
    backupHealthText({ state: 'failed', lastBackupAt: hoursAgo(26), lastVerifiedAt: null, detail: 'backup 9f8e7d6c failed: archive-push timed out' }, NOW),
    'backups: FAILED — backup 9f8e7d6c failed: archive-push timed out (last 1d ago, verified never)',
  );
  assert.match(backupHealthText({ state: 'verify_failed', lastBackupAt: hoursAgo(1), lastVerifiedAt: hoursAgo(30), detail: 'verification of backup 5e5e5e5e failed: row counts' }, NOW), /^backups: verify FAILED — verification of backup 5e5e5e5e failed/);
});
