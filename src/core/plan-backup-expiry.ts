/**
 * Which full backups retention removes, without I/O. `retention: { full: N, pitr: W }` keeps
 * the N newest full backups AND everything needed to restore any moment of the last W: the
 * newest full backup that finished before the window opened (and every one after it). A full
 * backup goes with the differentials that depend on it (pgBackRest's `expire --set`).
 */
export interface RetainedSet {
  label: string;
  type: 'full' | 'diff' | 'incr';
  stoppedAt: string;
}

export function planBackupExpiry(sets: RetainedSet[], retention: { full: number; pitrMs: number }, now: Date): string[] {
  const fulls = sets.filter((s) => s.type === 'full').sort((a, b) => Date.parse(a.stoppedAt) - Date.parse(b.stoppedAt));
  if (fulls.length <= retention.full) return [];
  const windowStart = now.getTime() - retention.pitrMs;
  // The oldest full backup the window needs: the newest one that finished before it opened.
  let oldestForWindow = fulls.length;
  for (let i = fulls.length - 1; i >= 0; i--) {
    if (Date.parse(fulls[i]!.stoppedAt) <= windowStart) {
      oldestForWindow = i;
      break;
    }
    oldestForWindow = i;
  }
  const keepFrom = Math.min(fulls.length - retention.full, oldestForWindow);
  return fulls.slice(0, keepFrom).map((s) => s.label);
}
