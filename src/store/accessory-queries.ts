/** The accessories role of the Store port (accessories, their sealed credentials, their backups) over Kysely. */
import type { StoredFile } from '../core/ports/backup-files';
import type { AccessoryRecord, BackupRecord, BackupVerification, SealedAccessoryCredentials } from '../core/domain';
import type { AccessoryConfig } from '../core/config';
import type { AccessoryStore, AccessoryWrite, BackupPatch, BackupQuery, NewBackup } from '../core/ports/store';
import { type Db, notFound, now, requireRow, type Row } from './query-support';

export function accessoryQueries(db: Db): AccessoryStore {
  async function getBackup(id: string): Promise<BackupRecord | null> {
    const row = await db.selectFrom('backups').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toBackup(row) : null;
  }

  return {
    async listAccessories(environmentId?: number): Promise<AccessoryRecord[]> {
      const rows = await db
        .selectFrom('accessories')
        .selectAll()
        .$if(environmentId !== undefined, (q) => q.where('environment_id', '=', environmentId!))
        .orderBy('environment_id')
        .orderBy('name')
        .execute();
      return rows.map(toAccessory);
    },

    async getAccessory(environmentId: number, name: string): Promise<AccessoryRecord | null> {
      const row = await db.selectFrom('accessories').selectAll().where('environment_id', '=', environmentId).where('name', '=', name).executeTakeFirst();
      return row ? toAccessory(row) : null;
    },

    async saveAccessory(a: AccessoryWrite): Promise<AccessoryRecord> {
      return db.transaction().execute(async (trx) => {
        await requireRow(trx, 'environments', a.environmentId, 'environment');
        const at = now();
        const applied = { kind: a.kind, config: JSON.stringify(a.config), image_digest: a.imageDigest, spec_hash: a.specHash, updated_at: at };
        // The credentials version is not written here: only addAccessoryCredentials moves it.
        await trx
          .insertInto('accessories')
          .values({ environment_id: a.environmentId, name: a.name, ...applied, created_at: at })
          .onConflict((oc) => oc.columns(['environment_id', 'name']).doUpdateSet(applied))
          .execute();
        const row = await trx.selectFrom('accessories').selectAll().where('environment_id', '=', a.environmentId).where('name', '=', a.name).executeTakeFirstOrThrow();
        return toAccessory(row);
      });
    },

    async deleteAccessory(id: number): Promise<void> {
      // Idempotent: a destroy resumed after a crash may find the record already gone.
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('accessory_credentials').where('accessory_id', '=', id).execute();
        await trx.deleteFrom('accessories').where('id', '=', id).execute();
      });
    },

    async addAccessoryCredentials(accessoryId: number, sealed: { keyId: string; sealed: string }): Promise<SealedAccessoryCredentials> {
      return db.transaction().execute(async (trx) => {
        const owner = await trx.selectFrom('accessories').select('id').where('id', '=', accessoryId).executeTakeFirst();
        if (!owner) throw notFound('accessory', accessoryId);
        const { max } = await trx
          .selectFrom('accessory_credentials')
          .select((eb) => eb.fn.max('version').as('max'))
          .where('accessory_id', '=', accessoryId)
          .executeTakeFirstOrThrow();
        const row = await trx
          .insertInto('accessory_credentials')
          .values({ accessory_id: accessoryId, version: Number(max ?? 0) + 1, key_id: sealed.keyId, sealed: sealed.sealed, created_at: now() })
          .returningAll()
          .executeTakeFirstOrThrow();
        await trx.updateTable('accessories').set({ credentials_version: row.version }).where('id', '=', accessoryId).execute();
        return toAccessoryCredentials(row);
      });
    },

    async getAccessoryCredentials(accessoryId: number, version?: number): Promise<SealedAccessoryCredentials | null> {
      let wanted = version;
      if (wanted === undefined) {
        const owner = await db.selectFrom('accessories').select('credentials_version').where('id', '=', accessoryId).executeTakeFirst();
        if (!owner || owner.credentials_version === 0) return null;
        wanted = owner.credentials_version;
      }
      const row = await db.selectFrom('accessory_credentials').selectAll().where('accessory_id', '=', accessoryId).where('version', '=', wanted).executeTakeFirst();
      return row ? toAccessoryCredentials(row) : null;
    },

    async listAllAccessoryCredentials(): Promise<SealedAccessoryCredentials[]> {
      return (await db.selectFrom('accessory_credentials').selectAll().orderBy('accessory_id').orderBy('version').execute()).map(toAccessoryCredentials);
    },

    async resealAccessoryCredentials(updates: Array<{ accessoryId: number; version: number; keyId: string; sealed: string }>): Promise<void> {
      await db.transaction().execute(async (trx) => {
        for (const u of updates) {
          const r = await trx
            .updateTable('accessory_credentials')
            .set({ key_id: u.keyId, sealed: u.sealed })
            .where('accessory_id', '=', u.accessoryId)
            .where('version', '=', u.version)
            .executeTakeFirst();
          if (Number(r.numUpdatedRows) !== 1) throw notFound(`credentials version ${u.version} of accessory`, u.accessoryId);
        }
      });
    },

    async createBackup(b: NewBackup): Promise<BackupRecord> {
      await db.transaction().execute(async (trx) => {
        await requireRow(trx, 'environments', b.environmentId, 'environment');
        await trx
          .insertInto('backups')
          .values({ id: b.id, environment_id: b.environmentId, accessory: b.accessory, type: b.type, trigger: b.trigger, deployment_id: b.deploymentId, triggered_by: b.triggeredBy, state: 'running', started_at: now() })
          .execute();
      });
      return (await getBackup(b.id))!;
    },

    async updateBackup(id: string, patch: BackupPatch): Promise<BackupRecord> {
      const set: Partial<Row<'backups'>> = {};
      if (patch.type !== undefined) set.type = patch.type;
      if (patch.state !== undefined) set.state = patch.state;
      if (patch.label !== undefined) set.label = patch.label;
      if (patch.restorePoint !== undefined) set.restore_point = patch.restorePoint;
      if (patch.sizeBytes !== undefined) set.size_bytes = patch.sizeBytes;
      if (patch.storedBytes !== undefined) set.stored_bytes = patch.storedBytes;
      if (patch.walStart !== undefined) set.wal_start = patch.walStart;
      if (patch.walStop !== undefined) set.wal_stop = patch.walStop;
      if (patch.tableCounts !== undefined) set.table_counts = patch.tableCounts === null ? null : JSON.stringify(patch.tableCounts);
      if (patch.error !== undefined) set.error = patch.error;
      if (patch.verification !== undefined) set.verify = patch.verification === null ? null : JSON.stringify(patch.verification);
      if (patch.files !== undefined) set.files = patch.files === null ? null : JSON.stringify(patch.files);
      if (patch.finishedAt !== undefined) set.finished_at = patch.finishedAt;
      if (patch.expiredAt !== undefined) set.expired_at = patch.expiredAt;
      if (Object.keys(set).length > 0) {
        const r = await db.updateTable('backups').set(set).where('id', '=', id).executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) throw notFound('backup', id);
      }
      const row = await getBackup(id);
      if (!row) throw notFound('backup', id);
      return row;
    },

    getBackup,

    async listBackups(q: BackupQuery): Promise<BackupRecord[]> {
      const rows = await db
        .selectFrom('backups')
        .selectAll()
        .$if(q.environmentId !== undefined, (b) => b.where('environment_id', '=', q.environmentId!))
        .$if(q.accessory !== undefined, (b) => b.where('accessory', '=', q.accessory!))
        .$if(q.deploymentId !== undefined, (b) => b.where('deployment_id', '=', q.deploymentId!))
        .$if(q.states !== undefined && q.states.length > 0, (b) => b.where('state', 'in', q.states!))
        .$if(!q.expired, (b) => b.where('expired_at', 'is', null))
        .orderBy('started_at', 'desc')
        .orderBy('id', 'desc')
        .limit(q.limit ?? 100)
        .execute();
      return rows.map(toBackup);
    },
  };
}

