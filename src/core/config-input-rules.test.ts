/**
 * Input rules of slipway.yml found in review (issue 20): no NUL in any argv list (top-level
 * and per-environment overrides alike), no volume over the kernel's filesystems or with an
 * overlong path, the data volume of a built-in kind writable, and never one of Postgres's own
 * databases as the services' database.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { volumesSchema } from './config-schema';
import { formatErrors, parseProjectConfig } from './parse-config';

const file = (doc: Record<string, unknown>) => stringify({ project: 'shop', ...doc });
const web = (fields: Record<string, unknown>, rest: Record<string, unknown> = {}) => file({ services: { web: { image: 'x:1', port: 3000, ...fields } }, ...rest });
const override = (fields: Record<string, unknown>) => web({}, { environments: { staging: { services: { web: fields } } } });
const withDb = (db: Record<string, unknown>, rest: Record<string, unknown> = {}) => file({ services: { web: { image: 'x:1', port: 3000 } }, accessories: { db: { kind: 'postgres', ...db } }, ...rest });

function errorsOf(text: string, env?: string): string {
  const r = parseProjectConfig(text, { env });
  assert.equal(r.ok, false, 'expected the config to be rejected');
  return formatErrors(r.ok ? [] : r.errors);
}

function ok(text: string, env?: string) {
  const r = parseProjectConfig(text, { env });
  assert.ok(r.ok, r.ok ? '' : formatErrors(r.errors));
  return r.config;
}

const NUL = /must not contain a NUL character \(a command argument cannot hold one\)$/m;

test('every argv list refuses a NUL character, naming the argument', () => {
  const cases: Array<[string, RegExp]> = [
    [web({ command: ['node', 'a\0b'] }), /^services\.web\.command\.1: /m],
    [web({ release_command: ['node\0', 'migrate.js'] }), /^services\.web\.release_command\.0: /m],
    [web({ health: { kind: 'exec', command: ['test', '-f', '/x\0'] } }), /^services\.web\.health\.command\.2: /m],
    [web({ release: { image: 'm:1', command: ['m', '\0'] } }), /^services\.web\.release\.command\.1: /m],
    [withDb({ command: ['postgres', '-c', 'x=\0'] }), /^accessories\.db\.command\.2: /m],
    [withDb({ health: { kind: 'exec', command: ['pg_isready\0'] } }), /^accessories\.db\.health\.command\.0: /m],
    [override({ command: ['node', '\0'] }), /^environments\.staging\.services\.web\.command\.1: /m],
    [override({ release_command: ['\0x'] }), /^environments\.staging\.services\.web\.release_command\.0: /m],
    [override({ health: { kind: 'exec', command: ['a\0'] } }), /^environments\.staging\.services\.web\.health\.command\.0: /m],
    [withDb({}, { environments: { staging: { accessories: { db: { command: ['postgres', '\0'] } } } } }), /^environments\.staging\.accessories\.db\.command\.1: /m],
  ];
  for (const [text, where] of cases) {
    const errors = errorsOf(text);
    assert.match(errors, where);
    assert.match(errors, NUL);
  }
});

test('per-environment commands have the same element rules as the service fields', () => {
  assert.match(errorsOf(override({ command: ['node', 5] })), /^environments\.staging\.services\.web\.command\.1: must be a string$/m);
  assert.match(errorsOf(override({ command: 'node worker.js' })), /^environments\.staging\.services\.web\.command: must be a command as a list of arguments, e\.g\. \["node", "worker\.js"\]$/m);
  assert.match(errorsOf(override({ release_command: ['node', ''] })), /^environments\.staging\.services\.web\.release_command\.1: must not be empty$/m);
  assert.match(errorsOf(override({ release_command: 'node migrate.js' })), /^environments\.staging\.services\.web\.release_command: must be a command as a list of arguments, e\.g\. \["node", "migrate\.js"\]$/m);
  assert.match(errorsOf(web({ release_command: ['node', ''] })), /^services\.web\.release_command\.1: must not be empty$/m);
  // An empty argument stays valid in a service's command (as it always was), here and in overrides.
  assert.deepEqual(ok(web({ command: ['sh', '-c', 'x', ''] })).services.web!.command, ['sh', '-c', 'x', '']);
  assert.deepEqual(ok(override({ command: ['node', ''] }), 'staging').services.web!.command, ['node', '']);
});

test('volume paths: not /proc, /sys, /dev or under them, not "/", at most 4096 bytes', () => {
  for (const path of ['/proc', '/sys', '/dev', '/dev/shm', '/proc/1/root', '/sys/fs/cgroup', '//proc', '/dev/', '//dev//shm']) {
    assert.match(errorsOf(web({ volumes: [`v:${path}`] })), /^services\.web\.volumes\.0\.path: must not be \/proc, \/sys or \/dev or a path under them/m, path);
  }
  assert.match(errorsOf(withDb({ volumes: [{ name: 'k', path: '/sys/kernel' }] })), /^accessories\.db\.volumes\.0\.path: must not be \/proc, \/sys or \/dev/m);
  assert.match(errorsOf(web({ volumes: ['v://'] })), /^services\.web\.volumes\.0\.path: must not be "\/"/m);
  // slipway.yml's strings are capped at 1024 characters before the schema (config-limits.ts)…
  assert.match(errorsOf(web({ volumes: [{ name: 'v', path: `/${'a'.repeat(1024)}` }] })), /^services\.web\.volumes\.0\.path: must be at most 1024 characters/m);
  // …and the schema itself caps a mount path at 4096 bytes (PATH_MAX), whoever calls it.
  const pathErrors = (path: string) => (volumesSchema.safeParse([{ name: 'v', path }]).error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);
  assert.deepEqual(pathErrors(`/${'a'.repeat(4096)}`), ['0.path: must be at most 4096 bytes long']);
  assert.deepEqual(pathErrors(`/${'é'.repeat(2048)}`), ['0.path: must be at most 4096 bytes long'], '2049 characters, 4097 bytes');
  assert.deepEqual(pathErrors(`/${'a'.repeat(4095)}`), []);
  for (const path of ['/procfs', '/devices', '/system', '/srv/proc', `/${'a'.repeat(1023)}`]) ok(web({ volumes: [{ name: 'v', path }] }));
});

test("a built-in kind's data volume is writable", () => {
  assert.match(errorsOf(withDb({ volumes: ['data:/var/lib/postgresql/data:ro'] })), /^accessories\.db\.volumes\.0\.read_only: must be false: the volume at \/var\/lib\/postgresql\/data is where postgres writes its data/m);
  const cache = (volumes: unknown[]) => file({ services: { web: { image: 'x:1', port: 3000 } }, accessories: { cache: { kind: 'redis', volumes } } });
  assert.match(errorsOf(cache([{ name: 'mine', path: '/data/', read_only: true }])), /^accessories\.cache\.volumes\.0\.read_only: must be false: the volume at \/data is where redis writes its data/m);
  assert.match(errorsOf(withDb({}, { environments: { staging: { accessories: { db: { volumes: ['data:/var/lib/postgresql/data:ro'] } } } } }), 'staging'), /read_only: must be false.*\(in environment staging\)$/m);
  ok(withDb({ volumes: ['seed:/seed:ro'] }));
  ok(file({ services: { web: { image: 'x:1', port: 3000 } }, accessories: { s: { kind: 'container', image: 'x:1', volumes: ['data:/data:ro'] } } }));
});

test("postgres database: never postgres, template0 or template1, written or derived from the project's name", () => {
  for (const db of ['postgres', 'template0', 'template1']) {
    assert.match(errorsOf(withDb({ database: db })), /^accessories\.db\.database: must not be "postgres", "template0" or "template1" \(Postgres's own databases\); choose another name, e\.g\. app$/m);
    const named = stringify({ project: db, services: { web: { image: 'x:1', port: 3000 } }, accessories: { db: { kind: 'postgres' } } });
    assert.match(errorsOf(named), new RegExp(`^accessories\\.db\\.database: is required for project "${db}": the default database \\(the project name\\) would be "${db}", one of Postgres's own databases; set another name, e\\.g\\. database: app$`, 'm'));
    const fixed = stringify({ project: db, services: { web: { image: 'x:1', port: 3000 } }, accessories: { db: { kind: 'postgres', database: 'app' } } });
    assert.equal(ok(fixed).accessories!.db!.database, 'app');
  }
  assert.equal(ok(withDb({ database: 'postgres_app' })).accessories!.db!.database, 'postgres_app');
  assert.equal(ok(stringify({ project: 'postgres-shop', services: { web: { image: 'x:1', port: 3000 } }, accessories: { db: { kind: 'postgres' } } })).accessories!.db!.database, 'postgres_shop');
  // A project named postgres without a postgres accessory is fine.
  ok(stringify({ project: 'postgres', services: { web: { image: 'x:1', port: 3000 } }, accessories: { cache: { kind: 'redis' } } }));
});
