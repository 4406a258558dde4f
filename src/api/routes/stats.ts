import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../api-deps';
import { parseInput } from '../parse-body';
import { serviceParams } from '../../core/contract/requests';
import { hostStatsQuery, serverParams, serviceStatsQuery } from '../../core/contract/stats';

/** History of container and host stats (the newest sample is in the status read model). */
export function statsRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/api/v1/projects/:project/services/:service/stats', { config: { scope: 'read' } }, async (req) => {
    const p = parseInput(serviceParams, req.params, 'path');
    const q = parseInput(serviceStatsQuery, req.query, 'query');
    return deps.resourceStats.service(p.project, p.service, q.env, q.since);
  });

  app.get('/api/v1/servers/:server/stats', { config: { scope: 'read' } }, async (req) => {
    const { server } = parseInput(serverParams, req.params, 'path');
    const { since } = parseInput(hostStatsQuery, req.query, 'query');
    return deps.resourceStats.host(server, since);
  });
}
