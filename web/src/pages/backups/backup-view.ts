/** How the dashboard marks backups, their verification and an accessory's backup health (pure). */
import type { BackupHealthView, BackupView } from '../../../../src/core/contract/views';

export type { BackupHealthView, BackupView };
export interface Badge {
  cls: 'ok' | 'warn' | 'bad' | '';
  text: string;
}

export function stateBadge(b: Pick<BackupView, 'state' | 'expired'>): Badge {
  if (b.state === 'failed') return { cls: 'bad', text: 'failed' };
  if (b.state === 'running') return { cls: 'warn', text: 'running' };
  return b.expired ? { cls: '', text: 'expired' } : { cls: 'ok', text: 'ok' };
}

/** Null: nothing to verify (the backup failed or is still running). */
export function verifiedBadge(b: Pick<BackupView, 'state' | 'verification'>): Badge | null {
  const v = b.verification;
  if (!v) return b.state === 'succeeded' ? { cls: '', text: 'not yet' } : null;
  if (v.state === 'running') return { cls: 'warn', text: 'verifying' };
  return v.state === 'passed' ? { cls: 'ok', text: 'passed' } : { cls: 'bad', text: 'FAILED' };
}

/** A backup whose row is marked red: it failed, or its verification did. */
export const isFailing = (b: BackupView): boolean => b.state === 'failed' || b.verification?.state === 'failed';

/** The accessories table's indicator; null when the accessory has no backups. */
export function healthBadge(h: BackupHealthView | null | undefined): Badge | null {
  if (!h) return null;
  switch (h.state) {
    case 'ok':
      return { cls: 'ok', text: 'backups ok' };
    case 'none':
      return { cls: 'warn', text: 'no backup yet' };
    case 'failed':
      return { cls: 'bad', text: 'backup failed' };
    case 'verify_failed':
      return { cls: 'bad', text: 'verify failed' };
  }
}
