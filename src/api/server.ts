/**
 * The HTTP API. Routes are thin: parse → call engine/queries → respond. Every route
 * declares the scope a bearer token needs (`config: { scope }`) or `public: true`;
 * every mutating or refused call leaves an audit record.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { SlipwayError } from '../core/errors';
import type { ApiDeps } from './api-deps';
import { makeAuthenticator } from './auth';
import { auditHook } from './audit-hook';
import { routeContract } from '../core/contract/routes';
import { openApiDocument, type DocumentedRoute } from './openapi';
import { responseCheck } from './response-check';
import { accessRoutes } from './routes/access';
import { auditRoutes } from './routes/audit';
import { webhookRoutes } from './routes/webhooks';
import { alertRoutes } from './routes/alerts';
import { certificateRoutes } from './routes/certificates';
import { notificationRoutes } from './routes/notifications';
import { prometheusRoutes } from './routes/prometheus';
import { errorHandler } from './error-response';
import { deploymentRoutes } from './routes/deployments';
import { environmentRoutes } from './routes/environments';
import { jobRoutes } from './routes/jobs';
import { secretRoutes } from './routes/secrets';
import { serviceRoutes } from './routes/services';
import { serviceLogRoutes } from './routes/service-logs';
import { sourceRoutes } from './routes/sources';
import { imageRoutes } from './routes/images';
import { systemRoutes } from './routes/system';
import { readinessRoutes } from './routes/readiness';
import { statsRoutes } from './routes/stats';
import { metricsRoutes } from './routes/metrics';
import { dashboardRoutes } from './dashboard-assets';
import { accessoryRoutes } from './routes/accessories';
import { volumeRoutes } from './routes/volumes';
import { backupRoutes } from './routes/backups';

export interface BuildApiOptions {
  /** Sees every route as it is registered (the auth test walks the whole table). */
  onRoute?: (route: { method: string | string[]; url: string; config?: unknown }) => void;
  /** Check every JSON answer against the route's declared response schema (tests). */
  strictResponses?: boolean;
  /**
   * Peers whose X-Forwarded-For / -Proto are believed: the edge, when it serves the dashboard on
   * SLIPWAY_DOMAIN. Without it every browser would share the edge's address (one login failure
   * limit for all, the edge's address in the audit log, /metrics open as "loopback").
   */
  trustProxy?: string[];
  /** The dashboard build served at / (SLIPWAY_DASHBOARD_DIR); default: dashboardDir(). */
  dashboardDir?: string;
}

/** Largest JSON body (slipway.yml is at most 64 KiB; a certificate and its key 2 × 64 KiB); uploads set their own. */
export const API_BODY_LIMIT_BYTES = 1024 * 1024;

export function buildApi(deps: ApiDeps, opts: BuildApiOptions = {}): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'api' }) as FastifyBaseLogger,
    bodyLimit: API_BODY_LIMIT_BYTES,
    ...(opts.trustProxy?.length ? { trustProxy: opts.trustProxy } : {}),
    disableRequestLogging: false,
  });
  const authenticate = makeAuthenticator(deps.access, deps.authLimiter);
  // Every route states who may call it (a scope, or public) and is in the OpenAPI
  // document. Forgetting either is a startup error.
  const documented: DocumentedRoute[] = [];
  app.addHook('onRoute', (route) => {
    const config = route.config as { public?: boolean; scope?: string } | undefined;
    if (!config?.public && !config?.scope) throw new Error(`route ${String(route.method)} ${route.url} declares neither a scope nor public`);
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      if (!routeContract(`${method} ${route.url}`)) throw new Error(`route ${method} ${route.url} has no entry in ROUTES (src/core/contract/routes.ts)`);
      documented.push({ method, url: route.url, scope: config?.public ? null : config!.scope! });
    }
  });
  if (opts.onRoute) app.addHook('onRoute', opts.onRoute);
  app.setErrorHandler((err: Error, req, reply) => {
    // Fastify's 413 does not say what the limit is: name it (the body is refused unread).
    if ((err as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const limit = req.routeOptions.bodyLimit ?? API_BODY_LIMIT_BYTES;
      errorHandler(new SlipwayError('SLW_TOO_LARGE', `size limit exceeded: the request body is larger than ${limit} bytes, the most this route accepts`), req, reply);
      return;
    }
    errorHandler(err, req, reply);
  });
  app.setNotFoundHandler((req, reply) => {
    errorHandler(new SlipwayError('SLW_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`), req, reply);
  });
  app.addHook('onRequest', authenticate);
  app.addHook('onResponse', auditHook(deps.audit));
  if (opts.strictResponses) app.addHook('preSerialization', responseCheck);
  let openapi: Record<string, unknown> | null = null;
  app.get('/api/v1/openapi.json', { config: { public: true } }, async () => (openapi ??= openApiDocument(documented, '1')));
  systemRoutes(app, deps);
  certificateRoutes(app, deps);
  alertRoutes(app, deps);
  readinessRoutes(app, deps);
  statsRoutes(app, deps);
  metricsRoutes(app, deps);
  deploymentRoutes(app, deps);
  serviceRoutes(app, deps);
  serviceLogRoutes(app, deps);
  environmentRoutes(app, deps);
  accessoryRoutes(app, deps);
  backupRoutes(app, deps);
  volumeRoutes(app, deps);
  secretRoutes(app, deps);
  jobRoutes(app, deps);
  sourceRoutes(app, deps);
  imageRoutes(app, deps);
  accessRoutes(app, deps);
  auditRoutes(app, deps);
  webhookRoutes(app, deps);
  notificationRoutes(app, deps);
  prometheusRoutes(app, deps);
  dashboardRoutes(app, opts.dashboardDir);
  return app;
}
