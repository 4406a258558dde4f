/** Store role: sealed secrets, one version per change of an environment's secrets. */
import type { SealedSecrets } from '../../domain';

export interface SecretStore {
  /** The newest version of an environment's secrets, or the given one; null if there is none. */
  getSecrets(environmentId: number, version?: number): Promise<SealedSecrets | null>;
  /** Adds a version; fails with SLW_CONFLICT if that version already exists (a concurrent change won). */
  addSecrets(s: Omit<SealedSecrets, 'createdAt'>): Promise<SealedSecrets>;
  /** Every sealed version of every environment (for key rotation). */
  listAllSecrets(): Promise<SealedSecrets[]>;
  /** Replaces the seal of existing versions, all in one transaction. */
  resealSecrets(updates: Array<{ environmentId: number; version: number; keyId: string; sealed: string }>): Promise<void>;
}
