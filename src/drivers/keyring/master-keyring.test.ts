import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { isSlipwayError } from '../../core/errors';
import { MasterKeyring } from './master-keyring';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'slipway-keyring-'));
const isKeyError = (err: unknown) => isSlipwayError(err) && err.code === 'SLW_SECRETS_KEY';

test('generates master.key with mode 0600 on first start and reuses it after', () => {
  const dir = tmp();
  const a = new MasterKeyring({ dataDir: dir, env: {} });
  assert.equal(statSync(path.join(dir, 'master.key')).mode & 0o777, 0o600);
  const { sealed } = a.seal('s3cret', 'env:1:v1');
  const b = new MasterKeyring({ dataDir: dir, env: {} });
  assert.equal(b.primaryKeyId(), a.primaryKeyId());
  assert.equal(b.open(sealed, 'env:1:v1'), 's3cret');
});

test('a seal hides the value, differs every time, and opens only with the same context', () => {
  const k = new MasterKeyring({ dataDir: tmp(), env: {} });
  const one = k.seal('hunter2-value', 'ctx-a');
  const two = k.seal('hunter2-value', 'ctx-a');
  assert.notEqual(one.sealed, two.sealed, 'random IV');
  assert.ok(!one.sealed.includes('hunter2'));
  assert.equal(one.keyId, k.primaryKeyId());
  assert.throws(() => k.open(one.sealed, 'ctx-b'), isKeyError);
  const parts = one.sealed.split('.');
  parts[4] = Buffer.from('tampered!').toString('base64url');
  assert.throws(() => k.open(parts.join('.'), 'ctx-a'), isKeyError);
  assert.throws(() => k.open('not a seal', 'ctx-a'), isKeyError);
});

test('rotation: a new primary key, old seals still open until the old key is retired', async () => {
  const dir = tmp();
  const k = new MasterKeyring({ dataDir: dir, env: {} });
  const old = k.seal('v', 'c');
  const before = k.primaryKeyId();
  const { keyId, generated } = await k.addPrimaryKey();
  assert.ok(generated);
  assert.notEqual(keyId, before);
  assert.ok(k.holdsKey(before) && k.holdsKey(keyId));
  assert.equal(k.open(old.sealed, 'c'), 'v', 'old seal opens mid-rotation');
  assert.equal(new MasterKeyring({ dataDir: dir, env: {} }).open(old.sealed, 'c'), 'v', 'and after a crash mid-rotation');
  const fresh = k.seal('v', 'c');
  assert.equal(fresh.keyId, keyId);
  await k.retireOtherKeys();
  assert.equal(readFileSync(path.join(dir, 'master.key'), 'utf8').trim().split('\n').length, 1);
  assert.ok(!k.holdsKey(before));
  assert.throws(() => k.open(old.sealed, 'c'), (err: unknown) => isKeyError(err) && /does not hold/.test((err as Error).message));
  assert.equal(k.open(fresh.sealed, 'c'), 'v');
});

test('SLIPWAY_MASTER_KEY (hex or base64) is the primary; _PREVIOUS and file keys only open', async () => {
  const dir = tmp();
  const fileBased = new MasterKeyring({ dataDir: dir, env: {} });
  const oldSeal = fileBased.seal('from-file-era', 'c');
  const key = randomBytes(32);
  const hex = new MasterKeyring({ dataDir: dir, env: { SLIPWAY_MASTER_KEY: key.toString('hex') } });
  const b64 = new MasterKeyring({ dataDir: dir, env: { SLIPWAY_MASTER_KEY: key.toString('base64') } });
  assert.equal(hex.primaryKeyId(), b64.primaryKeyId());
  assert.ok(hex.fromEnvironment);
  assert.equal(hex.open(oldSeal.sealed, 'c'), 'from-file-era');
  const rotated = await hex.addPrimaryKey();
  assert.equal(rotated.generated, false, 'an environment key is never replaced by Slipway');
  assert.equal(rotated.keyId, hex.primaryKeyId());
});

test('a malformed SLIPWAY_MASTER_KEY is refused without echoing it', () => {
  const bad = 'definitely-not-a-key-value-1234';
  assert.throws(
    () => new MasterKeyring({ dataDir: tmp(), env: { SLIPWAY_MASTER_KEY: bad } }),
    (err: unknown) => isKeyError(err) && /SLIPWAY_MASTER_KEY: expected 32 random bytes/.test((err as Error).message) && !(err as Error).message.includes(bad),
  );
});
