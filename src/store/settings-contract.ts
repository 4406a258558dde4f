/**
 * The settings part of the Store contract (the SettingsStore role of the port); registered by
 * runStoreContract, so every Store implementation runs it.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { freshStore, type OpenStore } from './test-support/contract-fixture';

export function runSettingsContract(open: OpenStore): void {
  const fresh = (t: TestContext) => freshStore(open, t);

  describe('settings', () => {
    test('missing is null; set inserts then overwrites', async (t) => {
      const { store } = await fresh(t);
      assert.equal(await store.getSetting('x'), null);
      await store.setSetting('x', '1');
      assert.equal(await store.getSetting('x'), '1');
      await store.setSetting('x', '2');
      await store.setSetting('y', '');
      assert.equal(await store.getSetting('x'), '2');
      assert.equal(await store.getSetting('y'), '');
    });

    test('many at once: only the existing ones, however many keys', async (t) => {
      const { store } = await fresh(t);
      const keys = Array.from({ length: 1200 }, (_, i) => `k${i}`);
      for (const k of ['k0', 'k599', 'k1199']) await store.setSetting(k, `v-${k}`);
      const got = await store.getSettings([...keys, 'absent']);
      assert.deepEqual([...got.entries()].sort(), [['k0', 'v-k0'], ['k1199', 'v-k1199'], ['k599', 'v-k599']]);
      assert.equal((await store.getSettings([])).size, 0);
    });
  });
}
