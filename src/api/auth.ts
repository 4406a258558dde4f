/**
 * Authentication and authorisation of every request. Each route declares the scope it
 * needs (`config: { scope }`) or that it is public; the bearer token's principal must hold
 * that scope, and a project-restricted token only reaches routes of its project.
 * Bad tokens and missing ones count towards the per-IP failure limit.
 */
import type { FastifyRequest } from 'fastify';
import { scopeAllows, type Scope } from '../core/domain';
import { SlipwayError } from '../core/errors';
import type { Access, Principal } from '../engine/access';
import type { FailureLimiter } from './rate-limit';
import { CSRF_HEADER, csrfMatches, isSafeMethod, sessionTokenOf } from './session-cookie';

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
    /** The token came from the dashboard's session cookie (not an Authorization header). */
    viaSessionCookie?: boolean;
    /** What the audit record of this request should name, set by handlers. */
    audit?: { actor?: string; project?: string; target?: string; detail?: string };
  }
}

export function makeAuthenticator(access: Access, limiter: FailureLimiter) {
  return async (req: FastifyRequest): Promise<void> => {
    const config = req.routeOptions.config;
    if (config?.public) return;
    // req.ip: the peer, or the client the edge forwarded for (only a trusted proxy's header counts).
    if (config?.loopbackOpen && isLoopback(req.ip)) return;
    const header = req.headers.authorization;
    const bearer = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    // An explicit Authorization header wins over the dashboard's cookie.
    let cookie: string | undefined;
    try {
      cookie = bearer ? undefined : sessionTokenOf(req);
    } catch (err) {
      // A malformed session cookie is a bad credential: a 401, counted like one.
      limiter.check(req.ip);
      limiter.fail(req.ip);
      throw err;
    }
    const token = bearer || cookie;
    limiter.check(req.ip);
    if (!token) {
      // Token-less calls count as failures too: otherwise they are free to repeat (and each was audited).
      limiter.fail(req.ip);
      throw new SlipwayError('SLW_UNAUTHORIZED', 'missing "Authorization: Bearer <token>" header (slipway login, or SLIPWAY_TOKEN) or dashboard session');
    }
    if (cookie && !isSafeMethod(req.method) && !csrfMatches(cookie, req.headers[CSRF_HEADER])) {
      // Refused before the token is even looked up: another site can make a browser send
      // the cookie, but cannot read the CSRF token a page of ours got from GET /api/v1/session.
      throw new SlipwayError('SLW_FORBIDDEN', `a request signed in by the session cookie that changes something needs the ${CSRF_HEADER} header (from GET /api/v1/session)`, [
        { path: `headers.${CSRF_HEADER}`, message: 'must be the csrfToken of the current session' },
      ]);
    }
    let principal: Principal;
    try {
      principal = await access.authenticate(token);
    } catch (err) {
      limiter.fail(req.ip);
      throw err;
    }
    req.principal = principal;
    req.viaSessionCookie = cookie !== undefined;
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

/** The client is on the loopback interface (X-Forwarded-For counts only from a trusted proxy: BuildApiOptions.trustProxy). */
function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1' || /^127\./.test(address ?? '');
}
