/**
 * The built-in accessory images against a real Docker engine: built (or, when already on the
 * host with the same recipe, reused: building them takes minutes and other suites share them)
 * by the driver the control plane uses, then run with exactly the env/command/checks of
 * core/accessory-kinds.ts on a network of this test, as the accessory manager runs them.
 * Everything this test creates in Docker (containers, volumes, network) is removed; the
 * slipway/* images are shared and kept.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import Docker from 'dockerode';
import pg from 'pg';
import { ACCESSORY_KINDS, NATS_MONITOR_PORT, accessoryCheckEnv, accessoryCommand, accessoryContainerEnv, defaultAccessoryHealth, generateCredentials, type AccessoryCredentials } from '../src/core/accessory-kinds';
import type { AccessoryConfig, AccessoryKind } from '../src/core/config';
import { RECIPE_LABEL, accessoryRecipe } from '../src/drivers/docker/accessory-recipes';
import { DockerAccessoryImages } from '../src/drivers/docker/accessory-images';
import { pickDebianMirror, readHostAptSources, renderSourcesList } from '../src/drivers/docker/apt-sources';
import { createDebianBaseImage } from '../src/drivers/docker/debian-base';
import { cliFor } from './support/cli';
import { ControlPlaneProcess } from './support/control-plane-process';

const docker = new Docker();
const images = new DockerAccessoryImages(docker);
const id = randomBytes(3).toString('hex');
const network = `slipway-accimg-${id}`;
const LABEL = { 'slipway.test': `accessory-images-${id}` };
const VERSIONS = { postgres: '15', redis: '7', nats: '2' } as const;
const refs: Record<string, string> = {};

function config(kind: Exclude<AccessoryKind, 'container'>): AccessoryConfig {
  return {
    name: kind,
    kind,
    image: `${ACCESSORY_KINDS[kind].imageRepo}:${VERSIONS[kind]}`,
    builtIn: true,
    version: VERSIONS[kind],
    port: ACCESSORY_KINDS[kind].port,
    volumes: [],
    env: {},
    command: null,
    health: defaultAccessoryHealth(kind, ACCESSORY_KINDS[kind].port),
    resources: { memoryBytes: null, cpus: null },
    stopTimeoutMs: 10_000,
    database: null,
  };
}

async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** Runs an accessory the way the runtime does: Docker init, no restart, its data volume at the kind's data dir. */
async function runAccessory(kind: Exclude<AccessoryKind, 'container'>, creds: AccessoryCredentials, volume: string): Promise<{ container: Docker.Container; ip: string }> {
  const cfg = config(kind);
  const env = accessoryContainerEnv(cfg, creds);
  const cmd = accessoryCommand(cfg, creds);
  const container = await docker.createContainer({
    name: `${network}-${kind}-${randomBytes(2).toString('hex')}`,
    Image: refs[kind],
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    ...(cmd ? { Cmd: cmd } : {}),
    Labels: LABEL,
    HostConfig: {
      NetworkMode: network,
      Init: true,
      RestartPolicy: { Name: 'no' },
      Mounts: [{ Type: 'volume', Source: volume, Target: ACCESSORY_KINDS[kind].dataDir }],
    },
  });
  await container.start();
  const info = await container.inspect();
  const ip = info.NetworkSettings.Networks[network]?.IPAddress;
  assert.ok(ip, 'the container has an address on the test network');
  return { container, ip };
}

async function exec(container: Docker.Container, cmd: string[], env: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  const e = await container.exec({ Cmd: cmd, Env: Object.entries(env).map(([k, v]) => `${k}=${v}`), AttachStdout: true, AttachStderr: true });
  const stream = await e.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  const sink = new (await import('node:stream')).PassThrough();
  sink.on('data', (c: Buffer) => chunks.push(c));
  docker.modem.demuxStream(stream, sink, sink);
  await new Promise<void>((resolve) => stream.on('end', () => resolve()));
  const { ExitCode } = await e.inspect();
  return { code: ExitCode ?? -1, output: Buffer.concat(chunks).toString() };
}

/** The readiness check of core/accessory-kinds.ts, run as the engine runs it (exec, with its env). */
async function waitHealthy(kind: Exclude<AccessoryKind, 'container'>, container: Docker.Container, creds: AccessoryCredentials): Promise<void> {
  const health = defaultAccessoryHealth(kind, ACCESSORY_KINDS[kind].port)!;
  assert.equal(health.kind, 'exec');
  const env = accessoryCheckEnv(config(kind), creds);
  await waitFor(`${kind} readiness (${health.command!.join(' ')})`, async () => (await exec(container, health.command!, env)).code === 0);
}

