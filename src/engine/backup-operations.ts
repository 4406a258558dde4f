/**
 * What the API and the deploy engine call of the backup manager (engine/backups.ts): back up
 * now, verify, restore, list. Long operations report progress line by line through `onProgress`.
 */
import type { BackupHealthView, BackupView } from '../core/contract/views';
import type { BackupRecord, BackupTrigger, BackupType } from '../core/domain';

export interface AccessoryRef {
  project: string;
  env: string;
  accessory: string;
}

export interface TakeBackupOptions {
  /** Postgres only; default: full when there is no full backup within backup.full_every, else differential. */
  type?: Exclude<BackupType, 'snapshot'>;
  trigger: BackupTrigger;
  deploymentId?: string | null;
  triggeredBy?: string | null;
  onProgress?: (line: string) => void;
}

export interface RestoreOptions {
  /** Exactly one of backupId and toTime. */
  backupId?: string;
  /** ISO time: a point in time from the WAL archive. */
  toTime?: string;
  /** Replace the live accessory (its users stopped, a backup of the current state first); default: a new accessory. */
  inPlace: boolean;
  triggeredBy?: string | null;
  onProgress?: (line: string) => void;
}

export interface RestoreOutcome {
  /** The accessory the data went into: `<name>-restored-<yyyymmddhhmm>`, or the accessory itself in place. */
  accessory: string;
  inPlace: boolean;
  backup: BackupView | null;
  toTime: string | null;
  /** In place: the backup of the state it replaced. */
  safetyBackup: BackupView | null;
  /** How to inspect it, and how to switch to it. */
  next: string[];
}

export interface BackupOperations {
  /** Backs up an accessory now; resolves with the finished record (failed backups throw SLW_BACKUP_FAILED after recording). */
  take(ref: AccessoryRef, opts: TakeBackupOptions): Promise<BackupView>;
  /** Restores a backup into a scratch container and checks it; resolves with the record (its verification passed or failed). */
  verify(id: string, opts: { onProgress?: (line: string) => void; project?: string | null }): Promise<BackupView>;
  restore(ref: AccessoryRef, opts: RestoreOptions): Promise<RestoreOutcome>;
  list(project: string, env: string, q: { accessory?: string; limit: number; expired: boolean; deploymentId?: string }): Promise<BackupView[]>;
  /** `project`: the caller's project restriction (a project token sees only its own). */
  get(id: string, project?: string | null): Promise<BackupView>;
  /** The accessory's backups at a glance; null when it has no backups configured. */
  health(environmentId: number, accessory: string): Promise<BackupHealthView | null>;
}

export type { BackupRecord };
