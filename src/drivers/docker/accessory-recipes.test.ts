import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACCESSORY_KINDS, NATS_AUTH_CONF, NATS_MONITOR_PORT, REDIS_AUTH_CONF, accessoryCommand } from '../../core/accessory-kinds';
import { ACCESSORY_DEBIAN_RELEASE, DEFAULT_ACCESSORY_IMAGE_PREFIX, RECIPE_LABEL, accessoryRecipe } from './accessory-recipes';
import { debootstrapArgs } from './debian-base';
import { SharedBuilds } from './shared-builds';

const run = promisify(execFile);
const KINDS = [
  ['postgres', '15'],
  ['redis', '7'],
  ['nats', '2'],
] as const;

test('every recipe starts FROM the Debian base, installs Debian packages and follows its kind (port, data dir, entrypoint)', () => {
  for (const [kind, version] of KINDS) {
    const r = accessoryRecipe(kind, version);
    const lines = r.dockerfile.split('\n');
    assert.equal(lines[0], `FROM slipway/debian:${ACCESSORY_DEBIAN_RELEASE}`);
    assert.equal(r.ref, `${ACCESSORY_KINDS[kind].imageRepo}:${version}`);
    assert.match(r.dockerfile, /apt-get install -y --no-install-recommends/);
    assert.match(r.dockerfile, /rm -rf \/var\/lib\/apt\/lists/);
    assert.ok(lines.includes('ENTRYPOINT ["docker-entrypoint.sh"]'));
    assert.ok(lines.some((l) => l.startsWith('EXPOSE ') && l.split(' ').includes(String(ACCESSORY_KINDS[kind].port))));
    assert.equal(r.labels[RECIPE_LABEL], r.hash);
    assert.deepEqual(r.files.map((f) => [f.name, f.mode]), [['docker-entrypoint.sh', 0o755]]);
  }
  const pg = accessoryRecipe('postgres', '15');
  assert.match(pg.dockerfile, /postgresql-15 pgbackrest/);
  assert.ok(pg.dockerfile.includes('STOPSIGNAL SIGINT'), 'fast shutdown');
  assert.ok(pg.dockerfile.includes(`ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=${ACCESSORY_KINDS.postgres.dataDir}`));
  assert.match(pg.dockerfile, /create_main_cluster/);
  assert.match(accessoryRecipe('redis', '7').dockerfile, /redis-server redis-tools/);
  const nats = accessoryRecipe('nats', '2');
  assert.ok(nats.dockerfile.includes(`EXPOSE 4222 6222 ${NATS_MONITOR_PORT}`));
  assert.match(nats.dockerfile, /CMD \["nats-server", "--jetstream", "--store_dir", "\/data"/);
});

test('the recipe hash is stable and changes with the kind, the version and any script', () => {
  const a = accessoryRecipe('postgres', '15');
  assert.equal(accessoryRecipe('postgres', '15').hash, a.hash);
  assert.match(a.hash, /^[0-9a-f]{32}$/);
  assert.notEqual(accessoryRecipe('postgres', '16').hash, a.hash);
  const hashes = new Set(KINDS.map(([k, v]) => accessoryRecipe(k, v).hash));
  assert.equal(hashes.size, 3);
  assert.match(accessoryRecipe('postgres', '16').dockerfile, /postgresql-16/);
});

test('another repository prefix names the tag only: the same recipe, hash and Debian base', () => {
  for (const [kind, version] of KINDS) {
    const mine = accessoryRecipe(kind, version);
    const other = accessoryRecipe(kind, version, 'registry.local:5000/team');
    assert.equal(other.ref, `registry.local:5000/team/${kind}:${version}`);
    assert.equal(accessoryRecipe(kind, version, DEFAULT_ACCESSORY_IMAGE_PREFIX).ref, mine.ref);
    assert.deepEqual({ ...other, ref: mine.ref }, mine);
  }
});

test('entrypoints are valid bash, strict, never trace or print the password', async () => {
  for (const [kind, version] of KINDS) {
    const script = accessoryRecipe(kind, version).files[0]!.content;
    assert.match(script, /^#!\/bin\/bash\n/);
    assert.match(script, /\nset -euo pipefail\n/);
    assert.doesNotMatch(script, /set -[a-z]*x/);
    assert.doesNotMatch(script, /echo[^\n]*PASSWORD/);
    await run('bash', ['-n', '-c', script]);
    // Privileges are dropped with util-linux's setpriv (no gosu in Debian).
    assert.match(script, /exec setpriv --reuid=\w+ --regid=\w+ --init-groups "\$BASH_SOURCE" "\$@"/);
  }
  const pg = accessoryRecipe('postgres', '15').files[0]!.content;
  assert.match(pg, /--pwfile=<\(printf '%s\\n' "\$POSTGRES_PASSWORD"\)/, 'the password goes through a pipe, not an argv');
  assert.match(pg, /--auth-local=trust --auth-host=scram-sha-256/);
  assert.match(pg, /host all all all scram-sha-256/);
  assert.match(pg, /listen_addresses = '\*'/);
  assert.match(pg, /unset POSTGRES_PASSWORD\nexec "\$@"/);
});

test('entrypoint argument handling: options go to the server, other programs run as given', async () => {
  // Run the redis entrypoint as a non-root user path: it rewrites `--port 1` to `redis-server --port 1`
  // and execs; `echo` stands in by putting a fake redis-server first on PATH.
  const script = accessoryRecipe('redis', '7').files[0]!.content.replace(/^exec "\$@"$/m, 'echo "$@"');
  const asNonRoot = script.replace(`[ "$(id -u)" = '0' ]`, 'false');
  const one = await run('bash', ['-c', asNonRoot, 'entry', '--port', '1']);
  assert.equal(one.stdout.trim(), 'redis-server --port 1');
  const two = await run('bash', ['-c', asNonRoot, 'entry', 'redis-cli', 'ping']);
  assert.equal(two.stdout.trim(), 'redis-cli ping');
  // The engine's command for a redis accessory is a `sh -c` script (the password goes into a config file).
  assert.deepEqual(accessoryCommand({ kind: 'redis', command: null } as never, { password: 'x' })?.slice(0, 2), ['sh', '-c']);
});

test("the engine's redis and nats commands re-enter the built-in entrypoint with the server's own command line", async () => {
  for (const kind of ['redis', 'nats'] as const) {
    const dir = await mkdtemp(join(tmpdir(), 'slipway-entry-'));
    try {
      // The entrypoint as a non-root container runs it (the root branch drops privileges with setpriv).
      const entry = accessoryRecipe(kind, ACCESSORY_KINDS[kind].defaultVersion).files[0]!.content.replace(`[ "$(id -u)" = '0' ]`, 'false');
      await writeFile(join(dir, 'docker-entrypoint.sh'), entry, { mode: 0o755 });
      await writeFile(join(dir, `${kind}-server`), `#!/bin/sh\necho "${kind}-server $*"\n`, { mode: 0o755 });
      const conf = kind === 'redis' ? REDIS_AUTH_CONF : NATS_AUTH_CONF;
      const cmd = accessoryCommand({ kind, command: null } as never, { password: 'pw' })!.map((a) => a.replaceAll(conf, join(dir, 'auth.conf')));
      const { stdout } = await run(join(dir, 'docker-entrypoint.sh'), cmd, { env: { PATH: `${dir}:/usr/bin:/bin`, [kind === 'redis' ? 'REDIS_PASSWORD' : 'NATS_PASSWORD']: 'pw' } });
      assert.equal(stdout.split(' ')[0], `${kind}-server`);
      assert.ok(stdout.includes(join(dir, 'auth.conf')), stdout);
      assert.match(await readFile(join(dir, 'auth.conf'), 'utf8'), /pw/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
});

test('debootstrap argv: minbase, the mirror components and keyring, never a shell string', () => {
  const args = debootstrapArgs(
    'bookworm',
    { uri: 'http://deb.debian.org/debian', components: ['main', 'contrib'], updates: true, security: null, keyring: '/usr/share/keyrings/debian-archive-keyring.gpg', note: null },
    '/tmp/x/rootfs',
    ['ca-certificates'],
  );
  assert.deepEqual(args, ['--variant=minbase', '--components=main,contrib', '--include=ca-certificates', '--keyring=/usr/share/keyrings/debian-archive-keyring.gpg', 'bookworm', '/tmp/x/rootfs', 'http://deb.debian.org/debian']);
});

test('SharedBuilds: concurrent callers share one build and all get its output; a failed build can be retried', async () => {
  const builds = new SharedBuilds<number>();
  let runs = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const a: string[] = [];
  const b: string[] = [];
  const p1 = builds.run('img', (l) => a.push(l), async (emit) => {
    runs++;
    emit('one');
    await gate;
    emit('two');
    return 7;
  });
  const p2 = builds.run('img', (l) => b.push(l), async () => {
    runs++;
    return 8;
  });
  assert.deepEqual(builds.keys(), ['img']);
  release();
  assert.deepEqual(await Promise.all([p1, p2]), [7, 7]);
  assert.equal(runs, 1);
  assert.deepEqual(a, ['one', 'two']);
  assert.deepEqual(b, ['two']);
  await assert.rejects(builds.run('img', undefined, async () => Promise.reject(new Error('boom'))), /boom/);
  assert.equal(await builds.run('img', undefined, async () => 9), 9);
  assert.deepEqual(builds.keys(), []);
});
