/**
 * GET /metrics in Prometheus' text format. Who may scrape it is configurable
 * (SLIPWAY_METRICS_ACCESS): by default a scraper on the same host needs no token and any
 * other client needs a read token; `token` always needs one; `public` never does.
 */
import type { FastifyContextConfig, FastifyInstance } from 'fastify';
import { SlipwayError } from '../../core/errors';
import type { ApiDeps } from '../api-deps';

export function prometheusRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const access = deps.metricsAccess ?? 'loopback';
  const config: FastifyContextConfig = access === 'public' ? { public: true } : access === 'loopback' ? { scope: 'read' as const, loopbackOpen: true } : { scope: 'read' as const };
  app.get('/metrics', { config }, async (_req, reply) => {
    if (!deps.prometheus) throw new SlipwayError('SLW_NOT_FOUND', 'metrics are not enabled on this server');
    const text = await deps.prometheus.render();
    return reply.header('content-type', deps.prometheus.contentType()).send(text);
  });
}
