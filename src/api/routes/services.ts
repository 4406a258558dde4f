import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../api-deps';
import { canSeeProject } from '../auth';
import { parseInput } from '../parse-body';
import { envQuery, projectParams, runBody, serviceParams } from '../../core/contract/requests';

export function serviceRoutes(app: FastifyInstance, deps: ApiDeps): void {
  /** Every project the token may see (a project-restricted token sees its own only). */
  app.get('/api/v1/projects', { config: { scope: 'read' } }, async (req) => ({
    projects: (await deps.queries.projects()).filter((p) => canSeeProject(req, p.name)),
  }));

  app.get('/api/v1/projects/:project/status', { config: { scope: 'read' } }, async (req) => {
    const { project } = parseInput(projectParams, req.params, 'path');
    const { env } = parseInput(envQuery, req.query, 'query');
    return deps.queries.projectStatus(project, env);
  });

  app.get('/api/v1/projects/:project/services/:service/releases', { config: { scope: 'read' } }, async (req) => {
    const p = parseInput(serviceParams, req.params, 'path');
    const { env } = parseInput(envQuery, req.query, 'query');
    return { releases: await deps.queries.releases(p.project, p.service, env) };
  });

  /** One-off command in the live release's image and env; NDJSON: {type:'output',…} lines, then {type:'exit',…}. */
  app.post('/api/v1/projects/:project/services/:service/run', { config: { scope: 'deploy' } }, async (req, reply) => {
    const p = parseInput(serviceParams, req.params, 'path');
    const body = parseInput(runBody, req.body, 'run request');
    const run = await deps.oneOffRuns.prepare({ ...p, env: body.env });
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-cache' });
    const send = (o: unknown) => reply.raw.write(`${JSON.stringify(o)}\n`);
    try {
      const result = await run({ ...p, env: body.env, argv: body.argv, timeoutMs: body.timeout, onOutput: (line, stream) => send({ type: 'output', stream, line }) });
      send({ type: 'exit', ...result });
    } catch (err) {
      send({ type: 'error', message: (err as Error).message });
    }
    reply.raw.end();
  });
}
