/** Store role: runs of scheduled jobs (cron services). */
import type { JobRun, JobRunStatus } from '../../domain';
import type { NewOutboxEvent } from './outbox-store';

export interface JobRunStore {
  /** Records a scheduled run (status running) or a skipped one. */
  createJobRun(r: Omit<JobRun, 'id' | 'finishedAt' | 'exitCode' | 'output'> & { output?: string }): Promise<JobRun>;
  finishJobRun(id: number, patch: { status: JobRunStatus; exitCode: number | null; note?: string | null; output: string; event?: NewOutboxEvent }): Promise<JobRun>;
  getJobRun(id: number): Promise<JobRun | null>;
  /** Newest first. */
  listJobRuns(q: { environmentId: number; serviceId?: number; status?: JobRunStatus; limit?: number }): Promise<JobRun[]>;
}
