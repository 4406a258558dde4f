/**
 * The outbox and notifications part of the Store contract (the OutboxStore role of the port);
 * registered by runStoreContract, so every Store implementation runs it.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { freshStore, type OpenStore } from './test-support/contract-fixture';

export function runOutboxContract(open: OpenStore): void {
  const fresh = (t: TestContext) => freshStore(open, t);

  describe('outbox', () => {
    test('an event is committed with its state change, or not at all', async (t) => {
      const { store, newDeployment } = await fresh(t);
      const d = await store.createDeployment(newDeployment({ event: { type: 'approval.needed', project: 'shop', payload: { n: 1 } } }));
      await store.updateDeployment(d.id, { state: 'building', event: { type: 'deployment.started', project: 'shop', payload: { n: 2 } } });
      await assert.rejects(store.updateDeployment('00000000-0000-4000-8000-000000000000', { state: 'failed', event: { type: 'deployment.failed', project: 'shop', payload: {} } }));
      const events = await store.listOutbox(0, 10);
      assert.deepEqual(events.map((e) => e.type), ['approval.needed', 'deployment.started'], 'the event of the failed update was rolled back with it');
      assert.equal(new Set(events.map((e) => e.eventId)).size, 2);
      assert.deepEqual(await store.listOutbox(events[0]!.seq, 10).then((r) => r.map((e) => e.payload)), [{ n: 2 }]);
    });

    test('an event of no stored change is appended on its own', async (t) => {
      const { store } = await fresh(t);
      await store.appendOutboxEvent({ type: 'edge.restarted', project: null, payload: { reason: 'test' } });
      const events = await store.listOutbox(0, 10);
      assert.deepEqual(events.map((e) => [e.type, e.project, e.payload]), [['edge.restarted', null, { reason: 'test' }]]);
    });

    test('deliveries: one per event and target, due ones listed, updates kept', async (t) => {
      const { store, newDeployment } = await fresh(t);
      await store.createDeployment(newDeployment({ event: { type: 'approval.needed', project: 'shop', payload: {} } }));
      const [e] = await store.listOutbox(0, 1);
      await store.createNotificationTarget({ id: 'ntf_1', kind: 'webhook', url: 'http://127.0.0.1:9/x', keyId: null, sealed: null, project: null, events: [], createdBy: 'test' });
      await store.addDeliveries(e!.eventId, ['ntf_1'], '2026-01-01T00:00:00.000Z');
      await store.addDeliveries(e!.eventId, ['ntf_1'], '2026-01-01T00:00:00.000Z');
      assert.equal((await store.dueDeliveries('2026-01-01T00:00:01.000Z', 10)).length, 1);
      assert.equal((await store.dueDeliveries('2025-12-31T00:00:00.000Z', 10)).length, 0);
      assert.deepEqual(await store.outboxBacklog(0), { events: 1, pendingDeliveries: 1 });
      assert.deepEqual(await store.outboxBacklog(e!.seq), { events: 0, pendingDeliveries: 1 });
      await store.updateDelivery(e!.eventId, 'ntf_1', { status: 'delivered', attempts: 2, deliveredAt: '2026-01-01T00:00:02.000Z' });
      assert.deepEqual((await store.listDeliveries(10)).map((d) => [d.status, d.attempts]), [['delivered', 2]]);
      assert.equal((await store.dueDeliveries('2027-01-01T00:00:00.000Z', 10)).length, 0);
    });
  });
}
