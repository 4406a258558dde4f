/** Sign-in, API tokens and users. Token secrets appear in exactly one response: their creation. */
import type { FastifyInstance } from 'fastify';
import { parseDuration } from '../../core/duration';
import { SlipwayError } from '../../core/errors';
import type { ApiDeps } from '../api-deps';
import { parseInput } from '../parse-body';
import { loginBody, sessionBody, tokenBody, tokenParams, userBody, userParams } from '../../core/contract/requests';
import { DASHBOARD_SESSION_TOKEN, type Principal } from '../../engine/access';
import { clearedSessionCookie, csrfTokenFor, sessionCookie, sessionTokenOf } from '../session-cookie';

/** How long a dashboard password sign-in lasts. */
const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export function accessRoutes(app: FastifyInstance, deps: ApiDeps): void {
  /** Password → a new token. Public, but failures count towards the per-IP limit. */
  app.post('/api/v1/login', { config: { public: true } }, async (req, reply) => {
    deps.authLimiter.check(req.ip);
    const body = parseInput(loginBody, req.body, 'login request');
    req.audit = { actor: `user:${body.user}`, target: `user ${body.user}` };
    try {
      const issued = await deps.access.login(body.user, body.password, {
        tokenName: body.tokenName,
        expiresInMs: body.expiresIn ? parseDuration(body.expiresIn)! : undefined,
      });
      req.audit.detail = `issued ${issued.record.id}`;
      return reply.status(201).send({ token: issued.token, tokenInfo: issued.record, user: issued.user });
    } catch (err) {
      if (err instanceof SlipwayError && err.code === 'SLW_UNAUTHORIZED') {
        deps.authLimiter.fail(req.ip);
        req.audit.actor = 'anonymous';
      }
      throw err;
    }
  });

  /**
   * Dashboard sign-in. Cross-site pages cannot post here: the body must be JSON, which a
   * form cannot send and a cross-origin fetch cannot send without a preflight we never allow.
   */
  app.post('/api/v1/session', { config: { public: true } }, async (req, reply) => {
    deps.authLimiter.check(req.ip);
    const body = parseInput(sessionBody, req.body, 'sign-in request');
    req.audit = { actor: body.user ? `user:${body.user}` : 'anonymous', target: 'dashboard session' };
    let token: string;
    let principal: Principal;
    try {
      if (body.token !== undefined) {
        token = body.token;
        principal = await deps.access.authenticate(token);
      } else {
        const issued = await deps.access.login(body.user!, body.password!, { tokenName: DASHBOARD_SESSION_TOKEN, expiresInMs: SESSION_TTL_MS });
        token = issued.token;
        principal = await deps.access.authenticate(token);
      }
    } catch (err) {
      if (err instanceof SlipwayError && err.code === 'SLW_UNAUTHORIZED') {
        deps.authLimiter.fail(req.ip);
        req.audit.actor = 'anonymous';
      }
      throw err;
    }
    req.principal = principal;
    req.audit = { actor: principal.actor, target: 'dashboard session', detail: `token ${principal.tokenId}` };
    const maxAge = principal.expiresAt ? (Date.parse(principal.expiresAt) - Date.now()) / 1000 : null;
    void reply.header('set-cookie', sessionCookie(req, token, maxAge));
    return reply.status(201).send({ session: sessionOf(principal, token) });
  });

  app.get('/api/v1/session', { config: { scope: 'read' } }, async (req) => {
    const token = req.viaSessionCookie ? sessionTokenOf(req)! : req.headers.authorization!.slice(7).trim();
    return { session: sessionOf(req.principal!, token) };
  });

  app.delete('/api/v1/session', { config: { scope: 'read' } }, async (req, reply) => {
    const p = req.principal!;
    let revoked: string | null = null;
    // A pasted token stays valid (it is used elsewhere); the one a sign-in issued dies with the session.
    if (p.dashboardSession) {
      await deps.access.revokeToken(p.tokenId);
      revoked = p.tokenId;
    }
    req.audit = { target: 'dashboard session', detail: revoked ? `revoked ${revoked}` : 'cookie cleared' };
    void reply.header('set-cookie', clearedSessionCookie(req));
    return { signedOut: true, revoked };
  });

  app.get('/api/v1/whoami', { config: { scope: 'read' } }, async (req) => {
    const p = req.principal!;
    return { actor: p.actor, scope: p.scope, project: p.project, tokenId: p.tokenId };
  });

  app.get('/api/v1/tokens', { config: { scope: 'admin' } }, async () => ({ tokens: await deps.access.listTokens() }));

  app.post('/api/v1/tokens', { config: { scope: 'admin' } }, async (req, reply) => {
    const body = parseInput(tokenBody, req.body, 'token request');
    const issued = await deps.access.createToken(req.principal!, {
      name: body.name,
      scope: body.scope,
      project: body.project ?? null,
      expiresInMs: body.expiresIn ? parseDuration(body.expiresIn)! : null,
    });
    req.audit = { project: body.project, target: `token ${issued.record.id}`, detail: `scope ${body.scope}` };
    return reply.status(201).send({ token: issued.token, tokenInfo: issued.record });
  });

  app.delete('/api/v1/tokens/:id', { config: { scope: 'admin' } }, async (req) => {
    const { id } = parseInput(tokenParams, req.params, 'path');
    const chained = await deps.access.revokeToken(id);
    if (chained.length) req.audit = { detail: `also revoked the tokens created with it: ${chained.join(', ')}` };
    return { revoked: id };
  });

  app.get('/api/v1/users', { config: { scope: 'admin' } }, async () => ({ users: await deps.access.listUsers() }));

  app.post('/api/v1/users', { config: { scope: 'admin' } }, async (req, reply) => {
    const body = parseInput(userBody, req.body, 'user request');
    req.audit = { target: `user ${body.name}`, detail: `scope ${body.scope}` };
    return reply.status(201).send({ user: await deps.access.createUser(body) });
  });

  app.delete('/api/v1/users/:name', { config: { scope: 'admin' } }, async (req) => {
    const { name } = parseInput(userParams, req.params, 'path');
    const revoked = await deps.access.deleteUser(name);
    if (revoked.length) req.audit = { detail: `revoked the tokens they created: ${revoked.join(', ')}` };
    return { deleted: name };
  });
}

function sessionOf(p: Principal, token: string) {
  return { actor: p.actor, scope: p.scope, project: p.project, tokenId: p.tokenId, expiresAt: p.expiresAt, csrfToken: csrfTokenFor(token) };
}
