/**
 * The secrets part of the Store contract (the SecretStore role of the port); registered by
 * runStoreContract, so every Store implementation runs it.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { freshStore, ISO_UTC, rejectsWithCode, type OpenStore } from './test-support/contract-fixture';

export function runSecretContract(open: OpenStore): void {
  const fresh = (t: TestContext) => freshStore(open, t);

  describe('secrets', () => {
    const names = { API_KEY: { version: 1, updatedAt: '2026-01-01T00:00:00.000Z' } };
    test('none until added; newest or a given version; versions are per environment', async (t) => {
      const { store, project, env } = await fresh(t);
      assert.equal(await store.getSecrets(env.id), null);
      const v1 = await store.addSecrets({ environmentId: env.id, version: 1, keyId: 'k1', sealed: 'blob-1', names });
      assert.match(v1.createdAt, ISO_UTC);
      assert.deepEqual(v1.names, names);
      await store.addSecrets({ environmentId: env.id, version: 2, keyId: 'k1', sealed: 'blob-2', names: {} });
      assert.equal((await store.getSecrets(env.id))?.sealed, 'blob-2');
      assert.equal((await store.getSecrets(env.id, 1))?.sealed, 'blob-1');
      assert.equal(await store.getSecrets(env.id, 7), null);
      const staging = await store.ensureEnvironment(project.id, 'staging');
      assert.equal(await store.getSecrets(staging.id), null);
      await store.addSecrets({ environmentId: staging.id, version: 1, keyId: 'k1', sealed: 'blob-s', names });
      assert.equal((await store.listAllSecrets()).length, 3);
    });

    test('adding an existing version is a conflict and changes nothing', async (t) => {
      const { store, env } = await fresh(t);
      await store.addSecrets({ environmentId: env.id, version: 1, keyId: 'k1', sealed: 'first', names });
      await rejectsWithCode(store.addSecrets({ environmentId: env.id, version: 1, keyId: 'k1', sealed: 'second', names }), 'SLW_CONFLICT');
      assert.equal((await store.getSecrets(env.id))?.sealed, 'first');
      await rejectsWithCode(store.addSecrets({ environmentId: 9999, version: 1, keyId: 'k1', sealed: 'x', names }), 'SLW_NOT_FOUND');
    });

    test('reseal replaces seals atomically; a missing version rolls the whole batch back', async (t) => {
      const { store, env } = await fresh(t);
      await store.addSecrets({ environmentId: env.id, version: 1, keyId: 'old', sealed: 'a', names });
      await store.addSecrets({ environmentId: env.id, version: 2, keyId: 'old', sealed: 'b', names });
      await rejectsWithCode(
        store.resealSecrets([
          { environmentId: env.id, version: 1, keyId: 'new', sealed: 'A' },
          { environmentId: env.id, version: 5, keyId: 'new', sealed: 'X' },
        ]),
        'SLW_NOT_FOUND',
      );
      assert.equal((await store.getSecrets(env.id, 1))?.keyId, 'old');
      await store.resealSecrets([
        { environmentId: env.id, version: 1, keyId: 'new', sealed: 'A' },
        { environmentId: env.id, version: 2, keyId: 'new', sealed: 'B' },
      ]);
      assert.deepEqual((await store.listAllSecrets()).map((s) => [s.version, s.keyId, s.sealed]), [[1, 'new', 'A'], [2, 'new', 'B']]);
    });

    test('destroying an environment deletes its secrets', async (t) => {
      const { store, env } = await fresh(t);
      await store.addSecrets({ environmentId: env.id, version: 1, keyId: 'k', sealed: 's', names });
      await store.deleteEnvironment(env.id);
      assert.deepEqual(await store.listAllSecrets(), []);
    });
  });
}
