import type { FastifyInstance } from 'fastify';
import { SlipwayError } from '../../core/errors';
import type { ApiDeps } from '../api-deps';
import { parseInput } from '../parse-body';
import { destroyQuery, environmentBody, environmentParams, projectDeleteQuery, projectParams } from '../../core/contract/requests';

export function environmentRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/api/v1/projects/:project/environments', { config: { scope: 'read' } }, async (req) => {
    const { project } = parseInput(projectParams, req.params, 'path');
    return { environments: await deps.environments.list(project) };
  });

  app.post('/api/v1/projects/:project/environments', { config: { scope: 'deploy' } }, async (req, reply) => {
    const { project } = parseInput(projectParams, req.params, 'path');
    const body = parseInput(environmentBody, req.body, 'environment');
    return reply.status(201).send({ environment: await deps.environments.create(project, body.name) });
  });

  /** Destroys replicas, accessories, routes and records of one environment; `?confirm=<env>` must repeat its name; volumes only with `deleteVolumes=true`. */
  app.delete('/api/v1/projects/:project/environments/:env', { config: { scope: 'admin' } }, async (req) => {
    const p = parseInput(environmentParams, req.params, 'path');
    const q = parseInput(destroyQuery, req.query, 'query');
    if (q.confirm !== p.env) throw new SlipwayError('SLW_BAD_REQUEST', `confirm: must repeat the environment name "${p.env}" to destroy it`, [{ path: 'confirm', message: `must be "${p.env}"` }]);
    const r = await deps.environments.destroy(p.project, p.env, { deleteVolumes: q.deleteVolumes });
    const destroyed = { environment: r.environment, replicasRemoved: r.replicasRemoved, routesRemoved: r.routesRemoved, accessoriesStopped: r.accessories, volumesDeleted: r.volumesDeleted, volumesKept: r.volumesKept };
    req.audit = { detail: `${destroyed.replicasRemoved} replica(s), ${destroyed.accessoriesStopped.length} accessory(ies) removed; volumes ${q.deleteVolumes ? `deleted: ${destroyed.volumesDeleted.join(', ') || '-'}` : `kept: ${destroyed.volumesKept.length}`}` };
    return { destroyed };
  });

  /** Deletes a project and everything it has on the server; `?confirm=<project>` must repeat its name. */
  app.delete('/api/v1/projects/:project', { config: { scope: 'admin' } }, async (req) => {
    const { project } = parseInput(projectParams, req.params, 'path');
    const q = parseInput(projectDeleteQuery, req.query, 'query');
    if (q.confirm !== project) throw new SlipwayError('SLW_BAD_REQUEST', `confirm: must repeat the project name "${project}" to delete it`, [{ path: 'confirm', message: `must be "${project}"` }]);
    const deleted = await deps.projects.delete(project);
    req.audit = { detail: `environments ${deleted.environments.join(', ') || '-'}; ${deleted.replicasRemoved} replica(s), ${deleted.certificatesRemoved.length} certificate(s), ${deleted.sourcesRemoved} source(s), ${deleted.imagesRemoved.length} image tag(s) removed` };
    return { deleted };
  });
}
