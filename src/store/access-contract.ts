/**
 * The users, tokens and audit part of the Store contract (the AccessStore role of the port);
 * registered by runStoreContract, so every Store implementation runs it.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { freshStore, type OpenStore } from './test-support/contract-fixture';

export function runAccessContract(open: OpenStore): void {
  const fresh = (t: TestContext) => freshStore(open, t);

  describe('users, tokens, audit', () => {
    test('user names are unique; deleting a user removes the tokens issued to them', async (t) => {
      const { store } = await fresh(t);
      const alice = await store.createUser({ name: 'alice', passwordHash: 'h', scope: 'deploy' });
      await assert.rejects(store.createUser({ name: 'alice', passwordHash: 'h2', scope: 'read' }), { code: 'SLW_CONFLICT' });
      assert.equal((await store.getUserByName('alice'))?.passwordHash, 'h');
      const tok = await store.createToken({ id: 'tok_a', name: 'login alice', tokenHash: 'th1', scope: 'deploy', project: null, userId: alice.id, createdBy: 'user:alice', parentTokenId: null, expiresAt: null });
      assert.deepEqual(await store.getTokenByHash('th1'), tok);
      assert.equal(await store.deleteUser('alice'), true);
      assert.equal(await store.getTokenByHash('th1'), null);
      assert.equal(await store.deleteUser('alice'), false);
    });

    test('tokens: revoke once, touch last use; the hash is never listed', async (t) => {
      const { store } = await fresh(t);
      await store.createToken({ id: 'tok_b', name: 'ci', tokenHash: 'th2', scope: 'read', project: 'shop', userId: null, createdBy: 'system', parentTokenId: null, expiresAt: '2030-01-01T00:00:00.000Z' });
      await store.touchToken('tok_b', '2026-01-01T00:00:00.000Z');
      const [listed] = await store.listTokens();
      assert.equal(listed?.lastUsedAt, '2026-01-01T00:00:00.000Z');
      assert.ok(!JSON.stringify(listed).includes('th2'));
      assert.equal(await store.revokeToken('tok_b'), true);
      assert.equal(await store.revokeToken('tok_b'), false);
      assert.ok((await store.getTokenByHash('th2'))?.revokedAt);
    });

    test('a token keeps the token it was created with', async (t) => {
      const { store } = await fresh(t);
      await store.createToken({ id: 'tok_p', name: 'parent', tokenHash: 'thp', scope: 'admin', project: null, userId: null, createdBy: 'system', parentTokenId: null, expiresAt: null });
      const child = await store.createToken({ id: 'tok_c', name: 'child', tokenHash: 'thc', scope: 'read', project: null, userId: null, createdBy: 'token:parent (tok_p)', parentTokenId: 'tok_p', expiresAt: null });
      assert.equal(child.parentTokenId, 'tok_p');
      assert.deepEqual(new Map((await store.listTokens()).map((x) => [x.id, x.parentTokenId])), new Map([['tok_p', null], ['tok_c', 'tok_p']]));
      assert.equal((await store.getTokenByHash('thc'))?.parentTokenId, 'tok_p');
    });

    test('audit entries append in order and filter by project and time', async (t) => {
      const { store } = await fresh(t);
      const entry = { actor: 'user:a', action: 'POST /x', target: null, clientIp: '127.0.0.1', outcome: 'ok' as const, status: 200, detail: null };
      await store.appendAudit({ ...entry, project: 'shop' });
      await store.appendAudit({ ...entry, project: 'blog' });
      const last = await store.appendAudit({ ...entry, project: 'shop', outcome: 'denied', status: 403 });
      assert.deepEqual((await store.listAudit({ project: 'shop' })).map((e) => e.status), [403, 200]);
      assert.equal((await store.listAudit({ limit: 1 }))[0]?.seq, last.seq);
      assert.deepEqual(await store.listAudit({ since: '2999-01-01T00:00:00.000Z' }), []);
      assert.equal(last.count, 1, 'one call unless told');
      const repeated = await store.appendAudit({ ...entry, project: null, outcome: 'denied', status: 401, count: 37 });
      assert.equal(repeated.count, 37);
      assert.equal((await store.listAudit({ limit: 1 }))[0]?.count, 37);
    });
  });
}
