/**
 * Redis and NATS passwords never reach an argv (`ps` shows every process's arguments to every
 * user of the host): they travel in the container env and the command writes them to a config
 * file only the server's user can read, then starts the server with it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AccessoryConfig } from './config';
import { NATS_AUTH_CONF, REDIS_AUTH_CONF, accessoryCheckEnv, accessoryCommand, accessoryContainerEnv, defaultAccessoryHealth, generateCredentials } from './accessory-kinds';

const run = promisify(execFile);

const cfg = (kind: AccessoryConfig['kind'], command: string[] | null = null): AccessoryConfig =>
  ({ name: kind, kind, image: `slipway/${kind}:1`, builtIn: true, version: '1', port: null, volumes: [], env: { TZ: 'UTC' }, command, health: null, resources: { memoryBytes: null, cpus: null }, stopTimeoutMs: 1000, database: null }) as AccessoryConfig;

test('redis and nats: the password is in the container env, never in an argument of the command', () => {
  for (const kind of ['redis', 'nats'] as const) {
    const creds = generateCredentials(kind);
    const cmd = accessoryCommand(cfg(kind), creds)!;
    assert.ok(cmd, kind);
    for (const arg of cmd) assert.ok(!arg.includes(creds.password!), `${kind}: no argument carries the password`);
    assert.deepEqual(cmd.slice(0, 2), ['sh', '-c']);
    const env = accessoryContainerEnv(cfg(kind), creds);
    assert.deepEqual(env, { TZ: 'UTC', [kind === 'redis' ? 'REDIS_PASSWORD' : 'NATS_PASSWORD']: creds.password });
  }
  const redis = accessoryCommand(cfg('redis'), { password: 'x' })![2]!;
  assert.match(redis, /umask 077\n/);
  assert.match(redis, /printf 'requirepass %s\\n' "\$REDIS_PASSWORD" > \/tmp\/redis-auth\.conf/);
  assert.match(redis, /exec docker-entrypoint\.sh 'redis-server' '\/tmp\/redis-auth\.conf' '--port' '6379' '--dir' '\/data' '--appendonly' 'yes' '--protected-mode' 'no'/);
  const nats = accessoryCommand(cfg('nats'), { password: 'x' })![2]!;
  assert.match(nats, /exec docker-entrypoint\.sh 'nats-server' '-c' '\/tmp\/nats-auth\.conf' '--jetstream' '--store_dir' '\/data' '--port' '4222' '--http_port' '8222'/);
  // The redis readiness check still authenticates from the exec env.
  assert.deepEqual(accessoryCheckEnv(cfg('redis'), { password: 'pw' }), { REDISCLI_AUTH: 'pw' });
  assert.equal(defaultAccessoryHealth('redis', 6379)!.command!.join(' ').includes('pw'), false);
  // A command of the user's own (postgres, container) is kept as written; postgres keeps the image's CMD.
  assert.deepEqual(accessoryCommand(cfg('container', ['x', '--y']), {}), ['x', '--y']);
  assert.equal(accessoryCommand(cfg('postgres'), generateCredentials('postgres')), null);
});

/**
 * Runs the command's script with `sh` as the container would, with the config file in a temp
 * dir and a fake docker-entrypoint.sh first on PATH that prints what it was given.
 */
async function runScript(kind: 'redis' | 'nats', password: string, withEntrypoint: boolean): Promise<{ out: string; conf: string; mode: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-auth-conf-'));
  try {
    const file = join(dir, 'auth.conf');
    const script = accessoryCommand(cfg(kind), { password })![2]!.replaceAll(kind === 'redis' ? REDIS_AUTH_CONF : NATS_AUTH_CONF, file);
    const bin = join(dir, 'bin');
    await run('mkdir', [bin]);
    const fake = (name: string) => writeFile(join(bin, name), `#!/bin/sh\necho "${name} $*"\necho "env:\${REDIS_PASSWORD:-}\${NATS_PASSWORD:-}"\n`).then(() => chmod(join(bin, name), 0o755));
    if (withEntrypoint) await fake('docker-entrypoint.sh');
    await fake(`${kind}-server`);
    const { stdout } = await run('sh', ['-c', script], { env: { PATH: `${bin}:/usr/bin:/bin`, [kind === 'redis' ? 'REDIS_PASSWORD' : 'NATS_PASSWORD']: password } });
    return { out: stdout, conf: await readFile(file, 'utf8'), mode: (await stat(file)).mode & 0o777 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('the command writes a config file readable by its owner only and starts the server with it (through the image entrypoint when there is one)', async () => {
  const pw = generateCredentials('redis').password!;
  const redis = await runScript('redis', pw, true);
  assert.equal(redis.conf, `requirepass ${pw}\n`);
  assert.equal(redis.mode, 0o600);
  assert.match(redis.out, /^docker-entrypoint\.sh redis-server \S+auth\.conf --port 6379 --dir \/data --appendonly yes --protected-mode no\n/);
  assert.match(redis.out, /\nenv:\n$/, 'the variable is unset before the server starts');
  assert.ok(!redis.out.includes(pw));

  const nats = await runScript('nats', pw, false);
  assert.equal(nats.conf, `authorization {\n  user: "slipway"\n  password: "${pw}"\n}\n`);
  assert.equal(nats.mode, 0o600);
  assert.match(nats.out, /^nats-server -c \S+auth\.conf --jetstream --store_dir \/data --port 4222 --http_port 8222\n/, 'an image without docker-entrypoint.sh runs the server directly');
});
