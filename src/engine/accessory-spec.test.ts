import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateCredentials } from '../core/accessory-kinds';
import { rotatedCredentials } from './accessory-credentials';
import { accessorySpecHash, describeAccessoryChange, desiredAccessorySpec } from './accessory-spec';
import { accessoryConfig } from './accessory-world.test-support';

const pg = accessoryConfig('db', 'postgres');
const creds = generateCredentials('postgres');
const base = { config: pg, imageDigest: 'sha256:aaa', creds };

test('the spec hash is stable for the same desired container and changes with each part of it', () => {
  assert.equal(accessorySpecHash(base), accessorySpecHash({ ...base, config: { ...pg, env: {} }, creds: { ...creds } }));
  assert.match(accessorySpecHash(base), /^[0-9a-f]{16}$/);
  const variants = [
    { ...base, imageDigest: 'sha256:bbb' },
    { ...base, config: { ...pg, env: { TZ: 'UTC' } } },
    { ...base, config: { ...pg, command: ['postgres', '-c', 'max_connections=50'] } },
    { ...base, config: { ...pg, volumes: [{ volume: 'data', path: '/other', readOnly: false }] } },
    { ...base, config: { ...pg, resources: { memoryBytes: 1 << 29, cpus: null } } },
    { ...base, config: { ...pg, resources: { memoryBytes: null, cpus: 0.5 } } },
    { ...base, config: { ...pg, port: 5433 } },
  ];
  const hashes = new Set([accessorySpecHash(base), ...variants.map(accessorySpecHash)]);
  assert.equal(hashes.size, variants.length + 1);
});

test('env order does not matter; health and stop timeout are not part of the container', () => {
  const a = { ...base, config: { ...pg, env: { A: '1', B: '2' } } };
  const b = { ...base, config: { ...pg, env: { B: '2', A: '1' }, stopTimeoutMs: 1, health: null } };
  assert.equal(accessorySpecHash(a), accessorySpecHash(b));
});

test('a postgres rotation keeps the hash (superuser kept); a redis rotation changes it (its password is in the container env)', () => {
  assert.equal(accessorySpecHash({ ...base, creds: rotatedCredentials('postgres', creds) }), accessorySpecHash(base));
  const redis = accessoryConfig('cache', 'redis');
  const rc = generateCredentials('redis');
  assert.notEqual(accessorySpecHash({ config: redis, imageDigest: 'x', creds: rotatedCredentials('redis', rc) }), accessorySpecHash({ config: redis, imageDigest: 'x', creds: rc }));
});

test('the desired spec: name, image ID, labels with the hash, kind env and command, limits only when set', () => {
  const spec = desiredAccessorySpec({ project: 'shop', env: 'staging', server: 'local', ...base }, 'abc123');
  assert.equal(spec.name, 'shop-db-staging-abc123');
  assert.equal(spec.image, 'sha256:aaa');
  assert.deepEqual(spec.labels, { project: 'shop', env: 'staging', accessory: 'db', spec: accessorySpecHash(base) });
  assert.deepEqual([spec.env.POSTGRES_USER, spec.env.POSTGRES_PASSWORD, spec.env.PGDATA], ['postgres', creds.superuser, '/var/lib/postgresql/data']);
  assert.equal(spec.command, undefined, "postgres keeps the image's CMD");
  assert.equal(spec.resources, undefined);
  const limited = desiredAccessorySpec({ project: 'shop', env: 'staging', server: 'local', ...base, config: { ...pg, resources: { memoryBytes: 1024, cpus: null } } });
  assert.deepEqual(limited.resources, { memoryBytes: 1024, cpus: null });
  assert.match(limited.name, /^shop-db-staging-[0-9a-f]{6}$/);
  const nats = desiredAccessorySpec({ project: 'shop', env: 'staging', server: 'local', config: accessoryConfig('bus', 'nats'), imageDigest: 'x', creds: { password: 'p'.repeat(32) } });
  // The password travels in the env (never an argv): the command writes it to a config file first.
  assert.deepEqual(nats.command!.slice(0, 2), ['sh', '-c']);
  assert.match(nats.command!.join(' '), /nats-server.*--jetstream/);
  assert.ok(!nats.command!.some((a) => a.includes('p'.repeat(32))), 'no password in the command');
  assert.equal(nats.env.NATS_PASSWORD, 'p'.repeat(32));
});

test('describeAccessoryChange says what changed, names env variables but never their values', () => {
  const before = { config: { ...pg, env: { SECRET_THING: 'old-value' } }, imageDigest: 'sha256:111111111111aaaa' };
  assert.deepEqual(describeAccessoryChange(null, before), []);
  assert.deepEqual(describeAccessoryChange(before, before), []);
  const after = { config: { ...pg, env: { SECRET_THING: 'new-value' }, port: 5433, volumes: [] }, imageDigest: 'sha256:222222222222bbbb' };
  const why = describeAccessoryChange(before, after);
  assert.deepEqual(why, ['image slipway/postgres:15 rebuilt (111111111111 → 222222222222)', 'env SECRET_THING', 'volumes data:/data → none', 'port 5432 → 5433']);
  assert.ok(!why.join(' ').includes('value'));
  const upgraded = describeAccessoryChange(before, { config: { ...before.config, image: 'postgres:16', version: '16' }, imageDigest: 'sha256:3' });
  assert.deepEqual(upgraded, ['image slipway/postgres:15 → postgres:16']);
});
