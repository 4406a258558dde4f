/** The job-runs role of the Store port (runs of scheduled jobs) over Kysely; a finished run's event goes to the outbox in the same transaction. */
import type { JobRun, JobRunStatus } from '../core/domain';
import type { JobRunStore, NewOutboxEvent } from '../core/ports/store';
import { insertOutbox } from './outbox-queries';
import { checkLimit, type Db, notFound, now, type Row } from './query-support';

export function jobRunQueries(db: Db): JobRunStore {
  return {
    async createJobRun(r: Omit<JobRun, 'id' | 'finishedAt' | 'exitCode' | 'output'> & { output?: string }): Promise<JobRun> {
      const row = await db
        .insertInto('job_runs')
        .values({
          service_id: r.serviceId,
          environment_id: r.environmentId,
          release_id: r.releaseId,
          scheduled_at: r.scheduledAt,
          started_at: r.startedAt,
          finished_at: r.status === 'running' ? null : now(),
          status: r.status,
          exit_code: null,
          note: r.note,
          output: r.output ?? '',
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toJobRun(row);
    },

    async finishJobRun(id: number, patch: { status: JobRunStatus; exitCode: number | null; note?: string | null; output: string; event?: NewOutboxEvent }): Promise<JobRun> {
      return db.transaction().execute(async (trx) => {
        const row = await trx
          .updateTable('job_runs')
          .set({ status: patch.status, exit_code: patch.exitCode, note: patch.note ?? null, output: patch.output, finished_at: now() })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirst();
        if (!row) throw notFound('job run', id);
        if (patch.event) await insertOutbox(trx, patch.event);
        return toJobRun(row);
      });
    },

    async getJobRun(id: number): Promise<JobRun | null> {
      const row = await db.selectFrom('job_runs').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toJobRun(row) : null;
    },

    async listJobRuns(q: { environmentId: number; serviceId?: number; status?: JobRunStatus; limit?: number }): Promise<JobRun[]> {
      checkLimit(q.limit);
      const rows = await db
        .selectFrom('job_runs')
        .selectAll()
        .where('environment_id', '=', q.environmentId)
        .$if(q.serviceId !== undefined, (qb) => qb.where('service_id', '=', q.serviceId!))
        .$if(q.status !== undefined, (qb) => qb.where('status', '=', q.status!))
        .orderBy('id', 'desc')
        .$if(q.limit !== undefined, (qb) => qb.limit(q.limit!))
        .execute();
      return rows.map(toJobRun);
    },
  };
}

const toJobRun = (r: Row<'job_runs'>): JobRun => ({
  id: r.id,
  serviceId: r.service_id,
  environmentId: r.environment_id,
  releaseId: r.release_id,
  scheduledAt: r.scheduled_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  status: r.status,
  exitCode: r.exit_code,
  note: r.note,
  output: r.output,
});
