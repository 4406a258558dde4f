/**
 * GET …/services/:service/logs: the merged, followable, resumable log stream (SSE).
 * Secret values are masked for everyone; `unmask=true` shows the app's raw output to
 * admin tokens only (a read token cannot read secrets any other way, so it must not get
 * them through logs either), and each unmasked stream leaves an audit record.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { logsQuery } from '../../core/contract/logs';
import { serviceParams } from '../../core/contract/requests';
import { scopeAllows } from '../../core/domain';
import { SlipwayError } from '../../core/errors';
import { parseLogCursor } from '../../core/log-cursor';
import type { ApiDeps } from '../api-deps';
import { writeLogEvents } from '../log-sse';
import { parseInput } from '../parse-body';

export function serviceLogRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/api/v1/projects/:project/services/:service/logs', { config: { scope: 'read' } }, async (req, reply) => {
    const p = parseInput(serviceParams, req.params, 'path');
    const q = parseInput(logsQuery, req.query, 'query');
    const header = req.headers['last-event-id'];
    const resumeAfter = typeof header === 'string' && header.trim() ? parseLogCursor(header, 'Last-Event-ID') : q.after ? parseLogCursor(q.after, 'after') : null;
    if (q.unmask) assertMayUnmask(req);
    await deps.queries.releases(p.project, p.service, q.env); // 404 before streaming
    if (q.unmask) {
      await deps.audit.record({
        actor: req.principal!.actor,
        action: 'GET /api/v1/projects/:project/services/:service/logs?unmask',
        project: p.project,
        target: `${p.service} env ${q.env}`,
        clientIp: req.ip,
        outcome: 'ok',
        status: 200,
        detail: `unmasked logs${q.follow ? ' (followed)' : ''}${q.release ? ` of v${q.release}` : ''}`,
      });
    }
    const abort = new AbortController();
    reply.hijack();
    reply.raw.on('close', () => abort.abort());
    const events = deps.serviceLogs.stream(
      { ...p, env: q.env },
      { tail: q.tail, follow: q.follow, release: q.release, since: q.since, grep: q.grep, unmask: q.unmask, resumeAfter, signal: abort.signal },
    );
    await writeLogEvents(reply.raw, events, abort.signal);
  });
}

function assertMayUnmask(req: FastifyRequest): void {
  const p = req.principal!;
  if (!scopeAllows(p.scope, 'admin')) {
    throw new SlipwayError('SLW_FORBIDDEN', `unmask shows secret values: it needs a token with the admin scope; ${p.actor} has ${p.scope}`, [
      { path: 'unmask', message: 'needs the admin scope' },
    ]);
  }
}
