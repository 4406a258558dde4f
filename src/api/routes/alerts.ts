/**
 * Alerts: the list (read; a project-restricted token sees its project's), the rules in force
 * (read), the server-wide defaults (admin), silences (deploy; audited like every write).
 */
import type { FastifyInstance } from 'fastify';
import { alertDefaultsBody, alertRulesQuery, alertsQuery, silenceBody, silenceParams } from '../../core/contract/alerts';
import type { ApiDeps } from '../api-deps';
import { parseInput } from '../parse-body';

export function alertRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const alerts = deps.alerts;

  app.get('/api/v1/alerts', { config: { scope: 'read' } }, async (req) => {
    const q = parseInput(alertsQuery, req.query, 'query');
    const project = req.principal?.project ?? q.project;
    return alerts.list({ all: q.all === 'true', ...(project ? { project } : {}) });
  });

  app.get('/api/v1/alerts/rules', { config: { scope: 'read' } }, async (req) => {
    const q = parseInput(alertRulesQuery, req.query, 'query');
    const project = req.principal?.project ?? q.project;
    return alerts.rules({ ...(project ? { project } : {}), ...(q.env ? { env: q.env } : {}) });
  });

  app.put('/api/v1/alerts/defaults', { config: { scope: 'admin' } }, async (req) => {
    parseInput(alertDefaultsBody, req.body, 'alert defaults');
    req.audit = { target: 'alerts.defaults' };
    return alerts.setDefaults(req.body as Record<string, unknown>);
  });

  app.post('/api/v1/alerts/silences', { config: { scope: 'deploy' } }, async (req, reply) => {
    const b = parseInput(silenceBody, req.body, 'silence');
    const what = b.service ? `${b.project}/${b.env ?? 'production'}/${b.service}` : (b.project ?? b.subject ?? 'everywhere');
    req.audit = { ...(b.project ? { project: b.project } : {}), target: `${b.rule} ${what}`, detail: `for ${Math.round(b.for / 60_000)} min${b.reason ? `: ${b.reason}` : ''}` };
    const silence = await alerts.silence({ rule: b.rule, ...(b.project ? { project: b.project } : {}), ...(b.env ? { env: b.env } : {}), ...(b.service ? { service: b.service } : {}), ...(b.subject ? { subject: b.subject } : {}), forMs: b.for, ...(b.reason ? { reason: b.reason } : {}) }, req.principal!.actor, req.principal?.project ?? null);
    return reply.status(201).send({ silence });
  });

  app.delete('/api/v1/alerts/silences/:id', { config: { scope: 'deploy' } }, async (req) => {
    const { id } = parseInput(silenceParams, req.params, 'path');
    req.audit = { target: `silence ${id}` };
    await alerts.unsilence(id, req.principal?.project ?? null);
    return { removed: id };
  });
}
