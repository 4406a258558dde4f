/**
 * GET /metrics in Prometheus' text format. Who may scrape it is configurable
 * (SLIPWAY_METRICS_ACCESS): by default a scraper on the same host needs no token and any
 * other client needs a read token; `token` always needs one; `public` never does. A
 * project-restricted token is refused (403): the metrics span every project.
 */
import type { FastifyContextConfig, FastifyInstance } from 'fastify';
import { SlipwayError } from '../../core/errors';
import type { ApiDeps } from '../api-deps';

export function prometheusRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const access = deps.metricsAccess ?? 'loopback';
  const config: FastifyContextConfig = access === 'public' ? { public: true } : access === 'loopback' ? { scope: 'read' as const, loopbackOpen: true } : { scope: 'read' as const };
  app.get('/metrics', { config }, async (req, reply) => {
    // The exposition covers every project (and the control plane): none of it is a project's alone.
    const project = req.principal?.project;
    if (project) throw new SlipwayError('SLW_FORBIDDEN', `a token restricted to project "${project}" cannot read /metrics: it covers every project; use a token without a project restriction`);
    if (!deps.prometheus) throw new SlipwayError('SLW_NOT_FOUND', 'metrics are not enabled on this server');
    const text = await deps.prometheus.render();
    return reply.header('content-type', deps.prometheus.contentType()).send(text);
  });
}
