/**
 * How the dashboard marks backups (web/src/pages/backups/backup-view.ts, pure): a failed
 * verification makes the Backups page's row red (`isFailing` → the `failing` class that
 * test/backups-api.test.ts's browser test shows red) with a red "FAILED" badge, and the
 * overview's accessory badge red. Here because the unit lane (`find src bench/lib`) does not
 * reach web/; no Docker, no control plane.
 *
 * Run: node --import tsx --test test/dashboard-backup-view.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { healthBadge, isFailing, stateBadge, verifiedBadge, type BackupView } from '../web/src/pages/backups/backup-view';

const at = '2026-12-07T10:00:00.000Z';
const verification = (state: 'running' | 'passed' | 'failed') => ({ state, startedAt: at, finishedAt: state === 'running' ? null : at, durationMs: state === 'running' ? null : 1000, checks: [], error: state === 'failed' ? 'row counts: public.a: 2 restored, 3 recorded' : null });
const backup = (over: Partial<BackupView> = {}): BackupView => ({
  id: 'a1b2c3d4-0000-4000-8000-000000000000', env: 'production', accessory: 'db', type: 'full', trigger: 'schedule', deploymentId: null, triggeredBy: null, state: 'succeeded', label: 'L',
  sizeBytes: 100, storedBytes: 10, startedAt: at, finishedAt: at, durationMs: 1000, tables: 1, rows: 3, contents: null, error: null, verification: null, expired: false, ...over,
});

test('a succeeded backup whose verification failed is a failing (red) row with a red FAILED badge; its own state stays ok', () => {
  const b = backup({ verification: verification('failed') });
  assert.equal(isFailing(b), true);
  assert.deepEqual(verifiedBadge(b), { cls: 'bad', text: 'FAILED' });
  assert.deepEqual(stateBadge(b), { cls: 'ok', text: 'ok' });
});

test('failing rows: a failed backup; not a passed, running or not yet verified one', () => {
  assert.equal(isFailing(backup({ state: 'failed', finishedAt: at, error: 'pgbackrest backup failed (exit 82)' })), true);
  assert.deepEqual(stateBadge(backup({ state: 'failed' })), { cls: 'bad', text: 'failed' });
  for (const v of [null, verification('passed'), verification('running')]) assert.equal(isFailing(backup({ verification: v })), false, JSON.stringify(v));
  assert.deepEqual(verifiedBadge(backup({ verification: verification('passed') })), { cls: 'ok', text: 'passed' });
  assert.deepEqual(verifiedBadge(backup({ verification: verification('running') })), { cls: 'warn', text: 'verifying' });
  assert.deepEqual(verifiedBadge(backup()), { cls: '', text: 'not yet' });
  assert.equal(verifiedBadge(backup({ state: 'running' })), null);
});

test('the overview\'s accessory badge: verify_failed and failed are red; ok green; none a warning; no backups none', () => {
  const h = (state: 'ok' | 'none' | 'failed' | 'verify_failed') => ({ state, lastBackupAt: at, lastVerifiedAt: null, detail: state === 'ok' || state === 'none' ? null : 'why' });
  assert.deepEqual(healthBadge(h('verify_failed')), { cls: 'bad', text: 'verify failed' });
  assert.deepEqual(healthBadge(h('failed')), { cls: 'bad', text: 'backup failed' });
  assert.deepEqual(healthBadge(h('ok')), { cls: 'ok', text: 'backups ok' });
  assert.deepEqual(healthBadge(h('none')), { cls: 'warn', text: 'no backup yet' });
  assert.equal(healthBadge(null), null);
  assert.equal(healthBadge(undefined), null);
});
