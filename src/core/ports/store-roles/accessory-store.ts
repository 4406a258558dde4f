/** Store role: accessories (databases, caches… next to the services), their sealed credentials and their backups. */
import type { AccessoryRecord, BackupRecord, SealedAccessoryCredentials } from '../../domain';

export type NewBackup = Pick<BackupRecord, 'id' | 'environmentId' | 'accessory' | 'type' | 'trigger' | 'deploymentId' | 'triggeredBy'>;
export type BackupPatch = Partial<Omit<BackupRecord, 'id' | 'environmentId' | 'accessory' | 'trigger' | 'deploymentId' | 'triggeredBy' | 'startedAt'>>;
export interface BackupQuery {
  environmentId?: number;
  accessory?: string;
  states?: BackupRecord['state'][];
  deploymentId?: string;
  /** Newest first; default 100. */
  limit?: number;
  /** Include backups retention removed (default false). */
  expired?: boolean;
}

export interface AccessoryWrite {
  environmentId: number;
  name: string;
  kind: AccessoryRecord['kind'];
  config: AccessoryRecord['config'];
  imageDigest: string;
  specHash: string;
}

export interface AccessoryStore {
  /** Accessories of one environment (all environments when absent: the reconciler), by name. */
  listAccessories(environmentId?: number): Promise<AccessoryRecord[]>;
  getAccessory(environmentId: number, name: string): Promise<AccessoryRecord | null>;
  /** Creates or updates (by environment and name) what was applied; keeps the credentials version. */
  saveAccessory(a: AccessoryWrite): Promise<AccessoryRecord>;
  /** Deletes the record and its credentials (the container and volumes are the runtime's); no-op when already gone. */
  deleteAccessory(id: number): Promise<void>;
  /** Adds the next credentials version and makes it the accessory's current one, atomically. */
  addAccessoryCredentials(accessoryId: number, sealed: { keyId: string; sealed: string }): Promise<SealedAccessoryCredentials>;
  /** The given version, or the current one; null if there is none. */
  getAccessoryCredentials(accessoryId: number, version?: number): Promise<SealedAccessoryCredentials | null>;
  /** Every version of every accessory (master key rotation re-seals them). */
  listAllAccessoryCredentials(): Promise<SealedAccessoryCredentials[]>;
  resealAccessoryCredentials(updates: Array<{ accessoryId: number; version: number; keyId: string; sealed: string }>): Promise<void>;

  /** A backup starts `running` (startedAt now). */
  createBackup(b: NewBackup): Promise<BackupRecord>;
  updateBackup(id: string, patch: BackupPatch): Promise<BackupRecord>;
  getBackup(id: string): Promise<BackupRecord | null>;
  listBackups(q: BackupQuery): Promise<BackupRecord[]>;
}
