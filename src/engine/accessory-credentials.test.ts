import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Store } from '../core/ports/store';
import { accessorySealContext, addAccessoryCredentials, generateAccessoryCredentials, openAccessoryCredentials, rotatedCredentials } from './accessory-credentials';
import { accessoryWorld } from './accessory-world.test-support';

async function setup() {
  const { ctx, w } = accessoryWorld();
  const a = await ctx.store.saveAccessory({ environmentId: 10, name: 'db', kind: 'postgres', config: {} as never, imageDigest: 'x', specHash: '' });
  const b = await ctx.store.saveAccessory({ environmentId: 10, name: 'cache', kind: 'redis', config: {} as never, imageDigest: 'x', specHash: '' });
  return { ctx, w, a, b };
}

test('generated credentials are sealed (never stored in clear), versioned, and open again', async () => {
  const { ctx, w, a } = await setup();
  const v = await generateAccessoryCredentials(ctx, a.id, 'postgres');
  assert.equal(v, 1);
  const creds = await openAccessoryCredentials(ctx, a.id, 1);
  assert.deepEqual(Object.keys(creds).sort(), ['app', 'owner', 'superuser']);
  for (const value of Object.values(creds)) assert.match(value, /^[0-9a-f]{32}$/);
  assert.ok(!w.creds[0]!.sealed.includes(creds.app!));
  assert.ok(!JSON.stringify(w.records).includes(creds.app!));
  assert.equal(w.records[0]!.credentialsVersion, 1);
  const v2 = await addAccessoryCredentials(ctx, a.id, rotatedCredentials('postgres', creds));
  assert.equal(v2, 2);
  const rotated = await openAccessoryCredentials(ctx, a.id, 2);
  assert.equal(rotated.superuser, creds.superuser, 'superuser kept');
  assert.notEqual(rotated.app, creds.app);
  assert.notEqual(rotated.owner, creds.owner);
  assert.deepEqual(await openAccessoryCredentials(ctx, a.id, 1), creds, 'old versions stay readable (pinned releases)');
});

test('the seal is bound to its accessory and version: moved to another row it does not open', async () => {
  const { ctx, w, a, b } = await setup();
  await generateAccessoryCredentials(ctx, a.id, 'postgres');
  await generateAccessoryCredentials(ctx, b.id, 'redis');
  assert.equal(accessorySealContext(a.id, 1), `slipway/accessories/${a.id}/v1`);
  w.creds[1]!.sealed = w.creds[0]!.sealed; // a's seal copied onto b's row
  await assert.rejects(openAccessoryCredentials(ctx, b.id, 1), /does not open/);
});

test('container accessories have none (version 0); a missing version is an internal error', async () => {
  const { ctx, a } = await setup();
  assert.equal(await generateAccessoryCredentials(ctx, a.id, 'container'), 0);
  assert.deepEqual(await openAccessoryCredentials(ctx, a.id, 0), {});
  await assert.rejects(openAccessoryCredentials(ctx, a.id, 3), (err: Error & { code?: string }) => err.code === 'SLW_INTERNAL' && !/[0-9a-f]{32}/.test(err.message));
});

test('a concurrent writer taking the version number is a conflict, not a mis-sealed row', async () => {
  const { ctx, a } = await setup();
  const store = ctx.store as Store;
  const racing = { ...store, getAccessoryCredentials: async () => null } as unknown as Store;
  await generateAccessoryCredentials(ctx, a.id, 'redis');
  await assert.rejects(addAccessoryCredentials({ store: racing, cipher: ctx.cipher }, a.id, { password: 'x'.repeat(32) }), (err: Error & { code?: string }) => err.code === 'SLW_CONFLICT');
});
