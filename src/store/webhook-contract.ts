/**
 * The webhook deliveries and pushes part of the Store contract (the WebhookStore role of the
 * port); registered by runStoreContract, so every Store implementation runs it.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { freshStore, type OpenStore } from './test-support/contract-fixture';

export function runWebhookContract(open: OpenStore): void {
  const fresh = (t: TestContext) => freshStore(open, t);

  describe('webhook deliveries', () => {
    test('a push is accepted once by what was signed, whatever its delivery id; old records are pruned', async (t) => {
      const { store } = await fresh(t);
      const push = { project: 'shop', ref: 'refs/heads/main', commit: 'a'.repeat(40), bodySha256: 'b'.repeat(64), deliveryId: 'github:1' };
      assert.equal(await store.recordDelivery('shop', 'github:1'), true);
      assert.equal(await store.recordDelivery('shop', 'github:1'), false);
      assert.equal(await store.recordWebhookPush(push), true);
      assert.equal(await store.recordWebhookPush({ ...push, deliveryId: 'github:2' }), false, 'same signed push under a new delivery id');
      assert.equal(await store.recordWebhookPush({ ...push, project: 'other' }), true);
      assert.equal(await store.recordWebhookPush({ ...push, bodySha256: 'c'.repeat(64) }), true);
      assert.equal(await store.pruneWebhookDeliveries('2000-01-01T00:00:00.000Z'), 0);
      assert.equal(await store.pruneWebhookDeliveries(new Date(Date.now() + 1000).toISOString()), 4);
      assert.equal(await store.recordDelivery('shop', 'github:1'), true);
      assert.equal(await store.recordWebhookPush(push), true);
    });
  });
}
