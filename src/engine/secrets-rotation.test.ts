/**
 * Master key rotation re-seals accessories' generated credentials too: after rotateKey every
 * version is sealed under the new key (opened with its own context) and the old key is retired.
 * The cipher here is a small keyed fake that authenticates the context like the real one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { SealedAccessoryCredentials } from '../core/domain';
import type { SecretCipher } from '../core/ports/secret-cipher';
import type { Store } from '../core/ports/store';
import { accessorySealContext } from './accessory-credentials';
import type { EngineContext } from './engine-context';
import { Secrets } from './secrets';

class FakeCipher implements SecretCipher {
  keys = ['k1'];
  primaryKeyId = () => this.keys[0]!;
  holdsKey = (id: string) => this.keys.includes(id);
  seal(plaintext: string, context: string) {
    const keyId = this.primaryKeyId();
    return { keyId, sealed: `${keyId}|${context}|${plaintext}` };
  }
  open(sealed: string, context: string): string {
    const [keyId, ctx, ...rest] = sealed.split('|');
    if (!this.holdsKey(keyId!)) throw new Error(`key ${keyId} not held`);
    if (ctx !== context) throw new Error('context mismatch');
    return rest.join('|');
  }
  async addPrimaryKey() {
    const keyId = `k${this.keys.length + 1}`;
    this.keys.unshift(keyId);
    return { keyId, generated: true };
  }
  async retireOtherKeys() {
    this.keys = [this.keys[0]!];
  }
}

test('rotateKey re-seals every version of every accessory credentials under the new key; the key checks count them', async () => {
  const cipher = new FakeCipher();
  let rows: SealedAccessoryCredentials[] = [
    [1, 1],
    [1, 2],
    [7, 1],
  ].map(([accessoryId, version]) => ({ accessoryId: accessoryId!, version: version!, ...cipher.seal(`creds-${accessoryId}-${version}`, accessorySealContext(accessoryId!, version!)), createdAt: '2026-01-01T00:00:00.000Z' }));
  const store: Partial<Store> = {
    listAllSecrets: async () => [],
    resealSecrets: async () => undefined,
    listAllAccessoryCredentials: async () => rows.map((r) => ({ ...r })),
    resealAccessoryCredentials: async (updates) => {
      rows = rows.map((r) => {
        const u = updates.find((x) => x.accessoryId === r.accessoryId && x.version === r.version);
        return u ? { ...r, keyId: u.keyId, sealed: u.sealed } : r;
      });
    },
  };
  const ctx = { store: store as Store, cipher, logger: pino({ level: 'silent' }) } as unknown as EngineContext;
  const secrets = new Secrets(ctx, async () => ({ id: 'x' }));
  assert.equal(await secrets.versionsWithoutKey(), 0);
  assert.equal(await secrets.unreadableVersions(), 0);
  const report = await secrets.rotateKey();
  assert.equal(report.keyId, 'k2');
  assert.deepEqual(cipher.keys, ['k2'], 'the old key is retired');
  assert.deepEqual(rows.map((r) => r.keyId), ['k2', 'k2', 'k2']);
  // Opening needs the new key (the only one held now) and each version's own context.
  assert.deepEqual(
    rows.map((r) => cipher.open(r.sealed, accessorySealContext(r.accessoryId, r.version))),
    ['creds-1-1', 'creds-1-2', 'creds-7-1'],
  );

  // A seal under a key the server no longer holds, or moved to another row, is reported by the checks.
  rows[0] = { ...rows[0]!, keyId: 'k1', sealed: `k1|${accessorySealContext(1, 1)}|x` };
  rows[1] = { ...rows[1]!, sealed: rows[2]!.sealed };
  assert.equal(await secrets.versionsWithoutKey(), 1);
  assert.equal(await secrets.unreadableVersions(), 2);
});
