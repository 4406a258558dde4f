import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DeploymentView } from '../../core/contract/views';
import { assertProjectAccess } from '../auth';
import { SlipwayError } from '../../core/errors';
import type { ProjectConfig } from '../../core/config';
import type { BuildSource } from '../../core/domain';
import type { z } from 'zod';
import { parseProjectConfig, formatErrors } from '../../core/parse-config';
import type { ApiDeps } from '../api-deps';
import { parseInput } from '../parse-body';
import { afterQuery, deployBody, deploymentParams, deploymentsQuery, projectParams, promoteBody, redeployBody, rollbackBody, serviceParams } from '../../core/contract/requests';
import { streamDeploymentEvents } from '../deployment-sse';
import { CANARY_COMMANDS } from '../../engine/canary-control';

type DeployBody = z.output<typeof deployBody>;

export function deploymentRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.post('/api/v1/deployments', { config: { scope: 'deploy' } }, async (req, reply) => {
    const body = parseInput(deployBody, req.body, 'deploy request');
    const { config, names } = resolveServices(body.config, body.env, body.services);
    assertProjectAccess(req, config.project);
    req.audit = { project: config.project, target: `${names.join(', ')} env ${body.env}` };
    const undefinedSources = Object.keys(body.sources).filter((n) => !config.services[n.replace(RELEASE_KEY, '')]);
    if (undefinedSources.length > 0) {
      throw new SlipwayError('SLW_BAD_REQUEST', `sources name services not in slipway.yml: ${undefinedSources.join(', ')}`, undefinedSources.map((n) => ({ path: `sources.${n}`, message: 'no such service' })));
    }
    const strayRelease = Object.keys(body.sources).filter((n) => RELEASE_KEY.test(n) && config.services[n.replace(RELEASE_KEY, '')]!.release?.source.kind !== 'build');
    if (strayRelease.length > 0) {
      throw new SlipwayError('SLW_BAD_REQUEST', `sources name release images that slipway.yml does not build: ${strayRelease.join(', ')}`, strayRelease.map((n) => ({ path: `sources.${n}`, message: `services.${n.replace(RELEASE_KEY, '')}.release has no build` })));
    }
    if (body.image) for (const n of names) config.services[n]!.source = { kind: 'image', ref: body.image };
    const triggeredBy = req.principal!.actor;
    // A project token deploys only images built for its project or allowed by an admin (engine/image-policy.ts).
    const unrestricted = !req.principal!.project;
    const allowDestructive = body.allowDestructive;
    const requests = names.map((service) => ({ config, service, env: body.env, source: buildSourceOf(body, service, config), releaseSource: releaseSourceOf(body, service, config), triggeredBy, unrestricted, allowDestructive }));
    // Said before the deploy starts, so a refused deploy is audited with it too.
    if (allowDestructive) req.audit.detail = 'allow-destructive';
    const started = [];
    for (const d of await deps.engine.deployAll(requests)) started.push(await deps.queries.deployment(d.id));
    req.audit.detail = `deployments ${started.map((d) => d.id).join(', ')}${allowDestructive ? ' allow-destructive (migration lint findings do not block)' : ''}`;
    return reply.status(202).send({ deployments: started });
  });

  /** The image `from` runs, deployed to `to` with `to`'s config and secrets; never builds. */
  app.post('/api/v1/promotions', { config: { scope: 'deploy' } }, async (req, reply) => {
    const body = parseInput(promoteBody, req.body, 'promotion request');
    const { config, names } = resolveServices(body.config, body.to, body.services);
    assertProjectAccess(req, config.project);
    req.audit = { project: config.project, target: `${names.join(', ')} env ${body.to} from ${body.from}` };
    const started = [];
    for (const service of names) {
      const d = await deps.engine.promote({ config, service, from: body.from, triggeredBy: req.principal!.actor, allowDestructive: body.allowDestructive });
      started.push(await deps.queries.deployment(d.id));
    }
    req.audit.detail = `deployments ${started.map((d) => d.id).join(', ')}${body.allowDestructive ? ' allow-destructive (migration lint findings do not block)' : ''}`;
    return reply.status(202).send({ deployments: started });
  });

  app.post('/api/v1/deployments/:id/approve', { config: { scope: 'deploy' } }, async (req) => {
    const { id } = parseInput(deploymentParams, req.params, 'path');
    await visibleDeployment(req, deps, id);
    await deps.engine.approve(id);
    return { deployment: await deps.queries.deployment(id) };
  });

  app.post('/api/v1/deployments/:id/cancel', { config: { scope: 'deploy' } }, async (req) => {
    const { id } = parseInput(deploymentParams, req.params, 'path');
    await visibleDeployment(req, deps, id);
    await deps.engine.cancel(id);
    return { deployment: await deps.queries.deployment(id) };
  });

  // Manual control of a running canary; the engine obeys at its next tick (≤ 200 ms), so 202.
  for (const cmd of CANARY_COMMANDS) {
    app.post(`/api/v1/deployments/:id/${cmd}`, { config: { scope: 'deploy' } }, async (req, reply) => {
      const { id } = parseInput(deploymentParams, req.params, 'path');
      const d = await visibleDeployment(req, deps, id);
      req.audit = { project: d.project, target: `${d.service} env ${d.env}`, detail: `canary ${cmd} of deployment ${id}` };
      await deps.engine.controlCanary(id, cmd);
      return reply.status(202).send({ deployment: await deps.queries.deployment(id) });
    });
  }

  app.post('/api/v1/projects/:project/services/:service/rollback', { config: { scope: 'deploy' } }, async (req, reply) => {
    const params = parseInput(serviceParams, req.params, 'path');
    const body = parseInput(rollbackBody, req.body, 'rollback request');
    const d = await deps.engine.rollback({ ...params, env: body.env, release: body.release, force: body.force, triggeredBy: req.principal!.actor });
    req.audit = { detail: `deployment ${d.id}` };
    return reply.status(202).send({ deployment: await deps.queries.deployment(d.id) });
  });

  /** The live release again (same config, newest secrets), with its image or another prebuilt one; never builds. */
  app.post('/api/v1/projects/:project/services/:service/redeploy', { config: { scope: 'deploy' } }, async (req, reply) => {
    const params = parseInput(serviceParams, req.params, 'path');
    const body = parseInput(redeployBody, req.body, 'redeploy request');
    const d = await deps.engine.redeploy({ ...params, env: body.env, image: body.image, triggeredBy: req.principal!.actor, unrestricted: !req.principal!.project });
    req.audit = { detail: `deployment ${d.id}${body.image ? ` image ${body.image}` : ''}` };
    return reply.status(202).send({ deployment: await deps.queries.deployment(d.id) });
  });

  app.get('/api/v1/projects/:project/deployments', { config: { scope: 'read' } }, async (req) => {
    const { project } = parseInput(projectParams, req.params, 'path');
    const q = parseInput(deploymentsQuery, req.query, 'query');
    return { deployments: await deps.queries.deployments(project, q.service, q.env, q.limit) };
  });

  app.get('/api/v1/deployments/:id', { config: { scope: 'read' } }, async (req) => {
    const { id } = parseInput(deploymentParams, req.params, 'path');
    return { deployment: await visibleDeployment(req, deps, id) };
  });

  app.get('/api/v1/deployments/:id/logs', { config: { scope: 'read' } }, async (req) => {
    const { id } = parseInput(deploymentParams, req.params, 'path');
    const { after } = parseInput(afterQuery, req.query, 'query');
    await visibleDeployment(req, deps, id);
    return { lines: await deps.queries.logs(id, after) };
  });

  app.get('/api/v1/deployments/:id/events', { config: { scope: 'read' } }, async (req, reply) => {
    const { id } = parseInput(deploymentParams, req.params, 'path');
    const lastEventId = Number(req.headers['last-event-id'] ?? parseInput(afterQuery, req.query, 'query').after) || 0;
    await visibleDeployment(req, deps, id); // 404/403 before the stream starts
    reply.hijack();
    await streamDeploymentEvents(reply.raw, id, lastEventId, deps);
  });
}

