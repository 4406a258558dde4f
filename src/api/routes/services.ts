import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../api-deps';
import { canSeeProject } from '../auth';
import { parseInput } from '../parse-body';
import { envQuery, logsQuery, projectParams, runBody, serviceParams } from '../../core/contract/requests';

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

  /** Container logs as NDJSON, one LogEntry a line; `follow=true` keeps the stream open. */
  app.get('/api/v1/projects/:project/services/:service/logs', { config: { scope: 'read' } }, async (req, reply) => {
    const p = parseInput(serviceParams, req.params, 'path');
    const q = parseInput(logsQuery, req.query, 'query');
    await deps.queries.releases(p.project, p.service, q.env); // 404 before streaming
    const abort = new AbortController();
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-cache' });
    reply.raw.on('close', () => abort.abort());
    try {
      for await (const entry of deps.serviceLogs.stream({ ...p, env: q.env }, { tail: q.tail, follow: q.follow, release: q.release, signal: abort.signal })) {
        reply.raw.write(`${JSON.stringify(entry)}\n`);
      }
    } catch (err) {
      if (!abort.signal.aborted) reply.raw.write(`${JSON.stringify({ error: (err as Error).message })}\n`);
    }
    reply.raw.end();
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
