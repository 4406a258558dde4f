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
    contents: contentsOf(b),
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

/** What a backup holds, in words: rows and tables (postgres), keys (redis), streams and messages (nats), volumes and files (container). */
export function contentsOf(b: Pick<BackupRecord, 'type' | 'tableCounts'>): string | null {
  const counts = b.tableCounts;
  if (!counts) return null;
  const entries = Object.entries(counts);
  const total = entries.reduce((a, [, n]) => a + n, 0);
  if (b.type !== 'snapshot') return `${total} rows in ${entries.length} table(s) at its restore point`;
  if ('keys' in counts) return `${counts.keys} keys`;
  if (entries.some(([k]) => k.startsWith('volume:'))) return `${total} files in ${entries.length} volume(s)`;
  return `${total} messages in ${entries.length} stream(s)`;
}
