import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../api-deps';
import { assertProjectAccess } from '../auth';
import { parseInput } from '../parse-body';
import { jobRunParams, jobsQuery, projectParams } from '../../core/contract/requests';

/** History of scheduled jobs: runs and skipped ticks, with each run's output tail. */
export function jobRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/api/v1/projects/:project/jobs', { config: { scope: 'read' } }, async (req) => {
    const { project } = parseInput(projectParams, req.params, 'path');
    const q = parseInput(jobsQuery, req.query, 'query');
    const runs = await deps.queries.jobRuns(project, q.env, q.service, q.limit);
    return { runs, schedules: await deps.queries.jobSchedules(project, q.env, q.service) };
  });

  app.get('/api/v1/jobs/:id', { config: { scope: 'read' } }, async (req) => {
    const { id } = parseInput(jobRunParams, req.params, 'path');
    const run = await deps.queries.jobRun(id);
    assertProjectAccess(req, run.project);
    return { run };
  });
}
