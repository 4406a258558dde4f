import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../api-deps';
import { parseInput } from '../parse-body';
import { SlipwayError } from '../../core/errors';
import { projectParams, serviceParams } from '../../core/contract/requests';
import { metricsQuery, metricsSeriesQuery, overviewQuery, overviewSeriesQuery, requestsQuery, type RequestMetricsReader } from '../../core/contract/metrics';

/** Request metrics from the edge's log and the recent-requests ring (docs/observability.md). */
export function metricsRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const reader = (): RequestMetricsReader => {
    if (!deps.requestMetrics) throw new SlipwayError('SLW_NOT_FOUND', 'request metrics are off on this server (SLIPWAY_REQUEST_LOG_LISTEN=off)');
    return deps.requestMetrics;
  };

  app.get('/api/v1/projects/:project/services/:service/metrics', { config: { scope: 'read' } }, async (req) => {
    const p = parseInput(serviceParams, req.params, 'path');
    return reader().metrics({ ...p, ...parseInput(metricsQuery, req.query, 'query') });
  });

  app.get('/api/v1/projects/:project/metrics', { config: { scope: 'read' } }, async (req) => {
    const p = parseInput(projectParams, req.params, 'path');
    return reader().overview({ ...p, ...parseInput(overviewQuery, req.query, 'query') });
  });

  app.get('/api/v1/projects/:project/services/:service/metrics/series', { config: { scope: 'read' } }, async (req) => {
    const p = parseInput(serviceParams, req.params, 'path');
    return reader().series({ ...p, ...parseInput(metricsSeriesQuery, req.query, 'query') });
  });

  app.get('/api/v1/projects/:project/metrics/series', { config: { scope: 'read' } }, async (req) => {
    const p = parseInput(projectParams, req.params, 'path');
    return reader().overviewSeries({ ...p, ...parseInput(overviewSeriesQuery, req.query, 'query') });
  });

  app.get('/api/v1/projects/:project/services/:service/requests', { config: { scope: 'read' } }, async (req) => {
    const p = parseInput(serviceParams, req.params, 'path');
    return reader().requests({ ...p, ...parseInput(requestsQuery, req.query, 'query') });
  });
}
