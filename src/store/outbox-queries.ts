/**
 * The outbox role of the Store port (domain events, notification targets and deliveries) over
 * Kysely. `insertOutbox` is how the other roles append an event inside their own transaction.
 */
import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { EventType, NotificationDelivery, NotificationTarget, OutboxEvent } from '../core/domain';
import type { NewOutboxEvent, OutboxStore } from '../core/ports/store';
import { type Db, now, type Row } from './query-support';
import type { Database } from './schema';

export function outboxQueries(db: Db): OutboxStore {
  return {
    async appendOutboxEvent(e: NewOutboxEvent): Promise<void> {
      await db.transaction().execute((trx) => insertOutbox(trx, e));
    },

    async listOutbox(afterSeq: number, limit: number): Promise<OutboxEvent[]> {
      const rows = await db.selectFrom('outbox').selectAll().where('seq', '>', afterSeq).orderBy('seq').limit(limit).execute();
      return rows.map(toOutbox);
    },

    async getOutboxEvent(eventId: string): Promise<OutboxEvent | null> {
      const row = await db.selectFrom('outbox').selectAll().where('event_id', '=', eventId).executeTakeFirst();
      return row ? toOutbox(row) : null;
    },

    async createNotificationTarget(t: Omit<NotificationTarget, 'createdAt'>): Promise<NotificationTarget> {
      const row = await db
        .insertInto('notification_targets')
        .values({ id: t.id, kind: t.kind, url: t.url, key_id: t.keyId, sealed: t.sealed, project: t.project, events: JSON.stringify(t.events), created_by: t.createdBy, created_at: now() })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toTarget(row);
    },

    async listNotificationTargets(): Promise<NotificationTarget[]> {
      return (await db.selectFrom('notification_targets').selectAll().orderBy('created_at').execute()).map(toTarget);
    },

    async deleteNotificationTarget(id: string): Promise<boolean> {
      const r = await db.deleteFrom('notification_targets').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },

    async resealNotificationTarget(id: string, keyId: string, sealed: string): Promise<void> {
      await db.updateTable('notification_targets').set({ key_id: keyId, sealed }).where('id', '=', id).execute();
    },

    async addDeliveries(eventId: string, targetIds: string[], at: string): Promise<void> {
      if (targetIds.length === 0) return;
      await db
        .insertInto('notification_deliveries')
        .values(targetIds.map((targetId) => ({ event_id: eventId, target_id: targetId, status: 'pending' as const, attempts: 0, next_attempt_at: at, last_error: null, delivered_at: null })))
        .onConflict((oc) => oc.columns(['event_id', 'target_id']).doNothing())
        .execute();
    },

    async dueDeliveries(at: string, limit: number): Promise<NotificationDelivery[]> {
      const rows = await db
        .selectFrom('notification_deliveries')
        .selectAll()
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', at)
        .orderBy('next_attempt_at')
        .limit(limit)
        .execute();
      return rows.map(toDelivery);
    },

    async outboxBacklog(afterSeq: number): Promise<{ events: number; pendingDeliveries: number }> {
      const events = await db.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('seq', '>', afterSeq).executeTakeFirstOrThrow();
      const pending = await db.selectFrom('notification_deliveries').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow();
      return { events: Number(events.n), pendingDeliveries: Number(pending.n) };
    },

    async updateDelivery(eventId: string, targetId: string, patch: Partial<Omit<NotificationDelivery, 'eventId' | 'targetId'>>): Promise<void> {
      const set: Record<string, unknown> = {};
      if (patch.status !== undefined) set.status = patch.status;
      if (patch.attempts !== undefined) set.attempts = patch.attempts;
      if (patch.nextAttemptAt !== undefined) set.next_attempt_at = patch.nextAttemptAt;
      if (patch.lastError !== undefined) set.last_error = patch.lastError;
      if (patch.deliveredAt !== undefined) set.delivered_at = patch.deliveredAt;
      await db.updateTable('notification_deliveries').set(set).where('event_id', '=', eventId).where('target_id', '=', targetId).execute();
    },

    async listDeliveries(limit: number): Promise<Array<NotificationDelivery & { type: EventType; project: string | null }>> {
      const rows = await db
        .selectFrom('notification_deliveries')
        .innerJoin('outbox', 'outbox.event_id', 'notification_deliveries.event_id')
        .selectAll('notification_deliveries')
        .select(['outbox.type', 'outbox.project'])
        .orderBy('outbox.seq', 'desc')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ ...toDelivery(r), type: r.type as EventType, project: r.project }));
    },
  };
}

/** Appends the event inside the caller's transaction (the write it accompanies commits or rolls back with it). */
export async function insertOutbox(trx: Transaction<Database>, e: NewOutboxEvent): Promise<void> {
  await trx.insertInto('outbox').values({ event_id: randomUUID(), type: e.type, project: e.project, payload: JSON.stringify(e.payload), created_at: now() }).execute();
}
const toOutbox = (r: Row<'outbox'>): OutboxEvent => ({
  seq: r.seq,
  eventId: r.event_id,
  type: r.type as EventType,
  project: r.project,
  payload: JSON.parse(r.payload) as Record<string, unknown>,
  createdAt: r.created_at,
});
const toTarget = (r: Row<'notification_targets'>): NotificationTarget => ({
  id: r.id,
  kind: r.kind,
  url: r.url,
  keyId: r.key_id,
  sealed: r.sealed,
  project: r.project,
  events: JSON.parse(r.events) as EventType[],
  createdBy: r.created_by,
  createdAt: r.created_at,
});
const toDelivery = (r: Row<'notification_deliveries'>): NotificationDelivery => ({
  eventId: r.event_id,
  targetId: r.target_id,
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  lastError: r.last_error,
  deliveredAt: r.delivered_at,
});
