/**
 * Accessories of an environment: list (read), logs (read; credentials masked), restart and
 * rotate (deploy), and `db shell` SQL (admin; audited with the statement count, never the SQL
 * or its output). Logic lives in engine/accessories.ts and engine/db-shell.ts.
 */
import type { FastifyInstance } from 'fastify';
import { accessoriesParams, accessoryLogsQuery, accessoryParams, accessoryRemoveQuery, sqlBody } from '../../core/contract/requests';
import type { AccessoryView } from '../../core/contract/views';
import { errorMessage, SlipwayError } from '../../core/errors';
import { countStatements } from '../../engine/db-shell';
import type { ApiDeps } from '../api-deps';
import { writeLogEvents } from '../log-sse';
import { parseInput } from '../parse-body';

/** The accessory's view, or a 404 naming it and the ones that exist. */
export async function findAccessory(deps: ApiDeps, p: { project: string; env: string; name: string }): Promise<AccessoryView> {
  const all = await deps.accessories.list(p.project, p.env);
  const found = all.find((a) => a.name === p.name);
  if (!found) {
    throw new SlipwayError('SLW_NOT_FOUND', `accessory "${p.name}" does not exist in ${p.project} ${p.env} (${all.length ? `accessories: ${all.map((a) => a.name).join(', ')}` : 'it has no accessories'})`, [
      { path: 'name', message: 'must be an accessory of this environment' },
    ]);
  }
  return found;
}

export function accessoryRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.delete('/api/v1/projects/:project/envs/:env/accessories/:name', { config: { scope: 'admin' } }, async (req) => {
    const p = parseInput(accessoryParams, req.params, 'path');
    const q = parseInput(accessoryRemoveQuery, req.query, 'query');
    await findAccessory(deps, p);
    const removed = await deps.accessories.remove(p.project, p.env, p.name, { deleteVolumes: q.deleteVolumes });
    req.audit = { detail: `accessory removed; volumes ${q.deleteVolumes ? `deleted: ${removed.volumesDeleted.join(', ') || '-'}` : `kept: ${removed.volumesKept.length}`}` };
    return { removed };
  });

  app.get('/api/v1/projects/:project/envs/:env/accessories', { config: { scope: 'read' } }, async (req) => {
    const p = parseInput(accessoriesParams, req.params, 'path');
    return { accessories: await deps.accessories.list(p.project, p.env) };
  });

  app.get('/api/v1/projects/:project/envs/:env/accessories/:name/logs', { config: { scope: 'read' } }, async (req, reply) => {
    const p = parseInput(accessoryParams, req.params, 'path');
    const q = parseInput(accessoryLogsQuery, req.query, 'query');
    await findAccessory(deps, p); // 404 before streaming
    const abort = new AbortController();
    reply.hijack();
    reply.raw.on('close', () => abort.abort());
    const lines = deps.accessories.logs(p.project, p.env, p.name, { tail: q.tail ?? (q.since ? 'all' : 100), follow: q.follow, since: q.since, signal: abort.signal });
    await writeLogEvents(reply.raw, asEvents(lines), abort.signal);
  });

  app.post('/api/v1/projects/:project/envs/:env/accessories/:name/restart', { config: { scope: 'deploy' } }, async (req) => {
    const p = parseInput(accessoryParams, req.params, 'path');
    await findAccessory(deps, p);
    const outcome = await deps.accessories.restart(p.project, p.env, p.name);
    req.audit = { target: `accessory ${p.name} env ${p.env}`, detail: outcome.detail };
    return { accessory: await findAccessory(deps, p), detail: outcome.detail };
  });

  /** New credentials; each service using the accessory is redeployed with them (as a secrets change is). */
  app.post('/api/v1/projects/:project/envs/:env/accessories/:name/rotate', { config: { scope: 'deploy' } }, async (req) => {
    const p = parseInput(accessoryParams, req.params, 'path');
    await findAccessory(deps, p);
    const { version, services } = await deps.accessories.rotate(p.project, p.env, p.name);
    const rollouts: Array<{ service: string; deploymentId: string | null; note: string | null }> = [];
    for (const service of services) {
      try {
        const d = await deps.engine.redeployWithSecrets({ project: p.project, service, env: p.env }, req.principal?.actor ?? null);
        rollouts.push({ service, deploymentId: d.id, note: null });
      } catch (err) {
        // Most often another deployment holds the lease: the new credentials apply at its next deploy.
        rollouts.push({ service, deploymentId: null, note: `not redeployed: ${errorMessage(err)}` });
      }
    }
    req.audit = { target: `accessory ${p.name} env ${p.env}`, detail: `credentials v${version}; redeployed: ${rollouts.filter((r) => r.deploymentId).map((r) => r.service).join(', ') || '-'}` };
    return { accessory: p.name, version, rollouts };
  });

  /** NDJSON: {type:'output',…} lines of psql, then {type:'exit',…}. The SQL is never logged or audited. */
  app.post('/api/v1/projects/:project/envs/:env/accessories/:name/sql', { config: { scope: 'admin' } }, async (req, reply) => {
    const p = parseInput(accessoryParams, req.params, 'path');
    const body = parseInput(sqlBody, req.body, 'sql request');
    const run = await deps.dbShell.prepare({ project: p.project, env: p.env, accessory: p.name });
    const statements = countStatements(body.sql);
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-cache' });
    const send = (o: unknown) => reply.raw.write(`${JSON.stringify(o)}\n`);
    let detail: string;
    try {
      const result = await run({ sql: body.sql, timeoutMs: body.timeout, onOutput: (line, stream) => send({ type: 'output', stream, line }) });
      send({ type: 'exit', exitCode: result.exitCode, timedOut: result.timedOut, durationMs: result.durationMs });
      detail = `${statements} statement(s); exit ${result.exitCode ?? 'none'}${result.timedOut ? ' (timed out)' : ''}`;
    } catch (err) {
      send({ type: 'error', message: errorMessage(err) });
      detail = `${statements} statement(s); failed to run`;
    }
    // Set before the end: the audit hook runs once the raw answer is sent. What ran, never the SQL.
    req.audit = { target: `accessory ${p.name} env ${p.env}`, detail: `db shell: ${detail}` };
    reply.raw.end();
  });
}

async function* asEvents(lines: AsyncIterable<{ replica: string; stream: 'stdout' | 'stderr'; at: string; line: string }>): AsyncGenerator<{ id: string; entry: unknown }> {
  for await (const l of lines) yield { id: l.at, entry: { container: l.replica, stream: l.stream, at: l.at, line: l.line } };
}
