/** Store role: TLS certificates by domain (chain, key sealed under the master key, renewal state). */
import type { CertificateRecord } from '../../domain';
import type { NewOutboxEvent } from './outbox-store';

export interface CertificateStore {
  /** Creates or replaces a domain's certificate record; `event` goes to the outbox in the same transaction. */
  putCertificate(c: Omit<CertificateRecord, 'createdAt' | 'updatedAt'>, event?: NewOutboxEvent): Promise<CertificateRecord>;
  getCertificate(domain: string): Promise<CertificateRecord | null>;
  /** By domain. */
  listCertificates(): Promise<CertificateRecord[]>;
  deleteCertificate(domain: string): Promise<boolean>;
  /** Re-seals certificate keys after a key rotation, in one transaction. */
  resealCertificates(updates: Array<{ domain: string; keyId: string; sealedKey: string }>): Promise<void>;
}
