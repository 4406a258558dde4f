import type { FastifyInstance } from 'fastify';
import { volumesQuery } from '../../core/contract/requests';
import type { ApiDeps } from '../api-deps';
import { parseInput } from '../parse-body';

export function volumeRoutes(app: FastifyInstance, deps: ApiDeps): void {
  /** Named volumes of accessories and services; a project-restricted token sees its project's only. */
  app.get('/api/v1/volumes', { config: { scope: 'read' } }, async (req) => {
    const q = parseInput(volumesQuery, req.query, 'query');
    return { volumes: await deps.volumes(q, req.principal?.project ?? null) };
  });
}
