/** The webhooks role of the Store port (git-push webhooks, the deliveries and pushes seen) over Kysely. */
import type { Webhook } from '../core/domain';
import type { WebhookStore } from '../core/ports/store';
import { type Db, now, type Row } from './query-support';

export function webhookQueries(db: Db): WebhookStore {
  return {
    async putWebhook(w: Omit<Webhook, 'createdAt'>): Promise<Webhook> {
      const values = { project: w.project, repository: w.repository, path: w.path, key_id: w.keyId, sealed: w.sealed, created_by: w.createdBy, created_at: now() };
      const row = await db
        .insertInto('webhooks')
        .values(values)
        .onConflict((oc) => oc.column('project').doUpdateSet({ repository: values.repository, path: values.path, key_id: values.key_id, sealed: values.sealed, created_by: values.created_by, created_at: values.created_at }))
        .returningAll()
        .executeTakeFirstOrThrow();
      return toWebhook(row);
    },

    async getWebhook(project: string): Promise<Webhook | null> {
      const row = await db.selectFrom('webhooks').selectAll().where('project', '=', project).executeTakeFirst();
      return row ? toWebhook(row) : null;
    },

    async listWebhooks(): Promise<Webhook[]> {
      return (await db.selectFrom('webhooks').selectAll().orderBy('project').execute()).map(toWebhook);
    },

    async deleteWebhook(project: string): Promise<boolean> {
      const r = await db.deleteFrom('webhooks').where('project', '=', project).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },

    async resealWebhooks(updates: Array<{ project: string; keyId: string; sealed: string }>): Promise<void> {
      await db.transaction().execute(async (trx) => {
        for (const u of updates) await trx.updateTable('webhooks').set({ key_id: u.keyId, sealed: u.sealed }).where('project', '=', u.project).execute();
      });
    },

    async recordDelivery(project: string, deliveryId: string): Promise<boolean> {
      const r = await db
        .insertInto('webhook_deliveries')
        .values({ project, delivery_id: deliveryId, received_at: now() })
        .onConflict((oc) => oc.columns(['project', 'delivery_id']).doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
    },

    async recordWebhookPush(p: { project: string; ref: string; commit: string; bodySha256: string; deliveryId: string }): Promise<boolean> {
      const r = await db
        .insertInto('webhook_pushes')
        .values({ project: p.project, ref: p.ref, commit_sha: p.commit, body_sha256: p.bodySha256, delivery_id: p.deliveryId, received_at: now() })
        .onConflict((oc) => oc.columns(['project', 'ref', 'commit_sha', 'body_sha256']).doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
    },

    async pruneWebhookDeliveries(before: string): Promise<number> {
      return db.transaction().execute(async (trx) => {
        const a = await trx.deleteFrom('webhook_deliveries').where('received_at', '<', before).executeTakeFirst();
        const b = await trx.deleteFrom('webhook_pushes').where('received_at', '<', before).executeTakeFirst();
        return Number(a.numDeletedRows) + Number(b.numDeletedRows);
      });
    },
  };
}

const toWebhook = (r: Row<'webhooks'>): Webhook => ({
  project: r.project,
  repository: r.repository,
  path: r.path,
  keyId: r.key_id,
  sealed: r.sealed,
  createdBy: r.created_by,
  createdAt: r.created_at,
});
