import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../api-deps';
import { parseInput } from '../parse-body';
import { environmentParams, secretsChangeBody } from '../../core/contract/requests';

/** Secrets: names and versions out, values only in (never in any response). */
export function secretRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/api/v1/projects/:project/environments/:env/secrets', { config: { scope: 'read' } }, async (req) => {
    const p = parseInput(environmentParams, req.params, 'path');
    return deps.secrets.list(p.project, p.env);
  });

  /** Sets and unsets in one new version; rolls live services out again unless `deploy: false`. */
  app.patch('/api/v1/projects/:project/environments/:env/secrets', { config: { scope: 'deploy' } }, async (req) => {
    const p = parseInput(environmentParams, req.params, 'path');
    const body = parseInput(secretsChangeBody, req.body, 'secrets change');
    // Names only: values never reach the audit log.
    req.audit = { detail: [...Object.keys(body.set ?? {}).map((n) => `set ${n}`), ...(body.unset ?? []).map((n) => `unset ${n}`)].join(', ') || null! };
    return deps.secrets.change(p.project, p.env, { set: body.set, unset: body.unset }, { deploy: body.deploy, triggeredBy: req.principal!.actor });
  });

  app.post('/api/v1/secrets/rotate-key', { config: { scope: 'admin' } }, async () => deps.secrets.rotateKey());
}
