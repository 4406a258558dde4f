import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../api-deps';

/**
 * Probes for load balancers and init systems: public (a probe has no token) and logged
 * only at warn level, since they are polled every few seconds.
 */
export function readinessRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/livez', { config: { public: true }, logLevel: 'warn' }, async () => deps.liveness());

  app.get('/readyz', { config: { public: true }, logLevel: 'warn' }, async (_req, reply) => {
    const report = await deps.readiness();
    return reply.status(report.status === 'healthy' ? 200 : 503).send(report);
  });
}
