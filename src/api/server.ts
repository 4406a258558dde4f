/**
 * The HTTP API. Routes are thin: parse → call engine/queries → respond. Every
 * route needs the bearer token except those marked `config: { public: true }`.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { SlipwayError } from '../core/errors';
import type { ApiDeps } from './api-deps';
import { makeAuthenticator } from './auth';
import { errorHandler } from './error-response';
import { deploymentRoutes } from './routes/deployments';
import { environmentRoutes } from './routes/environments';
import { jobRoutes } from './routes/jobs';
import { secretRoutes } from './routes/secrets';
import { serviceRoutes } from './routes/services';
import { sourceRoutes } from './routes/sources';
import { systemRoutes } from './routes/system';

declare module 'fastify' {
  interface FastifyContextConfig {
    public?: boolean;
  }
}

export interface BuildApiOptions {
  /** Sees every route as it is registered (the auth test walks the whole table). */
  onRoute?: (route: { method: string | string[]; url: string }) => void;
}

export function buildApi(deps: ApiDeps, opts: BuildApiOptions = {}): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'api' }) as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    disableRequestLogging: false,
  });
  const authenticate = makeAuthenticator(deps.adminTokenHash);
  if (opts.onRoute) app.addHook('onRoute', opts.onRoute);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((req, reply) => {
    errorHandler(new SlipwayError('SLW_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`), req, reply);
  });
  app.addHook('onRequest', async (req) => {
    if (req.routeOptions.config?.public) return;
    await authenticate(req);
  });
  systemRoutes(app, deps);
  deploymentRoutes(app, deps);
  serviceRoutes(app, deps);
  environmentRoutes(app, deps);
  secretRoutes(app, deps);
  jobRoutes(app, deps);
  sourceRoutes(app, deps);
  return app;
}
