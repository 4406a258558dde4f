import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DeploymentView } from '../../core/contract/views';
import { assertProjectAccess } from '../auth';
import type { ApiDeps } from '../api-deps';
import { parseInput } from '../parse-body';
import { afterQuery, deployBody, deploymentParams, deploymentsQuery, projectParams, promoteBody, redeployBody, restartBody, rollbackBody, scaleBody, serviceParams, startBody, stopBody } from '../../core/contract/requests';
import { streamDeploymentEvents } from '../deployment-sse';
import { CANARY_COMMANDS } from '../../engine/canary-control';
import { planDeployRequests, resolveServices } from '../../engine/plan-deploy-requests';

export function deploymentRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.post('/api/v1/deployments', { config: { scope: 'deploy' } }, async (req, reply) => {
    const body = parseInput(deployBody, req.body, 'deploy request');
    const { config, names, requests } = planDeployRequests({ ...body, triggeredBy: req.principal!.actor, unrestricted: !req.principal!.project });
    assertProjectAccess(req, config.project);
    req.audit = { project: config.project, target: `${names.join(', ')} env ${body.env}` };
    const { allowDestructive } = body;
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

  app.post('/api/v1/projects/:project/services/:service/scale', { config: { scope: 'deploy' } }, async (req, reply) => {
    const params = parseInput(serviceParams, req.params, 'path');
    const body = parseInput(scaleBody, req.body, 'scale request');
    const d = await deps.engine.scale({ ...params, env: body.env, replicas: body.replicas, triggeredBy: req.principal!.actor });
    req.audit = { detail: `deployment ${d.id} replicas ${body.replicas}` };
    return reply.status(202).send({ deployment: await deps.queries.deployment(d.id) });
  });

  app.post('/api/v1/projects/:project/services/:service/restart', { config: { scope: 'deploy' } }, async (req, reply) => {
    const params = parseInput(serviceParams, req.params, 'path');
    const body = parseInput(restartBody, req.body, 'restart request');
    const d = await deps.engine.restart({ ...params, env: body.env, triggeredBy: req.principal!.actor });
    req.audit = { detail: `deployment ${d.id}` };
    return reply.status(202).send({ deployment: await deps.queries.deployment(d.id) });
  });

  app.post('/api/v1/projects/:project/services/:service/stop', { config: { scope: 'deploy' } }, async (req, reply) => {
    const params = parseInput(serviceParams, req.params, 'path');
    const body = parseInput(stopBody, req.body, 'stop request');
    const d = await deps.engine.stopService({ ...params, env: body.env, triggeredBy: req.principal!.actor });
    req.audit = { detail: `deployment ${d.id}` };
    return reply.status(202).send({ deployment: await deps.queries.deployment(d.id) });
  });

  app.post('/api/v1/projects/:project/services/:service/start', { config: { scope: 'deploy' } }, async (req, reply) => {
    const params = parseInput(serviceParams, req.params, 'path');
    const body = parseInput(startBody, req.body, 'start request');
    const d = await deps.engine.startService({ ...params, env: body.env, triggeredBy: req.principal!.actor });
    req.audit = { detail: `deployment ${d.id}` };
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