async function logsOf(container: Docker.Container): Promise<string> {
  const buf = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
  return buf.toString();
}

/** Processes named `comm` inside the container, by user name. */
async function processUsers(container: Docker.Container, comm: string): Promise<string> {
  const r = await exec(container, ['sh', '-c', `for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = "${comm}" ] && stat -c %U $p; done | sort -u`]);
  return r.output.trim();
}

/** A RESP exchange over TCP: inline commands, the first line of each answer. */
async function redisTalk(host: string, commands: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(6379, host);
    let buf = '';
    const answers: string[] = [];
    sock.setTimeout(10_000, () => sock.destroy(new Error('redis did not answer')));
    sock.on('error', reject);
    sock.on('connect', () => sock.write(`${commands[0]}\r\n`));
    sock.on('data', (d) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        answers.push(buf.slice(0, i));
        buf = buf.slice(i + 2);
        if (answers.length === commands.length) {
          sock.end();
          resolve(answers);
          return;
        }
        sock.write(`${commands[answers.length]}\r\n`);
      }
    });
  });
}

before(async () => {
  await docker.createNetwork({ Name: network, Driver: 'bridge', Labels: LABEL });
});

after(async () => {
  const containers = await docker.listContainers({ all: true, filters: { label: [`slipway.test=${LABEL['slipway.test']}`] } });
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: false }).catch(() => undefined)));
  const volumes = (await docker.listVolumes({ filters: { label: [`slipway.test=${LABEL['slipway.test']}`] } })).Volumes ?? [];
  await Promise.all(volumes.map((v) => docker.getVolume(v.Name).remove().catch(() => undefined)));
  await docker.getNetwork(network).remove().catch(() => undefined);
});

async function volume(name: string): Promise<string> {
  const full = `${network}-${name}`;
  await docker.createVolume({ Name: full, Labels: LABEL });
  return full;
}

test('the Debian base: built by debootstrap from the host mirror (or reused), its apt sources are the host\'s, no daemon starts on install', { timeout: 1_800_000 }, async () => {
  let lines = 0;
  const base = await createDebianBaseImage(docker, { onOutput: () => lines++ });
  assert.equal(base.tag, 'slipway/debian:bookworm');
  assert.ok(base.tags.includes('slipway/debian:latest'));
  if (!base.reused) assert.ok(lines > 0, 'debootstrap output was streamed');
  const again = await createDebianBaseImage(docker, {});
  assert.deepEqual([again.id, again.reused], [base.id, true]);
  const raw = await docker.getImage(base.id).inspect();
  assert.deepEqual(raw.Config.Cmd, ['bash']);
  assert.equal(raw.Config.Labels?.['slipway.base'], 'debian');
  const expected = renderSourcesList(pickDebianMirror(await readHostAptSources(), 'bookworm'), 'bookworm');
  const c = await docker.createContainer({ Image: base.id, Cmd: ['sh', '-c', 'cat /etc/apt/sources.list; /usr/sbin/policy-rc.d; echo "policy=$?"; command -v setpriv; command -v apt-get'], Labels: LABEL });
  await c.start();
  await c.wait();
  const out = await logsOf(c);
  await c.remove();
  assert.ok(out.includes(expected.trim().split('\n').pop()!), `the image's sources.list is the host's mirror:\n${out}`);
  assert.match(out, /policy=101/);
  assert.match(out, /\/usr\/bin\/setpriv/);
  assert.match(out, /\/usr\/bin\/apt-get/);
});