/** The deployment, if the principal may see its project. */
async function visibleDeployment(req: FastifyRequest, deps: ApiDeps, id: string): Promise<DeploymentView> {
  const view = await deps.queries.deployment(id);
  assertProjectAccess(req, view.project);
  req.audit = { ...req.audit, project: view.project, target: `${view.service} env ${view.env} deployment ${id}` };
  return view;
}

/** The source a service builds from: the deploy's git repository, or its uploaded context. */
function buildSourceOf(body: DeployBody, service: string, config: ProjectConfig): BuildSource | null {
  if (config.services[service]!.source.kind === 'image') return null;
  if (body.git) return { kind: 'git', ...body.git };
  const archive = body.sources[service];
  return archive ? { kind: 'archive', sha256: archive.sha256, commit: archive.commit } : null;
}

const RELEASE_KEY = /:release$/;

/** The source of a service's release image (`release: { build }`): the deploy's git repository, or the upload keyed `<service>:release`. */
function releaseSourceOf(body: DeployBody, service: string, config: ProjectConfig): BuildSource | null {
  if (config.services[service]!.release?.source.kind !== 'build') return null;
  if (body.git) return { kind: 'git', ...body.git };
  const archive = body.sources[`${service}:release`];
  return archive ? { kind: 'archive', sha256: archive.sha256, commit: archive.commit } : null;
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
