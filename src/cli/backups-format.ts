/**
 * What `slipway backups`, `backup`, `backups verify` and `restore` print (pure). Failed
 * backups and failed verifications are spelt in capitals with a ✗ so they stand out in
 * plain text (no colours: tables are padded by character count, and output is often piped).
 */
import type { BackupHealthView, BackupView } from '../core/contract/views';
import { formatBytes } from '../core/format-bytes';
import { ago } from './output';

/** 850 → "850ms", 4100 → "4.1s", 41000 → "41s", 125000 → "2m05s", 3720000 → "1h02m". */
export function tookCell(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** ✓ passed, ✗ FAILED, … while it runs, - not verified yet. */
export function verifiedCell(v: BackupView['verification']): string {
  if (!v) return '-';
  if (v.state === 'running') return '…';
  return v.state === 'passed' ? '✓ passed' : '✗ FAILED';
}

export function backupStateCell(b: Pick<BackupView, 'state' | 'expired'>): string {
  if (b.state === 'failed') return '✗ FAILED';
  if (b.state === 'running') return 'running…';
  return b.expired ? 'expired' : 'ok';
}

export const BACKUP_COLUMNS = ['id', 'accessory', 'type', 'trigger', 'state', 'size', 'took', 'verified', 'started'];

export function backupRows(backups: BackupView[], now = Date.now()): Array<Record<string, string>> {
  return backups.map((b) => ({
    id: b.id.slice(0, 8),
    accessory: b.accessory,
    type: b.type,
    trigger: b.trigger,
    state: backupStateCell(b),
    size: b.sizeBytes === null ? '-' : formatBytes(b.sizeBytes),
    took: tookCell(b.durationMs),
    verified: verifiedCell(b.verification),
    started: ago(b.startedAt, now),
  }));
}

/** Under the table: why each failed backup or verification failed (the table has no room). */
export function backupProblemLines(backups: BackupView[]): string[] {
  const out: string[] = [];
  for (const b of backups) {
    if (b.state === 'failed') out.push(`✗ backup ${b.id.slice(0, 8)} of ${b.accessory} FAILED: ${b.error ?? 'no error recorded'}`);
    else if (b.verification?.state === 'failed') out.push(`✗ verification of backup ${b.id.slice(0, 8)} of ${b.accessory} FAILED: ${b.verification.error ?? 'a check failed'}`);
  }
  return out;
}

/** `slipway backup`: what was made. */
export function backupSummaryLines(b: BackupView): string[] {
  const lines = [`✔ ${b.type} backup of ${b.accessory} (${b.env}) ${b.state === 'succeeded' ? 'done' : b.state}`];
  lines.push(`  id:     ${b.id}`);
  if (b.label) lines.push(`  label:  ${b.label}`);
  if (b.sizeBytes !== null) lines.push(`  size:   ${formatBytes(b.sizeBytes)}${b.storedBytes !== null ? ` (${formatBytes(b.storedBytes)} added to the repository)` : ''}`);
  lines.push(`  took:   ${tookCell(b.durationMs)}`);
  if (b.contents) lines.push(`  holds:  ${b.contents}`);
  lines.push(`  verify: slipway backups verify ${b.id}`);
  return lines;
}

/**
 * `slipway deployment <id>`: the backups taken before its release command, each with the
 * command that restores it (into a new accessory: the safe first step).
 */
export function deploymentBackupLines(backups: BackupView[], project: string): string[] {
  if (backups.length === 0) return [];
  const out = ['backups before the release command:'];
  for (const b of backups) {
    const size = b.sizeBytes === null ? '' : `, ${formatBytes(b.sizeBytes)}`;
    out.push(`  ${b.accessory}: backup ${b.id} (${b.type}, ${backupStateCell(b)}${size}, took ${tookCell(b.durationMs)})`);
    if (b.state === 'failed') out.push(`    ✗ ${b.error ?? 'no error recorded'}`);
    else if (b.state === 'succeeded' && !b.expired) out.push(`    restore: slipway restore ${b.accessory} --backup ${b.id} --env ${b.env} -p ${project}`);
  }
  return out;
}

/** `slipway backups verify`: the outcome and each check. */
export function verificationLines(b: BackupView): string[] {
  const v = b.verification;
  const which = `backup ${b.id.slice(0, 8)} of ${b.accessory} (${b.env})`;
  if (!v) return [`verification of ${which}: not recorded`];
  const head =
    v.state === 'passed'
      ? `✓ verification of ${which} passed${v.durationMs !== null ? ` in ${tookCell(v.durationMs)}` : ''}`
      : v.state === 'failed'
        ? `✗ verification of ${which} FAILED: ${v.error ?? 'a check failed'}`
        : `verification of ${which} is still running`;
  return [head, ...v.checks.map((c) => `  ${c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}`)];
}

export interface RestoreDone {
  accessory: string;
  inPlace: boolean;
  backup: BackupView | null;
  toTime: string | null;
  safetyBackup: BackupView | null;
  next: string[];
}

/** `slipway restore`: where the data went, the backup of what it replaced, and what to do next. */
export function restoreLines(d: RestoreDone): string[] {
  const from = d.backup ? `backup ${d.backup.id.slice(0, 8)}${d.backup.label ? ` (${d.backup.label})` : ''}` : `the state at ${d.toTime ?? '?'}`;
  const lines = [d.inPlace ? `✔ restored ${from} in place into ${d.accessory}` : `✔ restored ${from} into a new accessory: ${d.accessory}`];
  if (d.safetyBackup) lines.push(`  the data it replaced is in backup ${d.safetyBackup.id}`);
  if (d.next.length) lines.push('next:', ...d.next.map((l) => `  ${l}`));
  return lines;
}

/** The flags of `slipway restore`: exactly one source; --in-place only with --yes. Null when they are fine. */
export function restoreFlagsProblem(o: { backup?: string; toTime?: string; inPlace?: boolean; yes?: boolean }, ctx: { accessory: string; where: string; usedBy: string[] | null }): string | null {
  if ((o.backup === undefined) === (o.toTime === undefined)) {
    return o.backup === undefined
      ? 'restore: say what to restore: --backup <id> (from `slipway backups`) or --to-time <ISO time> (a point in time)'
      : 'restore: give either --backup or --to-time, not both';
  }
  if (o.toTime !== undefined && !isIsoTimeWithZone(o.toTime)) return `--to-time: expected an ISO 8601 time with a zone, e.g. 2026-12-07T10:30:00Z (got "${o.toTime}")`;
  if (o.inPlace && !o.yes) {
    const users = ctx.usedBy === null ? 'the services using it' : ctx.usedBy.length ? `the services using it (${ctx.usedBy.join(', ')})` : 'the services using it (none now)';
    const source = o.backup !== undefined ? `backup ${o.backup}` : `its state at ${o.toTime}`;
    return [
      `restore --in-place replaces the live data of ${ctx.accessory} in ${ctx.where}:`,
      `  1. ${users} are stopped;`,
      `  2. a backup of its current state is taken first (to go back to);`,
      `  3. its data is replaced by ${source}, then it and those services start again.`,
      'Add --yes to do it. Without --in-place the data goes into a new accessory beside it, and nothing live changes.',
    ].join('\n');
  }
  return null;
}

export function isIsoTimeWithZone(s: string): boolean {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s));
}

