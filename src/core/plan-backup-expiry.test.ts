import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planBackupExpiry, type RetainedSet } from './plan-backup-expiry';

const DAY = 86_400_000;
const now = new Date('2026-12-20T12:00:00Z');
const full = (daysAgo: number): RetainedSet => ({ label: `F${daysAgo}`, type: 'full', stoppedAt: new Date(now.getTime() - daysAgo * DAY).toISOString() });
const diff = (daysAgo: number): RetainedSet => ({ label: `D${daysAgo}`, type: 'diff', stoppedAt: new Date(now.getTime() - daysAgo * DAY).toISOString() });

test('keeps the N newest full backups when the window needs no more', () => {
  const sets = [full(30), full(20), diff(15), full(10), full(3), full(1)];
  assert.deepEqual(planBackupExpiry(sets, { full: 2, pitrMs: 2 * DAY }, now), ['F30', 'F20', 'F10']);
});

test('keeps older full backups as long as the PITR window needs them', () => {
  const sets = [full(30), full(20), full(10), full(3), full(1)];
  // A 7-day window opens 7 days ago: the newest full before it (F10) must stay.
  assert.deepEqual(planBackupExpiry(sets, { full: 2, pitrMs: 7 * DAY }, now), ['F30', 'F20']);
  // A window older than every backup keeps them all.
  assert.deepEqual(planBackupExpiry(sets, { full: 1, pitrMs: 60 * DAY }, now), []);
});

test('nothing to do with no more full backups than asked; differentials never expire on their own', () => {
  assert.deepEqual(planBackupExpiry([full(5), diff(4), diff(3)], { full: 4, pitrMs: DAY }, now), []);
  assert.deepEqual(planBackupExpiry([], { full: 1, pitrMs: DAY }, now), []);
});
