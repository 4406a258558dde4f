import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../api-deps';
import { parseInput } from '../parse-body';
import { baseImageBody } from '../../core/contract/requests';

export function systemRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/api/v1/health', { config: { public: true } }, async (_req, reply) => {
    const report = await deps.health();
    return reply.status(report.ok ? 200 : 503).send(report);
  });

  app.get('/api/v1/servers', { config: { scope: 'read' } }, async () => ({ servers: await deps.queries.servers() }));

  app.post('/api/v1/base-images', { config: { scope: 'admin' } }, async (req) => {
    const body = parseInput(baseImageBody, req.body, 'base image request');
    return { image: await deps.baseImages.create(body.kind, { force: body.force }) };
  });
}
