/** Sign-in, API tokens and users. Token secrets appear in exactly one response: their creation. */
import type { FastifyInstance } from 'fastify';
import { parseDuration } from '../../core/duration';
import { SlipwayError } from '../../core/errors';
import type { ApiDeps } from '../api-deps';
import { parseInput } from '../parse-body';
import { loginBody, tokenBody, tokenParams, userBody, userParams } from '../../core/contract/requests';

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
    await deps.access.revokeToken(id);
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
    await deps.access.deleteUser(name);
    return { deleted: name };
  });
}
