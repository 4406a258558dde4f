/** The secrets role of the Store port (sealed versions per environment) over Kysely. */
import type { SealedSecrets } from '../core/domain';
import { SlipwayError } from '../core/errors';
import type { SecretStore } from '../core/ports/store';
import { type Db, notFound, now, requireRow, type Row } from './query-support';

export function secretQueries(db: Db): SecretStore {
  return {
    async getSecrets(environmentId: number, version?: number): Promise<SealedSecrets | null> {
      let q = db.selectFrom('secrets').selectAll().where('environment_id', '=', environmentId);
      q = version === undefined ? q.orderBy('version', 'desc').limit(1) : q.where('version', '=', version);
      const row = await q.executeTakeFirst();
      return row ? toSecrets(row) : null;
    },

    async addSecrets(s: Omit<SealedSecrets, 'createdAt'>): Promise<SealedSecrets> {
      return db.transaction().execute(async (trx) => {
        await requireRow(trx, 'environments', s.environmentId, 'environment');
        const clash = await trx.selectFrom('secrets').select('version').where('environment_id', '=', s.environmentId).where('version', '=', s.version).executeTakeFirst();
        if (clash) throw new SlipwayError('SLW_CONFLICT', `secrets version ${s.version} already exists (changed concurrently); retry`);
        const row = await trx
          .insertInto('secrets')
          .values({ environment_id: s.environmentId, version: s.version, key_id: s.keyId, sealed: s.sealed, names: JSON.stringify(s.names), created_at: now() })
          .returningAll()
          .executeTakeFirstOrThrow();
        return toSecrets(row);
      });
    },

    async listAllSecrets(): Promise<SealedSecrets[]> {
      return (await db.selectFrom('secrets').selectAll().orderBy('environment_id').orderBy('version').execute()).map(toSecrets);
    },

    async resealSecrets(updates: Array<{ environmentId: number; version: number; keyId: string; sealed: string }>): Promise<void> {
      await db.transaction().execute(async (trx) => {
        for (const u of updates) {
          const r = await trx
            .updateTable('secrets')
            .set({ key_id: u.keyId, sealed: u.sealed })
            .where('environment_id', '=', u.environmentId)
            .where('version', '=', u.version)
            .executeTakeFirst();
          if (Number(r.numUpdatedRows) !== 1) throw notFound(`secrets version ${u.version} of environment`, u.environmentId);
        }
      });
    },
  };
}

const toSecrets = (r: Row<'secrets'>): SealedSecrets => ({
  environmentId: r.environment_id,
  version: r.version,
  keyId: r.key_id,
  sealed: r.sealed,
  names: JSON.parse(r.names) as SealedSecrets['names'],
  createdAt: r.created_at,
});
