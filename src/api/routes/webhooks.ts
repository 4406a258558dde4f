/**
 * Push webhooks: registration (admin) and the public delivery endpoint, which needs no
 * token because the delivery is signed with the project's webhook secret. The raw body is
 * kept (the signature is over its exact bytes). Refused deliveries count towards the
 * per-IP failure limit and are audited like any refused call.
 */
import type { FastifyInstance } from 'fastify';
import { SlipwayError } from '../../core/errors';
import type { ApiDeps } from '../api-deps';
import { parseInput } from '../parse-body';
import { projectParams, webhookBody } from '../../core/contract/requests';

export function webhookRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.put('/api/v1/projects/:project/webhook', { config: { scope: 'admin' } }, async (req, reply) => {
    const { project } = parseInput(projectParams, req.params, 'path');
    const body = parseInput(webhookBody, req.body, 'webhook');
    const created = await deps.webhooks.create(project, body, req.principal!.actor);
    return reply.status(201).send({ ...created, url: `/api/v1/webhooks/${project}` });
  });

  app.get('/api/v1/projects/:project/webhook', { config: { scope: 'read' } }, async (req) => {
    const { project } = parseInput(projectParams, req.params, 'path');
    return { webhook: await deps.webhooks.get(project), url: `/api/v1/webhooks/${project}` };
  });

  app.delete('/api/v1/projects/:project/webhook', { config: { scope: 'admin' } }, async (req) => {
    const { project } = parseInput(projectParams, req.params, 'path');
    await deps.webhooks.remove(project);
    return { removed: project };
  });

  void app.register(async (scope) => {
    // The signature covers the exact bytes: keep the body raw.
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    scope.post('/api/v1/webhooks/:project', { config: { public: true } }, async (req, reply) => {
      const { project } = parseInput(projectParams, req.params, 'path');
      req.audit = { actor: `webhook:${project}`, project };
      deps.authLimiter.check(req.ip);
      if (!Buffer.isBuffer(req.body)) throw new SlipwayError('SLW_BAD_REQUEST', 'the delivery must be JSON (content type application/json)');
      try {
        const outcome = await deps.webhooks.receive(project, req.headers, req.body);
        req.audit.detail = outcome.message;
        return reply.status(outcome.status === 'deploying' ? 202 : 200).send(outcome);
      } catch (err) {
        if (err instanceof SlipwayError && (err.code === 'SLW_UNAUTHORIZED' || err.code === 'SLW_CONFLICT')) {
          deps.authLimiter.fail(req.ip);
          req.audit.detail = err.message;
        }
        throw err;
      }
    });
  });
}
