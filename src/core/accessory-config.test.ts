/**
 * slipway.yml `accessories:` (issue 20): normalization (built-in images, ports, the data
 * volume, health merged over the kind's default, limits, database) and every refusal naming
 * the field and what is expected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import type { AccessoryConfig } from './config';
import { formatErrors, parseProjectConfig } from './parse-config';
import { projectConfigJsonSchema } from './json-schema';

const file = (accessories: Record<string, unknown>, rest: Record<string, unknown> = {}) =>
  stringify({ project: 'my-shop', accessories, services: { web: { image: 'slipway/node:20', port: 3000 } }, ...rest });

function accessoriesOf(text: string, env?: string): Record<string, AccessoryConfig> {
  const r = parseProjectConfig(text, { env });
  assert.ok(r.ok, r.ok ? '' : formatErrors(r.errors));
  return r.config.accessories!;
}

function errorsOf(text: string, env?: string): string {
  const r = parseProjectConfig(text, { env });
  assert.equal(r.ok, false, 'expected the config to be rejected');
  return formatErrors(r.ok ? [] : r.errors);
}

test('built-in kinds get their image, port, data volume, default check and database', () => {
  const a = accessoriesOf(file({ db: { kind: 'postgres' }, cache: { kind: 'redis' }, queue: { kind: 'nats' } }));
  assert.deepEqual(a.db, {
    name: 'db',
    kind: 'postgres',
    image: 'slipway/postgres:15',
    builtIn: true,
    version: '15',
    port: 5432,
    volumes: [
      { volume: 'data', path: '/var/lib/postgresql/data', readOnly: false },
      { volume: 'backup', path: '/var/lib/pgbackrest', readOnly: false },
    ],
    env: {},
    command: null,
    health: { kind: 'exec', path: null, port: null, command: ['pg_isready', '-q', '-h', '127.0.0.1', '-p', '5432', '-U', 'postgres'], intervalMs: 500, timeoutMs: 5000, deadlineMs: 120_000 },
    resources: { memoryBytes: null, cpus: null },
    stopTimeoutMs: 30_000,
    database: 'my_shop',
    backup: { schedule: '0 3 * * *', fullEveryMs: 7 * 86_400_000, retention: { full: 4, pitrMs: 7 * 86_400_000 }, verify: { everyMs: null, sql: [] } },
  });
  assert.equal(a.cache!.image, 'slipway/redis:7');
  assert.equal(a.cache!.port, 6379);
  assert.deepEqual(a.cache!.volumes, [{ volume: 'data', path: '/data', readOnly: false }]);
  assert.equal(a.cache!.database, null);
  assert.equal(a.queue!.image, 'slipway/nats:2');
  assert.deepEqual([a.queue!.health!.kind, a.queue!.health!.path, a.queue!.health!.port], ['http', '/healthz', 8222]);
});

test('version as a number, an image of your own, database, env, command, resources and stop_timeout', () => {
  const a = accessoriesOf(
    file({
      db: { kind: 'postgres', version: 15, database: 'orders', env: { TZ: 'UTC', POOL: 5 }, command: ['postgres', '-c', 'max_connections=200'], resources: { memory: '1g', cpus: 1.5 }, stop_timeout: '1m' },
      pg16: { kind: 'postgres', image: 'postgres:16' },
      cache: { kind: 'redis', image: 'redis:7.2', version: '7.2' },
    }),
  );
  assert.deepEqual([a.db!.version, a.db!.image, a.db!.database], ['15', 'slipway/postgres:15', 'orders']);
  assert.deepEqual(a.db!.env, { TZ: 'UTC', POOL: '5' });
  assert.deepEqual(a.db!.command, ['postgres', '-c', 'max_connections=200']);
  assert.deepEqual(a.db!.resources, { memoryBytes: 1024 ** 3, cpus: 1.5 });
  assert.equal(a.db!.stopTimeoutMs, 60_000);
  assert.deepEqual([a.pg16!.image, a.pg16!.builtIn, a.pg16!.version, a.pg16!.port], ['postgres:16', false, null, 5432], 'an image replaces the built-in one; the kind keeps its port and check');
  assert.equal(a.pg16!.health!.kind, 'exec');
  assert.deepEqual([a.cache!.image, a.cache!.builtIn, a.cache!.version], ['redis:7.2', false, '7.2'], 'with image, any version is accepted');
});

test('container accessories: image, port, volumes; tcp check on the port, none without one', () => {
  const a = accessoriesOf(
    file({
      search: { kind: 'container', image: 'getmeili/meilisearch:v1.7', port: 7700, volumes: ['index:/meili_data', { name: 'dumps', path: '/dumps/', read_only: true }] },
      shipper: { kind: 'container', image: 'vector:0.38', command: ['vector', '--config', '/etc/vector.toml'] },
      proxy: { kind: 'container', image: 'litellm:1', port: 4000, health: { path: '/health/liveliness', port: 4001 } },
      quiet: { kind: 'container', image: 'x:1', port: 80, health: 'none' },
      flag: { kind: 'container', image: 'x:1', health: { command: ['test', '-f', '/ready'], interval: '2s' } },
    }),
  );
  assert.deepEqual([a.search!.builtIn, a.search!.version, a.search!.port, a.search!.database], [false, null, 7700, null]);
  assert.deepEqual(a.search!.volumes, [
    { volume: 'index', path: '/meili_data', readOnly: false },
    { volume: 'dumps', path: '/dumps', readOnly: true },
  ]);
  assert.deepEqual(a.search!.health, { kind: 'tcp', path: null, port: null, command: null, intervalMs: 500, timeoutMs: 5000, deadlineMs: 120_000 });
  assert.equal(a.shipper!.health, null, 'no port, no health: ready once running');
  assert.deepEqual(a.shipper!.volumes, []);
  assert.deepEqual(a.proxy!.health, { kind: 'http', path: '/health/liveliness', port: 4001, command: null, intervalMs: 500, timeoutMs: 5000, deadlineMs: 120_000 }, 'a path means http');
  assert.equal(a.quiet!.health, null);
  assert.deepEqual(a.flag!.health, { kind: 'exec', path: null, port: null, command: ['test', '-f', '/ready'], intervalMs: 2000, timeoutMs: 5000, deadlineMs: 120_000 }, 'a command means exec');
});

test('health is merged over the kind default: timings kept, another kind starts from that kind', () => {
  const a = accessoriesOf(
    file({
      db: { kind: 'postgres', health: { deadline: '5m', interval: '1s' } },
      queue: { kind: 'nats', health: { kind: 'tcp' } },
      cache: { kind: 'redis', health: { kind: 'exec', command: ['redis-cli', 'ping'] } },
    }),
  );
  assert.deepEqual(a.db!.health!.command!.slice(0, 1), ['pg_isready']);
  assert.deepEqual([a.db!.health!.kind, a.db!.health!.intervalMs, a.db!.health!.deadlineMs, a.db!.health!.timeoutMs], ['exec', 1000, 300_000, 5000]);
  assert.deepEqual(a.queue!.health, { kind: 'tcp', path: null, port: null, command: null, intervalMs: 500, timeoutMs: 5000, deadlineMs: 120_000 }, 'the monitor port and /healthz do not carry over to tcp');
  assert.deepEqual(a.cache!.health!.command, ['redis-cli', 'ping']);
});

test('built-in volumes: data is always mounted at the data directory; yours are added', () => {
  const a = accessoriesOf(file({ db: { kind: 'postgres', volumes: ['backups:/backups'] }, cache: { kind: 'redis', volumes: ['redisdata:/data'] } }));
  assert.deepEqual(a.db!.volumes, [
    { volume: 'data', path: '/var/lib/postgresql/data', readOnly: false },
    { volume: 'backups', path: '/backups', readOnly: false },
    { volume: 'backup', path: '/var/lib/pgbackrest', readOnly: false },
  ]);
  assert.deepEqual(a.cache!.volumes, [{ volume: 'redisdata', path: '/data', readOnly: false }], 'a volume of your own at the data directory replaces "data"');
});

test('a file without accessories has none in its config; its services use none and mount nothing', () => {
  const r = parseProjectConfig(stringify({ project: 'shop', services: { web: { image: 'x:1', port: 3000 } } }));
  assert.ok(r.ok);
  assert.equal('accessories' in r.config, false);
  assert.deepEqual([r.config.services.web!.uses, r.config.services.web!.volumes], [[], []]);
  assert.deepEqual(Object.keys(r.config.services.web!).filter((k) => ['resources', 'release'].includes(k)), []);
});

test('kind, version, image and port are checked per kind, naming the field', () => {
  assert.match(errorsOf(file({ db: {} })), /^accessories\.db\.kind: is required \(must be "postgres", "redis", "nats" or "container"/m);
  assert.match(errorsOf(file({ db: { kind: 'mysql' } })), /^accessories\.db\.kind: must be "postgres", "redis", "nats" or "container" \(any image\)$/m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', version: 16 } })), /^accessories\.db\.version: must be "15" for postgres \(the versions Slipway builds from Debian's packages\); for another version set image, e\.g\. image: "postgres:<version>"$/m);
  assert.match(errorsOf(file({ cache: { kind: 'redis', version: '6' } })), /^accessories\.cache\.version: must be "7" for redis/m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', version: 'fifteen point one!' } })), /^accessories\.db\.version: must be a version such as "15"$/m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', version: [15] } })), /^accessories\.db\.version: must be a version such as "15"$/m);
  assert.match(errorsOf(file({ search: { kind: 'container', port: 7700 } })), /^accessories\.search\.image: a container accessory needs the image to run/m);
  assert.match(errorsOf(file({ search: { kind: 'container', image: 'x:1', version: '1' } })), /^accessories\.search\.version: is only for postgres, redis and nats/m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', image: 'Postgres 16' } })), /^accessories\.db\.image: /m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', port: 5433 } })), /^accessories\.db\.port: postgres listens on 5432, which cannot be changed \(remove port\)$/m);
  assert.ok(parseProjectConfig(file({ db: { kind: 'postgres', port: 5432 } })).ok, 'the kind\'s own port may be written');
  assert.match(errorsOf(file({ search: { kind: 'container', image: 'x:1', port: 0 } })), /^accessories\.search\.port: must be between 1 and 65535$/m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', replicas: 2 } })), /^accessories\.db: unknown field "replicas"$/m);
  assert.match(errorsOf(file({ DB: { kind: 'postgres' } })), /^accessories\.DB: must be a lowercase name/m);
  assert.match(errorsOf(file([] as never)), /^accessories: must be a map of accessory name to accessory/m);
});

test('env, command, database and health rules name the field', () => {
  assert.match(errorsOf(file({ db: { kind: 'postgres', env: { POSTGRES_PASSWORD: 'hunter2' } } })), /^accessories\.db\.env\.POSTGRES_PASSWORD: is set by Slipway for postgres/m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', env: { PGDATA: '/x' } } })), /^accessories\.db\.env\.PGDATA: is set by Slipway/m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', env: { SLIPWAY_X: '1' } } })), /^accessories\.db\.env\.SLIPWAY_X: is set by Slipway itself/m);
  assert.ok(parseProjectConfig(file({ search: { kind: 'container', image: 'x:1', env: { POSTGRES_PASSWORD: 'theirs' } } })).ok, 'only postgres reserves them');
  assert.match(errorsOf(file({ cache: { kind: 'redis', command: ['redis-server'] } })), /^accessories\.cache\.command: is not allowed for redis: Slipway runs it with a config file carrying the generated password/m);
  assert.match(errorsOf(file({ queue: { kind: 'nats', command: ['nats-server'] } })), /^accessories\.queue\.command: is not allowed for nats/m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', command: 'postgres -c x=1' } })), /^accessories\.db\.command: must be a command as a list of arguments/m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', database: 'My-DB' } })), /^accessories\.db\.database: must be a lowercase Postgres identifier/m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', database: 'a'.repeat(64) } })), /^accessories\.db\.database: must be a lowercase Postgres identifier/m);
  assert.match(errorsOf(file({ cache: { kind: 'redis', database: 'x' } })), /^accessories\.cache\.database: is only for postgres$/m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', health: 'none' } })), /^accessories\.db\.health: postgres needs its readiness check/m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', health: true } })), /^accessories\.db\.health: must be a map such as \{ kind: tcp \}/m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', health: { kind: 'ping' } } })), /^accessories\.db\.health\.kind: must be "http" \(GET a path\), "tcp"/m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', health: { kind: 'tcp', command: ['x'] } } })), /^accessories\.db\.health\.command: is only used by health kind "exec"/m);
  assert.match(errorsOf(file({ s: { kind: 'container', image: 'x:1', health: { kind: 'exec' } } })), /^accessories\.s\.health\.command: health kind "exec" needs a command/m);
  assert.match(errorsOf(file({ s: { kind: 'container', image: 'x:1', health: { kind: 'tcp' } } })), /^accessories\.s\.health\.port: health kind "tcp" needs a port: set the accessory's port or health\.port/m);
  assert.match(errorsOf(file({ s: { kind: 'container', image: 'x:1', port: 80, health: { kind: 'tcp', path: '/x' } } })), /^accessories\.s\.health\.path: is only used by health kind "http"/m);
  assert.match(errorsOf(file({ s: { kind: 'container', image: 'x:1', health: { command: ['true'], port: 80 } } })), /^accessories\.s\.health\.port: is not used by health kind "exec"/m);
  assert.match(errorsOf(file({ s: { kind: 'container', image: 'x:1', port: 80, health: { path: 'health' } } })), /^accessories\.s\.health\.path: must start with "\/"$/m);
  assert.match(errorsOf(file({ s: { kind: 'container', image: 'x:1', port: 80, health: { deadline: 'soon' } } })), /^accessories\.s\.health\.deadline: must be a duration/m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', stop_timeout: '30d' } })), /^accessories\.db\.stop_timeout: must be at most 24d$/m);
});

test('volumes: string and map forms, absolute paths, no "..", no duplicates, the data name reserved', () => {
  assert.match(errorsOf(file({ db: { kind: 'postgres', volumes: ['backups'] } })), /^accessories\.db\.volumes\.0: must be "name:\/path" or "name:\/path:ro"/m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', volumes: ['backups:/b:rx'] } })), /^accessories\.db\.volumes\.0: must be "name:\/path" or "name:\/path:ro"/m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', volumes: ['backups:relative/dir'] } })), /^accessories\.db\.volumes\.0\.path: must be an absolute path inside the container/m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', volumes: ['backups:/srv/../etc'] } })), /^accessories\.db\.volumes\.0\.path: must not contain "\." or "\.\." segments$/m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', volumes: ['backups:/'] } })), /^accessories\.db\.volumes\.0\.path: must not be "\/"/m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', volumes: ['Backups:/b'] } })), /^accessories\.db\.volumes\.0\.name: must be a lowercase name/m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', volumes: ['b:/b', 'c:/b/'] } })), /^accessories\.db\.volumes\.1\.path: "\/b" is already the mount point of item 0/m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', volumes: ['b:/b', 'b:/c'] } })), /^accessories\.db\.volumes\.1\.name: volume "b" is already mounted by item 0/m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', volumes: ['data:/srv/pg'] } })), /^accessories\.db\.volumes\.0\.name: "data" is the postgres data volume, mounted at \/var\/lib\/postgresql\/data/m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', volumes: [{ name: 'b', path: '/b', read_only: 'yes' }] } })), /^accessories\.db\.volumes\.0\.read_only: must be true or false$/m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', volumes: [{ name: 'b' }] } })), /^accessories\.db\.volumes\.0\.path: is required$/m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', volumes: 'b:/b' } })), /^accessories\.db\.volumes: must be a list of volumes/m);
});

test('resources: memory sizes with Docker\'s 6m floor, cpus between 0.01 and 256', () => {
  assert.match(errorsOf(file({ db: { kind: 'postgres', resources: { memory: '4m' } } })), /^accessories\.db\.resources\.memory: must be at least 6m \(Docker refuses smaller memory limits\)$/m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', resources: { memory: 'lots' } } })), /^accessories\.db\.resources\.memory: must be a memory size such as "512m" or "1g"/m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', resources: { cpus: 0 } } })), /^accessories\.db\.resources\.cpus: must be between 0\.01 and 256/m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', resources: { cpus: 300 } } })), /^accessories\.db\.resources\.cpus: must be between 0\.01 and 256/m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', resources: { cpus: 'half' } } })), /^accessories\.db\.resources\.cpus: must be a number of CPUs/m);
  assert.match(errorsOf(file({ db: { kind: 'postgres', resources: { disk: '1g' } } })), /^accessories\.db\.resources: unknown field "disk"$/m);
});

test('an accessory and a service may not share a name', () => {
  const text = stringify({ project: 'shop', accessories: { web: { kind: 'redis' } }, services: { web: { image: 'x:1', port: 3000 } } });
  assert.match(errorsOf(text), /^accessories\.web: is also the name of a service: services and accessories share the environment network's names/m);
});

const withEnvs = file(
  {
    db: { kind: 'postgres', env: { TZ: 'UTC', LANG: 'C' }, resources: { memory: '1g', cpus: 2 }, health: { deadline: '3m' } },
    search: { kind: 'container', image: 'meili:1', port: 7700, health: { kind: 'http', path: '/health' } },
  },
  {
    environments: {
      staging: {
        accessories: {
          db: { image: 'postgres:16', env: { TZ: 'Europe/Paris' }, resources: { memory: '256m' }, health: { interval: '2s' }, stop_timeout: '5s', volumes: ['seed:/seed:ro'] },
          search: { health: { kind: 'tcp' } },
        },
      },
      preview: { accessories: { search: { health: 'none' } } },
    },
  },
);

test('environment overrides merge env, health and resources key by key and replace the rest', () => {
  const prod = accessoriesOf(withEnvs);
  assert.equal(prod.db!.image, 'slipway/postgres:15');
  const staging = accessoriesOf(withEnvs, 'staging');
  assert.deepEqual([staging.db!.image, staging.db!.builtIn], ['postgres:16', false]);
  assert.deepEqual(staging.db!.env, { TZ: 'Europe/Paris', LANG: 'C' });
  assert.deepEqual(staging.db!.resources, { memoryBytes: 256 * 1024 ** 2, cpus: 2 });
  assert.deepEqual([staging.db!.health!.intervalMs, staging.db!.health!.deadlineMs], [2000, 180_000]);
  assert.equal(staging.db!.stopTimeoutMs, 5000);
  assert.deepEqual(staging.db!.volumes.map((v) => v.volume), ['data', 'seed']);
  assert.deepEqual([staging.search!.health!.kind, staging.search!.health!.path], ['tcp', null], 'a kind override drops the base path');
  assert.equal(accessoriesOf(withEnvs, 'preview').search!.health, null);
});

test('overrides are checked where written, and overriding an undefined accessory is an error', () => {
  const bad = (o: Record<string, unknown>, env = 'staging') => errorsOf(file({ db: { kind: 'postgres' } }, { environments: { [env]: { accessories: o } } }), env);
  assert.match(bad({ cache: { version: '7' } }), /^environments\.staging\.accessories\.cache: no accessory "cache" is defined under accessories \(defined: db\)$/m);
  assert.match(bad({ db: { resources: { memory: '1m' } } }), /^environments\.staging\.accessories\.db\.resources\.memory: must be at least 6m/m);
  assert.match(bad({ db: { kind: 'redis' } }), /^environments\.staging\.accessories\.db: unknown field "kind"$/m);
  assert.match(bad({ db: { version: '14' } }), /^accessories\.db\.version: must be "15" for postgres .*\(in environment staging\)$/m);
});

test('limits: at most 20 accessories, 20 volumes per owner', () => {
  const many = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`a${i}`, { kind: 'redis' }]));
  assert.match(errorsOf(file(many)), /^accessories: must have at most 20 accessories \(got 21\)$/m);
  const vols = Array.from({ length: 21 }, (_, i) => `v${i}:/v${i}`);
  assert.match(errorsOf(file({ db: { kind: 'postgres', volumes: vols } })), /^accessories\.db\.volumes: must have at most 20 volumes \(got 21\)$/m);
});

test('the JSON Schema describes accessories', () => {
  const schema = projectConfigJsonSchema() as { properties: { accessories: { additionalProperties: { properties: Record<string, unknown>; required: string[] } } } };
  const accessory = schema.properties.accessories.additionalProperties;
  assert.deepEqual(accessory.required, ['kind']);
  for (const field of ['kind', 'version', 'image', 'port', 'volumes', 'env', 'command', 'health', 'resources', 'stop_timeout', 'database']) assert.ok(accessory.properties[field], field);
});
