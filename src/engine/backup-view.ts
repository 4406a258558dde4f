/** A backup record as the API, CLI and dashboard show it (engine/backups.ts). */
import type { BackupHealthView, BackupView } from '../core/contract/views';
import type { BackupRecord } from '../core/domain';

export function backupView(b: BackupRecord, env: string): BackupView {
  const counts = b.tableCounts ? Object.values(b.tableCounts) : null;
  return {
    id: b.id,
    env,
    accessory: b.accessory,
    type: b.type,
    trigger: b.trigger,
    deploymentId: b.deploymentId,
    triggeredBy: b.triggeredBy,
    state: b.state,
    label: b.label,
    sizeBytes: b.sizeBytes,
    storedBytes: b.storedBytes,
    startedAt: b.startedAt,
    finishedAt: b.finishedAt,
    durationMs: b.finishedAt ? Date.parse(b.finishedAt) - Date.parse(b.startedAt) : null,
    tables: counts ? counts.length : null,
    rows: counts ? counts.reduce((a, c) => a + c, 0) : null,
    error: b.error,
    verification: b.verification,
    expired: b.expiredAt !== null,
  };
}

/**
 * An accessory's backups at a glance (newest first): red when the newest finished backup
 * failed, or when the newest verification failed.
 */
export function backupHealth(newestFirst: BackupRecord[]): BackupHealthView {
  const finished = newestFirst.filter((b) => b.state !== 'running');
  const lastGood = finished.find((b) => b.state === 'succeeded') ?? null;
  const verified = finished.find((b) => b.verification && b.verification.state !== 'running') ?? null;
  const base = { lastBackupAt: lastGood?.finishedAt ?? null, lastVerifiedAt: verified?.verification?.state === 'passed' ? verified.verification.finishedAt : null };
  const newest = finished[0];
  if (!newest) return { state: 'none', ...base, detail: null };
  if (newest.state === 'failed') return { state: 'failed', ...base, detail: `backup ${newest.id.slice(0, 8)} failed: ${newest.error ?? 'unknown error'}` };
  if (verified?.verification?.state === 'failed') return { state: 'verify_failed', ...base, detail: `verification of backup ${verified.id.slice(0, 8)} failed: ${verified.verification.error ?? 'a check failed'}` };
  return { state: 'ok', ...base, detail: null };
}
