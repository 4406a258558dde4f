/**
 * Where snapshot backups (redis RDB files, NATS stream snapshots, copies of container volumes)
 * are kept: one folder per backup, each file checksummed as it is written, so verification can
 * tell a corrupted copy from a good one before restoring it. Implemented on the control plane's
 * host (drivers/backup-files), outside every accessory's volume.
 */
import type { Readable } from 'node:stream';

/** One backup's folder: `<project>/<env>/<accessory>/<backup id>`. */
export interface BackupFolder {
  project: string;
  env: string;
  accessory: string;
  backupId: string;
}

export interface StoredFile {
  name: string;
  bytes: number;
  sha256: string;
}

export interface BackupFiles {
  /** Writes one file of the backup from a stream (a name of `[A-Za-z0-9._-]`); returns its size and checksum. */
  write(folder: BackupFolder, name: string, content: Readable | AsyncIterable<Uint8Array>): Promise<StoredFile>;
  /** Reads a file back; throws SLW_NOT_FOUND when it is missing. */
  read(folder: BackupFolder, name: string): Readable;
  /** Files whose size or checksum no longer match (each with why); [] when all are intact. */
  check(folder: BackupFolder, files: StoredFile[]): Promise<string[]>;
  /** Removes the backup's folder (retention, a failed backup, a deleted accessory). Missing is fine. */
  remove(folder: BackupFolder): Promise<void>;
  /** Bytes kept for an accessory (all its backups). */
  usage(accessory: Omit<BackupFolder, 'backupId'>): Promise<number>;
  /** Where the files are on the host (docs and messages). */
  describe(folder: BackupFolder): string;
}
