import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BackupRecord } from '../core/domain';
import { backupHealth, backupView, contentsOf } from './backup-view';

const at = (m: number) => new Date(Date.UTC(2026, 11, 7, 10, m)).toISOString();
const b = (id: string, over: Partial<BackupRecord> = {}): BackupRecord => ({
  id, environmentId: 1, accessory: 'db', type: 'full', trigger: 'schedule', deploymentId: null, triggeredBy: null, state: 'succeeded', label: 'L', restorePoint: `slipway-${id}`,
  sizeBytes: 100, storedBytes: 10, walStart: null, walStop: null, tableCounts: { 'public.a': 3, 'public.b': 4 }, error: null, verification: null, files: null, startedAt: at(0), finishedAt: at(2), expiredAt: null, ...over,
});
const passed = { state: 'passed' as const, startedAt: at(3), finishedAt: at(4), durationMs: 60_000, checks: [], error: null };

test('the view: duration, tables and rows counted, expired', () => {
  const v = backupView(b('a1b2c3d4-0000-4000-8000-000000000000', { expiredAt: at(9) }), 'production');
  assert.deepEqual([v.durationMs, v.tables, v.rows, v.expired, v.env], [120_000, 2, 7, true, 'production']);
  assert.deepEqual([backupView(b('x', { state: 'running', finishedAt: null, tableCounts: null }), 'p').durationMs, backupView(b('x', { tableCounts: null }), 'p').rows], [null, null]);
});

test('health: none, ok, failed when the newest finished backup failed, verify_failed when the newest verification failed', () => {
  assert.equal(backupHealth([]).state, 'none');
  assert.deepEqual(backupHealth([b('new', { verification: passed })]), { state: 'ok', lastBackupAt: at(2), lastVerifiedAt: at(4), detail: null });
  const failed = backupHealth([b('new0000000', { state: 'failed', error: 'pgbackrest backup failed (exit 82)' }), b('old', { verification: passed })]);
  assert.equal(failed.state, 'failed');
  assert.match(failed.detail ?? '', /backup new00000 failed: pgbackrest backup failed/);
  assert.equal(failed.lastBackupAt, at(2), 'the last good one is still named');
  assert.equal(backupHealth([b('running', { state: 'running', finishedAt: null }), b('old', { verification: passed })]).state, 'ok', 'a running backup changes nothing yet');
  const bad = backupHealth([b('new'), b('old0000000', { verification: { ...passed, state: 'failed', error: 'row counts: public.a: 2 restored, 3 recorded' } })]);
  assert.equal(bad.state, 'verify_failed');
  assert.match(bad.detail ?? '', /verification of backup old00000 failed: row counts/);
  assert.equal(bad.lastVerifiedAt, null);
});

test('contents in words, by kind', () => {
  assert.equal(contentsOf({ type: 'full', tableCounts: { 'public.a': 3, 'public.b': 4 } }), '7 rows in 2 table(s) at its restore point');
  assert.equal(contentsOf({ type: 'snapshot', tableCounts: { keys: 1001 } }), '1001 keys');
  assert.equal(contentsOf({ type: 'snapshot', tableCounts: { 'stream:ORDERS': 2000, 'stream:KV_settings': 1 } }), '2001 messages in 2 stream(s)');
  assert.equal(contentsOf({ type: 'snapshot', tableCounts: { 'volume:files': 50 } }), '50 files in 1 volume(s)');
  assert.equal(contentsOf({ type: 'snapshot', tableCounts: null }), null);
});