test('the Debian base refuses a host that is not Debian, and an unreachable mirror, leaving no temporary root filesystem', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'slipway-debian-test-'));
  try {
    await writeFile(path.join(dir, 'os-release'), 'ID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=jammy\n');
    await assert.rejects(createDebianBaseImage(docker, { osReleaseFile: path.join(dir, 'os-release') }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'SLW_HOST_MISSING');
      assert.match(err.message, /this host runs "ubuntu", not Debian/);
      return true;
    });
    await writeFile(path.join(dir, 'os-release'), 'ID=debian\n');
    await assert.rejects(createDebianBaseImage(docker, { osReleaseFile: path.join(dir, 'os-release') }), /no VERSION_CODENAME/);
    // A mirror nobody answers on (port 9, discard): refused before debootstrap runs, nothing left in workDir.
    await mkdir(path.join(dir, 'apt', 'sources.list.d'), { recursive: true });
    await writeFile(path.join(dir, 'apt', 'sources.list'), 'deb http://127.0.0.1:9/debian bookworm main\n');
    await mkdir(path.join(dir, 'work'));
    await assert.rejects(createDebianBaseImage(docker, { force: true, aptRoot: path.join(dir, 'apt'), workDir: path.join(dir, 'work') }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'SLW_BUILD_FAILED');
      assert.match(err.message, /cannot reach the apt mirror http:\/\/127\.0\.0\.1:9\/debian/);
      return true;
    });
    assert.deepEqual(await readdir(path.join(dir, 'work')), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('`slipway base-image create debian` through the API: up to date when the image is there', { timeout: 600_000 }, async () => {
  const cp = await ControlPlaneProcess.create(`baseimg-${id}`);
  try {
    await cp.start();
    const cli = cliFor(cp, cp.dataDir);
    const r = await cli('base-image', 'create', 'debian');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /up to date: slipway\/debian:bookworm, slipway\/debian:latest/);
    const bad = await cli('base-image', 'create', 'ubuntu');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /kind: expected one of node, static, debian/);
  } finally {
    await cp.destroy();
  }
});

test('the built-in images are built from Debian packages on the Debian base (or reused), labelled with their recipe', { timeout: 3_600_000 }, async () => {
  for (const kind of ['postgres', 'redis', 'nats'] as const) {
    let lines = 0;
    const image = await images.ensure(kind, VERSIONS[kind], () => lines++);
    const recipe = accessoryRecipe(kind, VERSIONS[kind]);
    assert.equal(image.ref, recipe.ref);
    refs[kind] = image.id;
    const raw = await docker.getImage(image.id).inspect();
    assert.equal(raw.Config.Labels?.[RECIPE_LABEL], recipe.hash, `${kind}: the recipe label`);
    assert.ok(raw.RepoTags?.includes(recipe.ref));
    assert.ok(Object.keys(raw.Config.ExposedPorts ?? {}).includes(`${ACCESSORY_KINDS[kind].port}/tcp`));
    if (kind === 'postgres') assert.equal((raw.Config as { StopSignal?: string }).StopSignal, 'SIGINT');
    if (image.built) assert.ok(lines > 0, `${kind}: the build output was streamed`);
    // Asked again (twice at once): the same image, nothing rebuilt.
    const again = await Promise.all([images.ensure(kind, VERSIONS[kind]), images.ensure(kind, VERSIONS[kind])]);
    assert.deepEqual(again.map((a) => [a.id, a.built]), [[image.id, false], [image.id, false]]);
  }
  await assert.rejects(images.ensure('postgres', '16'), /no built-in postgres image at version "16".*image:/);
});

test('postgres: pg_isready inside, a scram login from the host, runs as postgres, data survives a recreate on the same volume', { timeout: 600_000 }, async () => {
  assert.ok(refs.postgres, 'the image test ran first');
  const creds = generateCredentials('postgres');
  const data = await volume('pgdata');
  const first = await runAccessory('postgres', creds, data);
  await waitHealthy('postgres', first.container, creds);
  const connect = (password: string, host = first.ip) => {
    const c = new pg.Client({ host, port: 5432, user: 'postgres', password, database: 'postgres', connectionTimeoutMillis: 10_000 });
    return c.connect().then(() => c);
  };
  await assert.rejects(connect('wrong-password'), /password authentication failed/);
  const client = await connect(creds.superuser!);
  try {
    const auth = await client.query<{ a: string; e: string }>("SELECT current_setting('password_encryption') AS a, pg_encoding_to_char(encoding) AS e FROM pg_database WHERE datname = 'postgres'");
    assert.deepEqual(auth.rows[0], { a: 'scram-sha-256', e: 'UTF8' });
    await client.query('CREATE TABLE kept (n int)');
    await client.query('INSERT INTO kept VALUES (42)');
  } finally {
    await client.end();
  }
  assert.equal(await processUsers(first.container, 'postgres'), 'postgres');
  assert.equal((await exec(first.container, ['stat', '-c', '%U %a', ACCESSORY_KINDS.postgres.dataDir])).output.trim(), 'postgres 700');
  const logs1 = await logsOf(first.container);
  assert.ok(!logs1.includes(creds.superuser!), 'the password never appears in the container log');
  // Recreate: stop (SIGINT, fast shutdown), remove, start a new container on the same volume.
  await first.container.stop({ t: 30 });
  assert.match(await logsOf(first.container), /fast shutdown|database system is shut down/);
  await first.container.remove();
  const second = await runAccessory('postgres', creds, data);
  await waitHealthy('postgres', second.container, creds);
  const again = await connect(creds.superuser!, second.ip);
  try {
    assert.deepEqual((await again.query('SELECT n FROM kept')).rows, [{ n: 42 }]);
  } finally {
    await again.end();
  }
  assert.doesNotMatch(await logsOf(second.container), /database initialized/, 'an existing data dir is not initialized again');
});

