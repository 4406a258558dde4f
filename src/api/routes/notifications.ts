/** Notification targets (where outbox events go) and the delivery status of each event. */
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../api-deps';
import { parseInput } from '../parse-body';
import { deliveriesQuery, notificationTargetBody, notificationTargetParams } from '../../core/contract/requests';

export function notificationRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/api/v1/notifications/targets', { config: { scope: 'admin' } }, async () => ({ targets: await deps.notifier.listTargets() }));

  app.post('/api/v1/notifications/targets', { config: { scope: 'admin' } }, async (req, reply) => {
    const body = parseInput(notificationTargetBody, req.body, 'notification target');
    const created = await deps.notifier.addTarget(body, req.principal!.actor);
    req.audit = { project: body.project, target: `notification target ${created.target.id}`, detail: `${body.kind} ${new URL(body.url).host}` };
    return reply.status(201).send(created);
  });

  app.delete('/api/v1/notifications/targets/:id', { config: { scope: 'admin' } }, async (req) => {
    const { id } = parseInput(notificationTargetParams, req.params, 'path');
    await deps.notifier.removeTarget(id);
    return { removed: id };
  });

  app.get('/api/v1/notifications/deliveries', { config: { scope: 'admin' } }, async (req) => {
    const { limit } = parseInput(deliveriesQuery, req.query, 'query');
    return { deliveries: await deps.notifier.deliveries(limit) };
  });
}
