import type { FastifyInstance } from 'fastify';
import { SlipwayError } from '../../core/errors';
import type { ProjectConfig } from '../../core/config';
import { parseProjectConfig, formatErrors } from '../../core/parse-config';
import type { ApiDeps } from '../api-deps';
import { parseInput } from '../parse-body';
import { afterQuery, deployBody, deploymentParams, deploymentsQuery, projectParams, promoteBody, rollbackBody, serviceParams } from '../schemas';
import { streamDeploymentEvents } from '../deployment-sse';

export function deploymentRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.post('/api/v1/deployments', async (req, reply) => {
    const body = parseInput(deployBody, req.body, 'deploy request');
    const { config, names } = resolveServices(body.config, body.env, body.services);
    const started = [];
    for (const service of names) {
      const d = await deps.engine.deploy({ config, service, env: body.env, baseDir: body.baseDir });
      started.push(await deps.queries.deployment(d.id));
    }
    return reply.status(202).send({ deployments: started });
  });

  /** The image `from` runs, deployed to `to` with `to`'s config and secrets; never builds. */
  app.post('/api/v1/promotions', async (req, reply) => {
    const body = parseInput(promoteBody, req.body, 'promotion request');
    const { config, names } = resolveServices(body.config, body.to, body.services);
    const started = [];
    for (const service of names) {
      const d = await deps.engine.promote({ config, service, from: body.from });
      started.push(await deps.queries.deployment(d.id));
    }
    return reply.status(202).send({ deployments: started });
  });

  app.post('/api/v1/deployments/:id/approve', async (req) => {
    const { id } = parseInput(deploymentParams, req.params, 'path');
    await deps.engine.approve(id);
    return { deployment: await deps.queries.deployment(id) };
  });

  app.post('/api/v1/deployments/:id/cancel', async (req) => {
    const { id } = parseInput(deploymentParams, req.params, 'path');
    await deps.engine.cancel(id);
    return { deployment: await deps.queries.deployment(id) };
  });

  app.post('/api/v1/projects/:project/services/:service/rollback', async (req, reply) => {
    const params = parseInput(serviceParams, req.params, 'path');
    const body = parseInput(rollbackBody, req.body, 'rollback request');
    const d = await deps.engine.rollback({ ...params, env: body.env, release: body.release });
    return reply.status(202).send({ deployment: await deps.queries.deployment(d.id) });
  });

  app.get('/api/v1/projects/:project/deployments', async (req) => {
    const { project } = parseInput(projectParams, req.params, 'path');
    const q = parseInput(deploymentsQuery, req.query, 'query');
    return { deployments: await deps.queries.deployments(project, q.service, q.env, q.limit) };
  });

  app.get('/api/v1/deployments/:id', async (req) => {
    const { id } = parseInput(deploymentParams, req.params, 'path');
    return { deployment: await deps.queries.deployment(id) };
  });

  app.get('/api/v1/deployments/:id/logs', async (req) => {
    const { id } = parseInput(deploymentParams, req.params, 'path');
    const { after } = parseInput(afterQuery, req.query, 'query');
    return { lines: await deps.queries.logs(id, after) };
  });

  app.get('/api/v1/deployments/:id/events', async (req, reply) => {
    const { id } = parseInput(deploymentParams, req.params, 'path');
    const lastEventId = Number(req.headers['last-event-id'] ?? parseInput(afterQuery, req.query, 'query').after) || 0;
    await deps.queries.deployment(id); // 404 before the stream starts
    reply.hijack();
    await streamDeploymentEvents(reply.raw, id, lastEventId, deps);
  });
}

/** slipway.yml resolved for one environment, and the services asked for (default: all). */
function resolveServices(text: string, env: string, services: string[] | undefined): { config: ProjectConfig; names: string[] } {
  const parsed = parseProjectConfig(text, { env });
  if (!parsed.ok) throw new SlipwayError('SLW_CONFIG_INVALID', `slipway.yml is invalid:\n${formatErrors(parsed.errors)}`, parsed.errors);
  const names = services ?? Object.keys(parsed.config.services);
  const unknown = names.filter((n) => !parsed.config.services[n]);
  if (unknown.length > 0) {
    throw new SlipwayError('SLW_NOT_FOUND', `service(s) ${unknown.join(', ')} not defined in slipway.yml (defined: ${Object.keys(parsed.config.services).join(', ')})`);
  }
  return { config: parsed.config, names };
}
