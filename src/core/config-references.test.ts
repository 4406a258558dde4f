/**
 * `uses:` (issue 20): services name the accessories they reach and get their connection
 * variables; unknown accessories, clashing variables and reserved names are refused naming
 * where they were written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import type { ServiceConfig } from './config';
import { formatErrors, parseProjectConfig } from './parse-config';

const accessories = {
  db: { kind: 'postgres' },
  cache: { kind: 'redis' },
  queue: { kind: 'nats' },
  search: { kind: 'container', image: 'meili:1', port: 7700 },
  shipper: { kind: 'container', image: 'vector:1' },
};
const file = (web: Record<string, unknown>, rest: Record<string, unknown> = {}) =>
  stringify({ project: 'shop', accessories, services: { web: { image: 'slipway/node:20', port: 3000, ...web } }, ...rest });

function webOf(text: string, env?: string): ServiceConfig {
  const r = parseProjectConfig(text, { env });
  assert.ok(r.ok, r.ok ? '' : formatErrors(r.errors));
  return r.config.services.web!;
}

function errorsOf(text: string, env?: string): string {
  const r = parseProjectConfig(text, { env });
  assert.equal(r.ok, false, 'expected the config to be rejected');
  return formatErrors(r.ok ? [] : r.errors);
}

test('a list of accessory names gives each kind\'s default variable', () => {
  assert.deepEqual(webOf(file({ uses: ['db', 'cache', 'queue', 'shipper'] })).uses, [
    { accessory: 'db', kind: 'postgres', vars: { url: 'DATABASE_URL' } },
    { accessory: 'cache', kind: 'redis', vars: { url: 'REDIS_URL' } },
    { accessory: 'queue', kind: 'nats', vars: { url: 'NATS_URL' } },
    { accessory: 'shipper', kind: 'container', vars: {} },
  ]);
  assert.deepEqual(webOf(file({ uses: [] })).uses, []);
});

test('a map overrides the variable names; a container gets host:port only under a name given', () => {
  assert.deepEqual(webOf(file({ uses: { db: { url: 'PRIMARY_DATABASE_URL' }, cache: null, search: { url: 'SEARCH_ADDR' }, queue: {} } })).uses, [
    { accessory: 'db', kind: 'postgres', vars: { url: 'PRIMARY_DATABASE_URL' } },
    { accessory: 'cache', kind: 'redis', vars: { url: 'REDIS_URL' } },
    { accessory: 'search', kind: 'container', vars: { url: 'SEARCH_ADDR' } },
    { accessory: 'queue', kind: 'nats', vars: { url: 'NATS_URL' } },
  ]);
});

test('unknown accessories are named with the known ones', () => {
  assert.match(errorsOf(file({ uses: ['db', 'redis'] })), /^services\.web\.uses\.1: no accessory "redis" is defined under accessories \(defined: db, cache, queue, search, shipper\)$/m);
  assert.match(errorsOf(file({ uses: { mongo: null } })), /^services\.web\.uses\.mongo: no accessory "mongo" is defined/m);
  const none = stringify({ project: 'shop', services: { web: { image: 'x:1', port: 3000, uses: ['db'] } } });
  assert.match(errorsOf(none), /^services\.web\.uses\.0: no accessory "db" is defined under accessories \(none is defined\)$/m);
});

test('variables: no two uses give one name, none clashes with env, reserved and invalid names refused', () => {
  const two = stringify({ project: 'shop', accessories: { primary: { kind: 'postgres' }, replica: { kind: 'postgres' } }, services: { web: { image: 'x:1', uses: ['primary', 'replica'] } } });
  assert.match(errorsOf(two), /^services\.web\.uses\.1: gives DATABASE_URL, which "primary" gives too: name one of them otherwise, e\.g\. uses: \{ replica: \{ url: REPLICA_URL \} \}$/m);
  assert.match(errorsOf(file({ uses: { db: { url: 'REDIS_URL' }, cache: null } })), /^services\.web\.uses\.cache: gives REDIS_URL, which "db" gives too/m);
  assert.match(errorsOf(file({ uses: ['db'], env: { DATABASE_URL: 'postgres://elsewhere' } })), /^services\.web\.uses\.0: gives DATABASE_URL, which services\.web\.env sets too/m);
  assert.match(errorsOf(file({ uses: { db: { url: 'PORT' } } })), /^services\.web\.uses\.db\.url: is set by Slipway itself \(PORT and SLIPWAY_\* are reserved\)/m);
  assert.match(errorsOf(file({ uses: { db: { url: 'database-url' } } })), /^services\.web\.uses\.db\.url: must be an environment variable name such as DATABASE_URL$/m);
  assert.match(errorsOf(file({ uses: { db: { user: 'X' } } })), /^services\.web\.uses\.db: unknown field "user"$/m);
  assert.match(errorsOf(file({ uses: { shipper: { url: 'SHIP' } } })), /^services\.web\.uses\.shipper\.url: accessory "shipper" has no port, so there is no address to give in SHIP \(set accessories\.shipper\.port\)$/m);
  assert.match(errorsOf(file({ uses: ['db', 'db'] })), /^services\.web\.uses\.1: "db" is listed twice$/m);
  assert.match(errorsOf(file({ uses: 'db' })), /^services\.web\.uses: must be a list of accessory names such as \[db, cache\], or a map/m);
});

test('environment overrides: uses replaces, checked where written and once merged', () => {
  const envs = (web: Record<string, unknown>) => ({ environments: { staging: { services: { web } } } });
  assert.deepEqual(webOf(file({ uses: ['db'] }, envs({ uses: ['cache'] })), 'staging').uses!.map((u) => u.accessory), ['cache']);
  assert.match(errorsOf(file({ uses: ['db'] }, envs({ uses: ['nope'] }))), /^environments\.staging\.services\.web\.uses\.0: no accessory "nope" is defined/m);
  // The clash exists only once the staging env override is merged.
  assert.match(errorsOf(file({ uses: ['db'] }, envs({ env: { DATABASE_URL: 'x' } })), 'staging'), /^services\.web\.uses\.0: gives DATABASE_URL, which services\.web\.env sets too.*\(in environment staging\)$/m);
});