/** A full id, or the id a unique prefix (the 8 characters the table shows) stands for; else a message saying why not. */
export function matchBackupId(given: string, backups: Array<Pick<BackupView, 'id'>>, where: string): { id: string } | { problem: string } {
  const g = given.toLowerCase();
  if (!/^[0-9a-f-]{1,36}$/.test(g)) return { problem: `"${given}" is not a backup id: expected the id or its first characters, as \`slipway backups\` lists them` };
  const hits = backups.filter((b) => b.id.startsWith(g));
  if (hits.length === 1) return { id: hits[0]!.id };
  if (hits.length === 0) return { problem: `no backup of ${where} has an id starting "${given}" (list them: slipway backups --all; another environment: --env)` };
  return { problem: `"${given}" matches ${hits.length} backups (${hits.map((b) => b.id.slice(0, 12)).join(', ')}): give more of the id` };
}

export const isFullBackupId = (s: string): boolean => /^[0-9a-f-]{36}$/.test(s);

/** "backups: ok, last 2h ago, verified 2h ago" / "backups: FAILED — …" / "backups: verify FAILED — …" / "backups: none yet". */
export function backupHealthText(h: BackupHealthView, now = Date.now()): string {
  const when = [`last ${h.lastBackupAt ? ago(h.lastBackupAt, now) : 'never'}`, `verified ${h.lastVerifiedAt ? ago(h.lastVerifiedAt, now) : 'never'}`].join(', ');
  switch (h.state) {
    case 'ok':
      return `backups: ok, ${when}`;
    case 'none':
      return 'backups: none yet';
    case 'failed':
      return `backups: FAILED — ${h.detail ?? 'the newest backup failed'} (${when})`;
    case 'verify_failed':
      return `backups: verify FAILED — ${h.detail ?? 'the newest verification failed'} (${when})`;
  }
}
