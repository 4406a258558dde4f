/**
 * Records an audit entry for every mutating call and every refused one (401/403/429),
 * after the response: who (the principal, else "anonymous"), what (method + route),
 * target (path parameters, or what the handler named), client IP, outcome and status.
 * Bodies are never recorded (they may hold secrets); handlers add safe details. Repeated
 * refusals are aggregated by the AuditLog (one entry with a count per IP, route and minute).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuditOutcome } from '../core/domain';
import type { AuditLog } from '../engine/audit-log';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function auditHook(audit: AuditLog) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const status = reply.statusCode;
    const denied = status === 401 || status === 403 || status === 429;
    if (READ_METHODS.has(req.method) && !denied) return;
    const route = req.routeOptions.url;
    if (!route && !denied) return;
    const params = (req.params ?? {}) as Record<string, string>;
    const outcome: AuditOutcome = denied ? 'denied' : status < 400 ? 'ok' : 'error';
    // A refused call to no route is named by its method alone (the path goes in the target),
    // so varying the path cannot make every refusal a new kind of entry (see AuditLog).
    const path = route ? null : req.url.split('?')[0]!.slice(0, 200);
    await audit.record({
      actor: req.principal?.actor ?? req.audit?.actor ?? 'anonymous',
      action: `${req.method} ${route ?? '(no such route)'}`,
      project: req.audit?.project ?? params.project ?? null,
      target: req.audit?.target ?? path ?? targetOf(params),
      clientIp: req.ip,
      outcome,
      status,
      detail: req.audit?.detail ?? null,
    });
  };
}

function targetOf(params: Record<string, string>): string | null {
  const parts = [params.service, params.env && `env ${params.env}`, params.id, params.name].filter(Boolean);
  return parts.length ? parts.join(' ') : null;
}
