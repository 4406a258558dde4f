import type { FastifyInstance } from 'fastify';
import { parseDuration } from '../../core/duration';
import type { ApiDeps } from '../api-deps';
import { parseInput } from '../parse-body';
import { auditQuery } from '../../core/contract/requests';

export function auditRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/api/v1/audit', { config: { scope: 'admin' } }, async (req) => {
    const q = parseInput(auditQuery, req.query, 'query');
    const since = q.since ? new Date(Date.now() - parseDuration(q.since)!).toISOString() : undefined;
    return { entries: await deps.audit.list({ project: q.project, since, limit: q.limit }) };
  });
}