test('redis: answers PING with the password, refuses without, runs as redis, appendonly data in /data', { timeout: 600_000 }, async () => {
  assert.ok(refs.redis, 'the image test ran first');
  const creds = generateCredentials('redis');
  const { container, ip } = await runAccessory('redis', creds, await volume('redisdata'));
  await waitHealthy('redis', container, creds);
  // The readiness check without the password fails: it really compares the answer.
  const health = defaultAccessoryHealth('redis', 6379)!;
  assert.notEqual((await exec(container, health.command!)).code, 0);
  const [noAuth] = await redisTalk(ip, ['PING']);
  assert.match(noAuth!, /^-NOAUTH/);
  const [badAuth] = await redisTalk(ip, ['AUTH wrong']);
  assert.match(badAuth!, /^-(WRONGPASS|ERR)/);
  assert.deepEqual(await redisTalk(ip, [`AUTH ${creds.password}`, 'PING', 'SET k v']), ['+OK', '+PONG', '+OK']);
  assert.equal(await processUsers(container, 'redis-server'), 'redis');
  const files = await exec(container, ['sh', '-c', 'ls /data; stat -c %U /data']);
  assert.match(files.output, /appendonly/);
  assert.match(files.output, /redis\s*$/);
  assert.ok(!(await logsOf(container)).includes(creds.password!));
});

test('nats: /healthz answers 200 on the monitor port with JetStream on, clients need the password', { timeout: 600_000 }, async () => {
  assert.ok(refs.nats, 'the image test ran first');
  const creds = generateCredentials('nats');
  const { container, ip } = await runAccessory('nats', creds, await volume('natsdata'));
  const health = defaultAccessoryHealth('nats', 4222)!;
  assert.equal(health.kind, 'http');
  await waitFor('nats /healthz', async () => (await fetch(`http://${ip}:${NATS_MONITOR_PORT}${health.path}`)).status === 200);
  const varz = (await (await fetch(`http://${ip}:${NATS_MONITOR_PORT}/varz`)).json()) as { jetstream?: { config?: { store_dir?: string } }; auth_required?: boolean };
  assert.match(varz.jetstream?.config?.store_dir ?? '', /^\/data/, 'JetStream is on, storing in /data');
  const info = await new Promise<string>((resolve, reject) => {
    const s = net.connect(4222, ip);
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString());
    });
    s.on('error', reject);
  });
  assert.match(info, /^INFO .*"auth_required":true/);
  assert.equal(await processUsers(container, 'nats-server'), 'nats');
  const stored = await exec(container, ['sh', '-c', 'ls -R /data | head -5; stat -c %U /data']);
  assert.match(stored.output, /jetstream/);
  assert.ok(!(await logsOf(container)).includes(creds.password!));
});

test('postgres: POSTGRES_USER, POSTGRES_DB and /docker-entrypoint-initdb.d behave as in the official image', { timeout: 600_000 }, async () => {
  assert.ok(refs.postgres, 'the image test ran first');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'slipway-initdb-'));
  try {
    await chmod(dir, 0o755); // the scripts run as postgres, as in the official image
    await writeFile(path.join(dir, '01-seed.sql'), 'CREATE TABLE seeded (x int); INSERT INTO seeded VALUES (7);\n', { mode: 0o644 });
    const container = await docker.createContainer({
      Image: refs.postgres,
      Env: ['POSTGRES_USER=admin', 'POSTGRES_PASSWORD=init-secret-9f2', 'POSTGRES_DB=shop'],
      Labels: LABEL,
      HostConfig: { NetworkMode: network, Init: true, Binds: [`${dir}:/docker-entrypoint-initdb.d:ro`] },
    });
    await container.start();
    await waitFor('postgres ready', async () => (await exec(container, ['pg_isready', '-q', '-h', '127.0.0.1', '-U', 'admin'])).code === 0);
    const r = await exec(container, ['psql', '-U', 'admin', '-d', 'shop', '-Atc', 'SELECT x FROM seeded']);
    assert.equal(r.output.replace(/[^\x20-\x7e\n]/g, '').trim().split('\n').pop(), '7', r.output);
    assert.ok(!(await logsOf(container)).includes('init-secret-9f2'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