const toAccessory = (r: Row<'accessories'>): AccessoryRecord => ({
  id: r.id,
  environmentId: r.environment_id,
  name: r.name,
  kind: r.kind,
  config: JSON.parse(r.config) as AccessoryConfig,
  imageDigest: r.image_digest,
  specHash: r.spec_hash,
  credentialsVersion: r.credentials_version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});
const toAccessoryCredentials = (r: Row<'accessory_credentials'>): SealedAccessoryCredentials => ({
  accessoryId: r.accessory_id,
  version: r.version,
  keyId: r.key_id,
  sealed: r.sealed,
  createdAt: r.created_at,
});
const toBackup = (r: Row<'backups'>): BackupRecord => ({
  id: r.id,
  environmentId: r.environment_id,
  accessory: r.accessory,
  type: r.type,
  trigger: r.trigger,
  deploymentId: r.deployment_id,
  triggeredBy: r.triggered_by,
  state: r.state,
  label: r.label,
  restorePoint: r.restore_point,
  sizeBytes: r.size_bytes,
  storedBytes: r.stored_bytes,
  walStart: r.wal_start,
  walStop: r.wal_stop,
  tableCounts: r.table_counts === null ? null : (JSON.parse(r.table_counts) as Record<string, number>),
  error: r.error,
  verification: r.verify === null ? null : (JSON.parse(r.verify) as BackupVerification),
  files: r.files === null ? null : (JSON.parse(r.files) as StoredFile[]),
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  expiredAt: r.expired_at,
});
