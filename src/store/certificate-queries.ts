/** The certificates role of the Store port over Kysely; a put's event goes to the outbox in the same transaction. */
import type { CertificateRecord } from '../core/domain';
import type { CertificateStore, NewOutboxEvent } from '../core/ports/store';
import { insertOutbox } from './outbox-queries';
import { type Db, now, type Row } from './query-support';

export function certificateQueries(db: Db): CertificateStore {
  return {
    async putCertificate(c: Omit<CertificateRecord, 'createdAt' | 'updatedAt'>, event?: NewOutboxEvent): Promise<CertificateRecord> {
      const at = now();
      const values = {
        domain: c.domain,
        source: c.source,
        status: c.status,
        cert_pem: c.certPem,
        key_id: c.keyId,
        sealed_key: c.sealedKey,
        domains: JSON.stringify(c.domains),
        not_before: c.notBefore,
        not_after: c.notAfter,
        issuer: c.issuer,
        fingerprint256: c.fingerprint256,
        renew_at: c.renewAt,
        issued_at: c.issuedAt,
        last_error: c.lastError,
        failures: c.failures,
        next_attempt_at: c.nextAttemptAt,
        updated_at: at,
      };
      return db.transaction().execute(async (trx) => {
        const row = await trx
          .insertInto('certificates')
          .values({ ...values, created_at: at })
          .onConflict((oc) => oc.column('domain').doUpdateSet(values))
          .returningAll()
          .executeTakeFirstOrThrow();
        if (event) await insertOutbox(trx, event);
        return toCertificate(row);
      });
    },

    async getCertificate(domain: string): Promise<CertificateRecord | null> {
      const row = await db.selectFrom('certificates').selectAll().where('domain', '=', domain).executeTakeFirst();
      return row ? toCertificate(row) : null;
    },

    async listCertificates(): Promise<CertificateRecord[]> {
      return (await db.selectFrom('certificates').selectAll().orderBy('domain').execute()).map(toCertificate);
    },

    async deleteCertificate(domain: string): Promise<boolean> {
      const r = await db.deleteFrom('certificates').where('domain', '=', domain).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },

    async resealCertificates(updates: Array<{ domain: string; keyId: string; sealedKey: string }>): Promise<void> {
      await db.transaction().execute(async (trx) => {
        for (const u of updates) await trx.updateTable('certificates').set({ key_id: u.keyId, sealed_key: u.sealedKey }).where('domain', '=', u.domain).execute();
      });
    },
  };
}

const toCertificate = (r: Row<'certificates'>): CertificateRecord => ({
  domain: r.domain,
  source: r.source,
  status: r.status,
  certPem: r.cert_pem,
  keyId: r.key_id,
  sealedKey: r.sealed_key,
  domains: JSON.parse(r.domains) as string[],
  notBefore: r.not_before,
  notAfter: r.not_after,
  issuer: r.issuer,
  fingerprint256: r.fingerprint256,
  renewAt: r.renew_at,
  issuedAt: r.issued_at,
  lastError: r.last_error,
  failures: r.failures,
  nextAttemptAt: r.next_attempt_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});
