import type { FastifyInstance } from 'fastify';
import { SlipwayError } from '../../core/errors';
import type { ProjectConfig } from '../../core/config';
import type { BuildSource } from '../../core/domain';
import type { z } from 'zod';
import { parseProjectConfig, formatErrors } from '../../core/parse-config';
import type { ApiDeps } from '../api-deps';
import { parseInput } from '../parse-body';
import { afterQuery, deployBody, deploymentParams, deploymentsQuery, projectParams, promoteBody, rollbackBody, serviceParams } from '../schemas';
import { streamDeploymentEvents } from '../deployment-sse';

type DeployBody = z.output<typeof deployBody>;

export function deploymentRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.post('/api/v1/deployments', async (req, reply) => {
    const body = parseInput(deployBody, req.body, 'deploy request');
    const { config, names } = resolveServices(body.config, body.env, body.services);
    const undefinedSources = Object.keys(body.sources).filter((n) => !config.services[n]);
    if (undefinedSources.length > 0) {
      throw new SlipwayError('SLW_BAD_REQUEST', `sources name services not in slipway.yml: ${undefinedSources.join(', ')}`, undefinedSources.map((n) => ({ path: `sources.${n}`, message: 'no such service' })));
    }
    if (body.image) for (const n of names) config.services[n]!.source = { kind: 'image', ref: body.image };
    const requests = names.map((service) => ({ config, service, env: body.env, source: buildSourceOf(body, service, config) }));
    // Every service's source is checked before any deployment starts: bad input changes nothing.
    for (const r of requests) await deps.engine.checkSource(r);
    const started = [];
    for (const r of requests) {
      const d = await deps.engine.deploy(r);
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
/** The source a service builds from: the deploy's git repository, or its uploaded context. */
function buildSourceOf(body: DeployBody, service: string, config: ProjectConfig): BuildSource | null {
  if (config.services[service]!.source.kind === 'image') return null;
  if (body.git) return { kind: 'git', ...body.git };
  const archive = body.sources[service];
  return archive ? { kind: 'archive', sha256: archive.sha256, commit: archive.commit } : null;
}

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
