/**
 * The dependency-free Postgres and Redis clients of examples/stack (app/lib/pg-client.js,
 * app/lib/redis-client.js) against REAL servers: the built-in accessory images
 * slipway/postgres:15 and slipway/redis:7, run with the env and command Slipway gives them
 * (core/accessory-kinds.ts) on a network of this test, reached from the host at their address.
 * SCRAM-SHA-256 login, wrong passwords refused without echoing them, the simple query protocol
 * (types, several statements, errors that keep the connection usable, queries in order), RESP2
 * replies (AUTH, INCR, GET/SET, LPUSH/BRPOP with its timeout, nil), and reconnecting after the
 * server restarts. The images are built when missing (minutes the first time).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Docker from 'dockerode';
import { PgClient, PgError, literal, parsePgUrl } from '../examples/stack/app/lib/pg-client.js';
import { RedisClient, RedisError, encode, parseReply, parseRedisUrl } from '../examples/stack/app/lib/redis-client.js';
import type { AccessoryConfig, AccessoryKind } from '../src/core/config';
import { accessoryCommand, accessoryContainerEnv, generateCredentials, type AccessoryCredentials } from '../src/core/accessory-kinds';
import { ensureAccessoryImage } from './support/accessory-image';

const docker = new Docker();
const SUFFIX = Math.random().toString(36).slice(2, 8);
const NETWORK = `slipway-test-stackclients-${SUFFIX}`;
const created: string[] = [];

interface Server {
  id: string;
  ip: string;
  creds: AccessoryCredentials;
}
let pg: Server;
let redis: Server;

function accessory(name: string, kind: AccessoryKind, image: string): AccessoryConfig {
  return {
    name,
    kind,
    image,
    builtIn: true,
    version: null,
    port: null,
    volumes: [],
    env: {},
    command: null,
    health: null,
    resources: { memoryBytes: null, cpus: null },
    stopTimeoutMs: 10_000,
    database: null,
  };
}

async function run(name: string, kind: 'postgres' | 'redis', version: string): Promise<Server> {
  const image = await ensureAccessoryImage(kind, version);
  const cfg = accessory(name, kind, image);
  const creds = generateCredentials(kind);
  const command = accessoryCommand(cfg, creds);
  const container = await docker.createContainer({
    name: `stackclients-${name}-${SUFFIX}`,
    Image: image,
    Env: Object.entries(accessoryContainerEnv(cfg, creds)).map(([k, v]) => `${k}=${v}`),
    ...(command ? { Cmd: command } : {}),
    Labels: { 'slipway.test': 'stack-clients' },
    HostConfig: { NetworkMode: NETWORK, Init: true },
  });
  created.push(container.id);
  await container.start();
  const info = await container.inspect();
  const ip = info.NetworkSettings.Networks[NETWORK]?.IPAddress;
  assert.ok(ip, `${name} has an address on ${NETWORK}`);
  return { id: container.id, ip, creds };
}

/** Retries `fn` until it resolves (a server starting refuses or resets connections). */
async function until<T>(what: string, fn: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  const started = Date.now();
  let last: unknown;
  while (Date.now() - started < timeoutMs) {
    try {
      return await fn();
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  throw new Error(`timed out waiting for ${what}: ${String(last)}`);
}

const pgUrl = (user = 'postgres', password = pg.creds.superuser!, db = 'postgres') => `postgres://${user}:${password}@${pg.ip}:5432/${db}`;
const redisUrl = (password: string | null = redis.creds.password!) => `redis://${password === null ? '' : `default:${password}@`}${redis.ip}:6379`;

test('pg: URLs and literals', () => {
  assert.deepEqual(parsePgUrl('postgres://app:p%40ss@db:5432/stack'), { host: 'db', port: 5432, user: 'app', password: 'p@ss', database: 'stack' });
  assert.equal(parsePgUrl('postgresql://u:p@h/d').port, 5432);
  assert.throws(() => parsePgUrl('redis://x@y'), /not a postgres:\/\/ URL/);
  assert.equal(literal("it's"), "'it''s'");
  assert.throws(() => literal('a\0b'), /NUL/);
});

test('redis: RESP2 encoding and replies, in any chunking', () => {
  assert.equal(encode(['SET', 'k', 'vé']).toString('utf8'), '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nvé\r\n');
  const wire = Buffer.from('+OK\r\n:42\r\n$-1\r\n*2\r\n$4\r\njobs\r\n$2\r\n17\r\n*-1\r\n-WRONGTYPE Operation\r\n$5\r\nhé\r\n\r\n', 'utf8');
  const values: unknown[] = [];
  const starts: number[] = [];
  let at = 0;
  for (;;) {
    const r = parseReply(wire, at);
    if (!r) break;
    starts.push(at);
    values.push(r.value);
    at = r.end;
  }
  assert.equal(at, wire.length);
  assert.deepEqual(values.slice(0, 5), ['OK', 42, null, ['jobs', '17'], null]);
  assert.ok(values[5] instanceof RedisError && values[5].code === 'WRONGTYPE');
  assert.equal(values[6], 'hé\r\n', 'a bulk string is read by length, CRLF inside included');
  // Every cut of the wire inside a reply yields "not yet", never a wrong value.
  for (let i = 0; i < starts.length; i++) {
    const end = starts[i + 1] ?? wire.length;
    for (let cut = starts[i]! + 1; cut < end; cut++) assert.equal(parseReply(wire.subarray(0, cut), starts[i]!), null, `reply ${i} cut at ${cut}`);
  }
  assert.deepEqual(parseRedisUrl('redis://default:pw@cache:6379'), { host: 'cache', port: 6379, user: 'default', password: 'pw', db: 0 });
});

describe('against real servers (slipway/postgres:15, slipway/redis:7)', () => {
  before(async () => {
    await docker.createNetwork({ Name: NETWORK, Driver: 'bridge', Labels: { 'slipway.test': 'stack-clients' } });
    [pg, redis] = await Promise.all([run('db', 'postgres', '15'), run('cache', 'redis', '7')]);
    await until('postgres to accept logins', async () => {
      const c = new PgClient(pgUrl());
      try {
        await c.query('select 1');
      } finally {
        await c.end();
      }
    });
    await until('redis to answer', async () => {
      const c = new RedisClient(redisUrl());
      try {
        assert.equal(await c.command('PING'), 'PONG');
      } finally {
        await c.end();
      }
    });
  });

  after(async () => {
    // Anonymous volumes (the images declare their data directories) go with the containers.
    await Promise.all(created.map((id) => docker.getContainer(id).remove({ force: true, v: true }).catch(() => undefined)));
    await docker.getNetwork(NETWORK).remove().catch(() => undefined);
  });

  test('pg: SCRAM-SHA-256 login, typed rows, several statements, errors that keep the connection', async () => {
    const db = new PgClient(pgUrl());
    try {
      // The server really asks for SCRAM (the images' pg_hba: host all all all scram-sha-256).
      const { rows: method } = await db.query("select auth_method from pg_hba_file_rules where type = 'host' and 'all' = any(database) limit 1");
      assert.equal(method[0]?.auth_method, 'scram-sha-256');
      const { rows } = await db.query("select 1 as one, 9007199254740991::bigint as big, true as yes, null::text as nothing, 1.5::float8 as half, 'ünï' as text");
      assert.deepEqual(rows, [{ one: 1, big: 9007199254740991, yes: true, nothing: null, half: 1.5, text: 'ünï' }]);

      const many = await db.query(`create temp table t (id serial primary key, v text); insert into t (v) values (${literal("quote ' and \\ backslash")}), ('b') returning id; select v from t order by id`);
      assert.deepEqual(
        many.results.map((r) => r.command),
        ['CREATE TABLE', 'INSERT 0 2', 'SELECT 2'],
      );
      assert.deepEqual(many.rows, [{ v: "quote ' and \\ backslash" }, { v: 'b' }]);

      await assert.rejects(db.query('select * from no_such_table'), (err: unknown) => err instanceof PgError && err.code === '42P01' && /no_such_table/.test(err.message));
      assert.deepEqual((await db.query('select 2 as after_error')).rows, [{ after_error: 2 }], 'the connection is usable after a server error');

      // Queries sent at once are answered in order on the one connection.
      const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => db.query(`select ${i} as i`)));
      assert.deepEqual(
        answers.map((a) => a.rows[0]!.i),
        Array.from({ length: 50 }, (_, i) => i),
      );
    } finally {
      await db.end();
    }
  });

  test('pg: a wrong password is refused (28P01) and the message never carries it', async () => {
    const wrong = `wrong${pg.creds.superuser}`;
    const db = new PgClient(pgUrl('postgres', wrong));
    try {
      await assert.rejects(db.query('select 1'), (err: unknown) => {
        assert.ok(err instanceof PgError);
        assert.equal(err.code, '28P01');
        assert.ok(!err.message.includes(wrong) && !err.message.includes(pg.creds.superuser!), err.message);
        return true;
      });
    } finally {
      await db.end();
    }
    const nowhere = new PgClient({ host: pg.ip, port: 1, user: 'postgres', password: 'x', database: 'postgres' }, { connectTimeoutMs: 2000 });
    await assert.rejects(nowhere.query('select 1'), (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');
  });

  test('pg: the client reconnects after the server restarts', async () => {
    const db = new PgClient(pgUrl());
    try {
      const before = (await db.query('select pg_backend_pid() as pid')).rows[0]!.pid;
      await docker.getContainer(pg.id).restart({ t: 10 });
      // The first query may meet the closed connection; a later one gets a new one.
      const after = await until('a query after the restart', async () => (await db.query('select pg_backend_pid() as pid')).rows[0]!.pid);
      assert.notEqual(after, before, 'a new server process (a new connection)');
    } finally {
      await db.end();
    }
  });

  test('redis: AUTH from the URL; no or a wrong password is refused without echoing it', async () => {
    const noPass = new RedisClient(redisUrl(null));
    try {
      await assert.rejects(noPass.command('GET', 'x'), (err: unknown) => err instanceof RedisError && err.code === 'NOAUTH');
    } finally {
      await noPass.end();
    }
    const wrong = `wrong${redis.creds.password}`;
    const bad = new RedisClient(redisUrl(wrong));
    await assert.rejects(bad.command('PING'), (err: unknown) => {
      assert.ok(err instanceof RedisError, String(err));
      assert.equal(err.code, 'WRONGPASS');
      assert.ok(!err.message.includes(wrong), err.message);
      return true;
    });
  });

  test('redis: INCR, GET/SET, LPUSH/BRPOP (with its timeout), pipelined commands in order', async () => {
    const r = new RedisClient(redisUrl(), { commandTimeoutMs: 2000 });
    try {
      assert.equal(await r.command('PING'), 'PONG');
      await r.command('DEL', 'counter', 'jobs');
      assert.equal(await r.command('INCR', 'counter'), 1);
      assert.equal(await r.command('INCR', 'counter'), 2);
      assert.equal(await r.command('SET', 'greeting', 'héllo\r\nworld'), 'OK');
      assert.equal(await r.command('GET', 'greeting'), 'héllo\r\nworld');
      assert.equal(await r.command('GET', 'missing'), null);
      assert.equal(await r.command('LPUSH', 'jobs', '1', '2'), 2);
      assert.deepEqual(await r.command('BRPOP', 'jobs', '1'), ['jobs', '1']);
      assert.deepEqual(await r.command('BRPOP', 'jobs', '1'), ['jobs', '2']);
      // An empty list: BRPOP waits its 1 s (longer than nothing, shorter than the command timeout + 1 s) and answers nil.
      assert.equal(await r.command('BRPOP', 'jobs', '1'), null);
      await assert.rejects(r.command('LPUSH', 'greeting', 'x'), (err: unknown) => err instanceof RedisError && err.code === 'WRONGTYPE');
      const many = await Promise.all(Array.from({ length: 100 }, () => r.command('INCR', 'counter')));
      assert.deepEqual(
        many,
        Array.from({ length: 100 }, (_, i) => i + 3),
      );
    } finally {
      await r.end();
    }
  });

  test('redis: the client reconnects after the server restarts (appendonly keeps the data)', async () => {
    const r = new RedisClient(redisUrl(), { commandTimeoutMs: 2000 });
    try {
      await r.command('SET', 'kept', 'yes');
      const idBefore = await r.command('CLIENT', 'ID');
      await docker.getContainer(redis.id).restart({ t: 10 });
      const idAfter = await until('a command after the restart', () => r.command('CLIENT', 'ID'));
      assert.notEqual(idAfter, idBefore);
      assert.equal(await r.command('GET', 'kept'), 'yes');
    } finally {
      await r.end();
    }
  });
});
