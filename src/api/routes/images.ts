/**
 * The admin's allow-list of images that project-restricted tokens may deploy besides the
 * images Slipway built for their project (engine/image-policy.ts). Reading it needs `read`
 * (a project token may learn what it can deploy); changing it needs `admin`.
 */
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../api-deps';
import { parseInput } from '../parse-body';
import { allowImagesBody, disallowImageQuery } from '../../core/contract/requests';

export function imageRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/api/v1/images/allowed', { config: { scope: 'read' } }, async () => ({ allowed: await deps.engine.images.allowed() }));

  app.post('/api/v1/images/allowed', { config: { scope: 'admin' } }, async (req) => {
    const body = parseInput(allowImagesBody, req.body, 'allow request');
    const result = await deps.engine.images.allow(body.images);
    req.audit = { target: 'image allow-list', detail: `allowed ${result.changed.join(', ') || 'nothing new'}` };
    return result;
  });

  app.delete('/api/v1/images/allowed', { config: { scope: 'admin' } }, async (req) => {
    const { image } = parseInput(disallowImageQuery, req.query, 'query');
    const result = await deps.engine.images.disallow([image]);
    req.audit = { target: 'image allow-list', detail: `removed ${result.changed.join(', ') || 'nothing'}` };
    return result;
  });
}
