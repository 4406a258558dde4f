/** The alert role of the Store port (alerts and silences) over Kysely. */
import type { AlertRecord, AlertSilence, NewAlert, NewSilence } from '../core/alert-records';
import type { AlertRuleName } from '../core/alert-rules';
import type { AlertStore, NewOutboxEvent } from '../core/ports/store';
import { insertOutbox } from './outbox-queries';
import type { Db, Row } from './query-support';

const toAlert = (r: Row<'alerts'>): AlertRecord => ({
  id: r.id,
  rule: r.rule as AlertRuleName,
  subject: r.subject,
  project: r.project,
  env: r.env,
  service: r.service,
  state: r.state,
  startedAt: r.started_at,
  endedAt: r.ended_at,
  value: r.value,
  summary: r.summary,
  link: r.link,
  explain: r.explain,
  silenced: r.silenced === 1,
});

const toSilence = (r: Row<'alert_silences'>): AlertSilence => ({
  id: r.id,
  rule: r.rule as AlertRuleName,
  subject: r.subject,
  project: r.project,
  until: r.until,
  reason: r.reason,
  createdBy: r.created_by,
  createdAt: r.created_at,
});

export function alertQueries(db: Db): AlertStore {
  return {
    async openAlert(a: NewAlert, eventFor: ((stored: AlertRecord) => NewOutboxEvent) | null): Promise<AlertRecord> {
      return db.transaction().execute(async (trx) => {
        const row = await trx
          .insertInto('alerts')
          .values({ rule: a.rule, subject: a.subject, project: a.project, env: a.env, service: a.service, state: 'firing', started_at: a.startedAt, ended_at: null, value: a.value, summary: a.summary, link: a.link, explain: a.explain, silenced: a.silenced ? 1 : 0 })
          .returningAll()
          .executeTakeFirstOrThrow();
        const stored = toAlert(row);
        if (eventFor) await insertOutbox(trx, eventFor(stored));
        return stored;
      });
    },

    async resolveAlert(id: number, end: { endedAt: string; value: number | null; summary: string }, event: NewOutboxEvent | null): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const r = await trx.updateTable('alerts').set({ state: 'resolved', ended_at: end.endedAt, value: end.value, summary: end.summary }).where('id', '=', id).where('state', '=', 'firing').executeTakeFirst();
        if (Number(r.numUpdatedRows) === 0) return false;
        if (event) await insertOutbox(trx, event);
        return true;
      });
    },

    async updateAlertValue(id: number, value: number | null, summary: string): Promise<void> {
      await db.updateTable('alerts').set({ value, summary }).where('id', '=', id).where('state', '=', 'firing').execute();
    },

    async listAlerts(q: { all?: boolean; project?: string; limit?: number }): Promise<AlertRecord[]> {
      let sel = db.selectFrom('alerts').selectAll();
      if (!q.all) sel = sel.where('state', '=', 'firing');
      if (q.project !== undefined) sel = sel.where('project', '=', q.project);
      const rows = await sel.orderBy('started_at', 'desc').orderBy('id', 'desc').limit(q.limit ?? 500).execute();
      return rows.map(toAlert);
    },

    async createSilence(s: NewSilence): Promise<AlertSilence> {
      const row = await db
        .insertInto('alert_silences')
        .values({ rule: s.rule, subject: s.subject, project: s.project, until: s.until, reason: s.reason, created_by: s.createdBy, created_at: s.createdAt })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toSilence(row);
    },

    async listSilences(now: string): Promise<AlertSilence[]> {
      const rows = await db.selectFrom('alert_silences').selectAll().where('until', '>', now).orderBy('until').orderBy('id').execute();
      return rows.map(toSilence);
    },

    async getSilence(id: number): Promise<AlertSilence | null> {
      const row = await db.selectFrom('alert_silences').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toSilence(row) : null;
    },

    async deleteSilence(id: number): Promise<boolean> {
      const r = await db.deleteFrom('alert_silences').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },

    async pruneAlerts(before: string): Promise<number> {
      return db.transaction().execute(async (trx) => {
        const a = await trx.deleteFrom('alerts').where('state', '=', 'resolved').where('ended_at', '<', before).executeTakeFirst();
        const s = await trx.deleteFrom('alert_silences').where('until', '<', before).executeTakeFirst();
        return Number(a.numDeletedRows) + Number(s.numDeletedRows);
      });
    },
  };
}
