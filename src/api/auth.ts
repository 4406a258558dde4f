/**
 * Authentication and authorisation of every request. Each route declares the scope it
 * needs (`config: { scope }`) or that it is public; the bearer token's principal must hold
 * that scope, and a project-restricted token only reaches routes of its project.
 * Bad tokens count towards the per-IP failure limit.
 */
import type { FastifyRequest } from 'fastify';
import { scopeAllows, type Scope } from '../core/domain';
import { SlipwayError } from '../core/errors';
import type { Access, Principal } from '../engine/access';
import type { FailureLimiter } from './rate-limit';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** No token needed (health, login, webhooks verify their own signatures). */
    public?: boolean;
    /** The least scope a token needs for this route. */
    scope?: Scope;
    /** No token needed from the loopback interface (Prometheus scraping on the same host). */
    loopbackOpen?: boolean;
  }
  interface FastifyRequest {
    principal?: Principal;
    /** What the audit record of this request should name, set by handlers. */
    audit?: { actor?: string; project?: string; target?: string; detail?: string };
  }
}

export function makeAuthenticator(access: Access, limiter: FailureLimiter) {
  return async (req: FastifyRequest): Promise<void> => {
    const config = req.routeOptions.config;
    if (config?.public) return;
    if (config?.loopbackOpen && isLoopback(req.socket.remoteAddress)) return;
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    if (!token) throw new SlipwayError('SLW_UNAUTHORIZED', 'missing "Authorization: Bearer <token>" header (slipway login, or SLIPWAY_TOKEN)');
    limiter.check(req.ip);
    let principal: Principal;
    try {
      principal = await access.authenticate(token);
    } catch (err) {
      limiter.fail(req.ip);
      throw err;
    }
    req.principal = principal;
    const needed = config?.scope ?? 'admin';
    if (!scopeAllows(principal.scope, needed)) {
      throw new SlipwayError('SLW_FORBIDDEN', `this needs a token with the ${needed} scope; ${principal.actor} has ${principal.scope}`);
    }
    if (principal.project) {
      if (needed === 'admin') throw new SlipwayError('SLW_FORBIDDEN', `a token restricted to project "${principal.project}" cannot use administration routes`);
      const project = (req.params as { project?: string } | undefined)?.project;
      if (project !== undefined) assertProjectAccess(req, project);
    }
  };
}

/** Refuses a project-restricted principal acting on another project. */
export function assertProjectAccess(req: FastifyRequest, project: string): void {
  const p = req.principal;
  if (p?.project && p.project !== project) {
    throw new SlipwayError('SLW_FORBIDDEN', `this token is restricted to project "${p.project}"; it cannot reach project "${project}"`);
  }
}

/** Whether the principal may see the project (for filtering lists). */
export function canSeeProject(req: FastifyRequest, project: string): boolean {
  return !req.principal?.project || req.principal.project === project;
}

/** The peer itself (not X-Forwarded-For, which a client can write) is on the loopback interface. */
function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1' || /^127\./.test(address ?? '');
}
