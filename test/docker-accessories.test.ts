/**
 * The Docker driver's stack features against the real engine (no mocks): per-environment
 * networks with subnets from Slipway's pool, names through Docker's DNS, isolation between
 * environments, named volumes that outlive their containers, accessory containers, exec,
 * resource limits, OOM kills, and a cleanup that leaves nothing behind.
 *
 * Run: SLIPWAY_STRICT_RESPONSES=1 node --import tsx --test --test-concurrency=1 test/docker-accessories.test.ts
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import type { AccessoryLabels, AccessorySpec, ReplicaLabels } from '../src/core/ports/runtime';
import { DockerRuntime } from '../src/drivers/docker/docker-runtime';
import { createNodeBaseImage, createStaticBaseImage } from '../src/drivers/docker/base-images';
import { EnvNetworks } from '../src/drivers/docker/env-network';
import { formatCidr, overlaps, parseCidr, parseSubnetPool } from '../src/drivers/docker/subnet-pool';
import { removeTestContainers } from './support/docker-cleanup';

const suffix = randomBytes(4).toString('hex');
const network = `slipway-test-acc-${suffix}`;
const project = `acc${suffix}`;
const logger = pino({ level: 'silent' });
const runtime = new DockerRuntime({ network, logger });
const docker = runtime.docker;
const MiB = 1024 * 1024;
const strangers: string[] = []; // volumes made outside Slipway (no base label): removed by hand
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const labels = (over: Partial<ReplicaLabels> = {}): ReplicaLabels => ({ project, service: 'web', env: 'production', release: 1, deployment: `d-${suffix}`, ...over });
const accessoryLabels = (over: Partial<AccessoryLabels> = {}): AccessoryLabels => ({ project, env: 'production', accessory: 'store', spec: 'h1', ...over });
const hex = () => randomBytes(3).toString('hex');

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** A one-off command in an environment: its exit code and output. */
async function oneOff(env: string, argv: string[], image = 'slipway/static:latest'): Promise<{ exitCode: number | null; out: string }> {
  const lines: string[] = [];
  const r = await runtime.runOnce({ kind: 'run', server: 'local', name: `${project}-run-${hex()}`, image, env: {}, labels: labels({ env }), argv, timeoutMs: 30_000, onOutput: (l) => lines.push(l) });
  return { exitCode: r.exitCode, out: lines.join('\n') };
}

// busybox-static's wget crashes resolving names (static glibc): node resolves through Docker's DNS.
const FETCH = `fetch(process.argv[1], { signal: AbortSignal.timeout(4000) }).then(async (r) => console.log(await r.text()), (e) => { console.log('failed: ' + (e.cause?.code ?? e.name)); process.exit(2); })`;
/** GET `url` from a one-off in `env`: exit 0 and the body, or exit 2 and why. */
const fetchFrom = (env: string, url: string) => oneOff(env, ['node', '-e', FETCH, url], 'slipway/node:20');

function accessorySpec(over: Partial<AccessorySpec> = {}): AccessorySpec {
  return {
    server: 'local',
    name: `${project}-store-production-${hex()}`,
    image: 'slipway/static:latest',
    env: { GREETING: 'hello $HOME "q"' },
    // Serves /data (the volume) over HTTP on 8080.
    command: ['httpd', '-f', '-p', '8080', '-h', '/data'],
    labels: accessoryLabels(),
    volumes: [{ volume: 'data', path: '/data', readOnly: false }],
    resources: { memoryBytes: 64 * MiB, cpus: 0.5 },
    ...over,
  };
}

interface NetworkInfo {
  Name: string;
  Driver: string;
  Labels: Record<string, string>;
  IPAM: { Config: Array<{ Subnet: string; Gateway?: string }> };
}
const inspectNetwork = (name: string) => docker.getNetwork(name).inspect() as Promise<NetworkInfo>;

before(async () => {
  await runtime.ping();
  if (!(await runtime.inspectImage('slipway/static:latest'))) await createStaticBaseImage(runtime);
  if (!(await runtime.inspectImage('slipway/node:20'))) await createNodeBaseImage(runtime);
});

after(async () => {
  await removeTestContainers(network);
  for (const v of strangers) await docker.getVolume(v).remove().catch(() => undefined);
  runtime.close();
});

test('environment networks: labelled bridges with distinct /24s from the pool, one per name under concurrent ensures', async () => {
  // Ensures at once, also from a second runtime (its own cache and lock, like a second process): every pick is distinct.
  const other = new DockerRuntime({ network, logger });
  try {
    const names = await Promise.all([
      runtime.ensureEnvNetwork(project, 'production'),
      runtime.ensureEnvNetwork(project, 'production'),
      runtime.ensureEnvNetwork(project, 'staging'),
      other.ensureEnvNetwork(project, 'review'),
      other.ensureEnvNetwork(project, 'production'),
      runtime.ensureEnvNetwork(project, 'qa'),
    ]);
    assert.deepEqual(names, [`${network}_${project}_production`, `${network}_${project}_production`, `${network}_${project}_staging`, `${network}_${project}_review`, `${network}_${project}_production`, `${network}_${project}_qa`]);
  } finally {
    other.close();
  }
  const subnets = new Set<string>();
  for (const env of ['production', 'staging', 'review', 'qa']) {
    const name = `${network}_${project}_${env}`;
    assert.equal((await docker.listNetworks({ filters: { name: [name] } })).filter((n) => n.Name === name).length, 1, `${name} exists once`);
    const info = await inspectNetwork(name);
    assert.equal(info.Driver, 'bridge');
    assert.deepEqual(
      { managed: info.Labels['slipway.managed'], base: info.Labels['slipway.base'], project: info.Labels['slipway.network.project'], env: info.Labels['slipway.network.env'] },
      { managed: 'true', base: network, project, env },
    );
    const [cfg] = info.IPAM.Config;
    assert.match(cfg?.Subnet ?? '', /^10\.213\.\d+\.0\/24$/, 'a /24 of the default pool');
    assert.equal(cfg?.Gateway, cfg?.Subnet.replace(/0\/24$/, '1'));
    subnets.add(cfg!.Subnet);
  }
  assert.equal(subnets.size, 4, 'distinct subnets');
  // Ensuring again is free and changes nothing.
  assert.equal(await runtime.ensureEnvNetwork(project, 'staging'), `${network}_${project}_staging`);

  // A pool whose only /24 is taken: a clear error naming the setting.
  const [only] = [...subnets];
  const full = new DockerRuntime({ network, subnetPool: only!, logger });
  try {
    await assert.rejects(full.ensureEnvNetwork(project, 'full'), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'SLW_RUNTIME');
      assert.match(err.message, new RegExp(`all 1 of the pool ${only!.replace(/\./g, '\\.').replace('/', '\\/')} are in use\\. Set SLIPWAY_SUBNET_POOL`));
      return true;
    });
  } finally {
    full.close();
  }
  assert.throws(() => new DockerRuntime({ network, subnetPool: '10.213.0.0/25', logger }), /SLIPWAY_SUBNET_POOL: expected an IPv4 range of \/24 or larger/);

  // Removal: missing is fine; it goes.
  await runtime.removeEnvNetwork(project, 'qa');
  await runtime.removeEnvNetwork(project, 'qa');
  assert.equal((await docker.listNetworks({ filters: { name: [`${network}_${project}_qa`] } })).length, 0);
});

test('a subnet another process takes between our listing and our create is retried with another', async () => {
  // A /23 nothing on this host uses, outside the default pool.
  const used = (await docker.listNetworks()).flatMap((n) => (n.IPAM?.Config ?? []).map((c) => parseCidr(c.Subnet ?? ''))).filter((c) => c !== null);
  const free = Array.from({ length: 128 }, (_, i) => `10.214.${2 * i}.0/23`).find((p) => !used.some((u) => overlaps(parseSubnetPool(p), u)));
  assert.ok(free, 'a free /23 in 10.214.0.0/16');
  const pool = parseSubnetPool(free);
  const first = formatCidr({ base: pool.base, bits: 24 });
  const second = formatCidr({ base: pool.base + 256, bits: 24 });
  // The rival holds the first /24, but our first listing does not show it yet (as if created just after).
  const rival = `${network}_rival`;
  await docker.createNetwork({ Name: rival, Driver: 'bridge', Labels: { 'slipway.base': network }, IPAM: { Driver: 'default', Config: [{ Subnet: first }] } });
  let listings = 0;
  const racing = Object.create(docker) as typeof docker;
  racing.listNetworks = (async (opts?: object) => {
    const all = await docker.listNetworks(opts);
    if (opts) return all; // the duplicate check after creating (by name)
    return listings++ === 0 ? all.filter((n) => n.Name !== rival) : all;
  }) as typeof docker.listNetworks;
  const networks = new EnvNetworks({ docker: racing, base: network, pool, logger });
  const name = await networks.ensure(project, 'race');
  assert.equal(listings, 2, 'listed again after Docker refused the overlapping subnet');
  assert.equal((await inspectNetwork(name)).IPAM.Config[0]?.Subnet, second);
  await docker.getNetwork(rival).remove();
  await networks.remove(project, 'race');
});

test('replicas and one-offs join their environment network: siblings reach them by service name, other environments cannot', async () => {
  const prodNet = `${network}_${project}_production`;
  const web = await runtime.startReplica({ server: 'local', name: `${project}-web-${hex()}`, image: 'slipway/static:latest', port: 8080, env: {}, labels: labels(), volumes: [{ volume: 'uploads', path: '/www', readOnly: false }] });
  const info = await docker.getContainer(web.id).inspect();
  assert.deepEqual(Object.keys(info.NetworkSettings.Networks), [prodNet], 'only its environment network');
  assert.ok(info.NetworkSettings.Networks[prodNet]?.Aliases?.includes('web'), 'the service name is its alias');
  assert.equal(web.address, info.NetworkSettings.Networks[prodNet]?.IPAddress);
  assert.match(web.address ?? '', /^10\.213\.\d+\.\d+$/);
  assert.deepEqual(web.resources, { memoryBytes: null, cpus: null }, 'no limits asked, none set');
  assert.equal(web.oomKilled, false);

  // The host (edge, control plane) reaches it by IP, as before.
  await waitFor('busybox httpd from the host', async () => ((await fetch(`http://${web.address}:8080/index.html`)).ok ? true : undefined));

  // A one-off in the same environment reaches it by name...
  const same = await fetchFrom('production', 'http://web:8080/index.html');
  assert.equal(same.exitCode, 0, same.out);
  assert.match(same.out, /slipway\/static/);
  // ...one in staging resolves no `web` and cannot connect to its address either.
  const byName = await fetchFrom('staging', 'http://web:8080/index.html');
  assert.deepEqual(byName, { exitCode: 2, out: 'failed: ENOTFOUND' }, 'staging has no `web`');
  const byIp = await fetchFrom('staging', `http://${web.address}:8080/index.html`);
  assert.equal(byIp.exitCode, 2, `staging reached production's replica: ${byIp.out}`);
  assert.match(byIp.out, /^failed: (TimeoutError|ECONNREFUSED|EHOSTUNREACH|ENETUNREACH)$/);

  // The replica's volume is Slipway's: labelled with its owner, listed with who uses it.
  const [vol] = await runtime.listVolumes({ project, env: 'production' });
  assert.deepEqual({ ...vol, sizeBytes: typeof vol?.sizeBytes, createdAt: typeof vol?.createdAt }, {
    name: `${network}_${project}_production_web_uploads`,
    project,
    env: 'production',
    owner: 'web',
    volume: 'uploads',
    sizeBytes: 'number',
    createdAt: 'string',
    usedBy: [web.name],
  });

  // An environment network still in use is not removed.
  await assert.rejects(runtime.removeEnvNetwork(project, 'production'), new RegExp(`network ${prodNet} is still used by ${web.name}`));
  await runtime.stopReplica(web.id, 5000);

  // A network removed behind the runtime's back (cached as present) is created again on use.
  await docker.getNetwork(prodNet).remove();
  const again = await oneOff('production', ['true']);
  assert.equal(again.exitCode, 0);
  assert.equal((await inspectNetwork(prodNet)).Labels['slipway.base'], network);
  assert.equal((await docker.listContainers({ all: true, filters: { label: [`slipway.run.project=${project}`] } })).length, 0, 'one-offs removed');
});

test('accessories: on the network by name, never replicas, limits applied, volumes kept across recreation', async () => {
  const first = await runtime.startAccessory(accessorySpec());
  assert.equal(first.state, 'running');
  assert.deepEqual(first.labels, accessoryLabels());
  assert.deepEqual(first.resources, { memoryBytes: 64 * MiB, cpus: 0.5 });
  assert.equal(first.oomKilled, false);
  assert.match(first.address ?? '', /^10\.213\./);
  const info = await docker.getContainer(first.id).inspect();
  const net = `${network}_${project}_production`;
  assert.deepEqual(Object.keys(info.NetworkSettings.Networks), [net]);
  assert.ok(info.NetworkSettings.Networks[net]?.Aliases?.includes('store'));
  assert.equal(info.HostConfig.RestartPolicy?.Name, 'no');
  assert.equal(info.HostConfig.Init, true);
  assert.equal(info.HostConfig.Memory, 64 * MiB);
  assert.equal(info.HostConfig.NanoCpus, 500_000_000);
  assert.deepEqual(info.HostConfig.LogConfig, { Type: 'json-file', Config: { 'max-file': '3', 'max-size': '10m' } });
  assert.equal(info.Config.Labels['slipway.base'], network);
  assert.equal(info.Config.Labels['slipway.project'], undefined, 'no replica labels');
  assert.ok(info.Config.Env.includes('GREETING=hello $HOME "q"'));

  assert.deepEqual((await runtime.listAccessories({ project })).map((a) => a.id), [first.id]);
  assert.deepEqual((await runtime.listAccessories({ project, env: 'production', accessory: 'store' })).map((a) => a.id), [first.id]);
  assert.deepEqual(await runtime.listAccessories({ project, env: 'staging' }), []);
  assert.deepEqual(await runtime.listAccessories({ project, accessory: 'db' }), []);
  assert.deepEqual(await runtime.listReplicas({ project }), [], 'an accessory is never a replica');
  assert.deepEqual(await runtime.listReplicasRecent({ project }), []);

  // Write into the volume, reach it by name from a one-off.
  const wrote = await runtime.exec(first.id, ['sh', '-c', 'echo "$V" > /data/f.txt'], { env: { V: `kept-${suffix}` }, timeoutMs: 10_000 });
  assert.deepEqual(wrote, { exitCode: 0, timedOut: false, output: '' });
  const read = await fetchFrom('production', 'http://store:8080/f.txt');
  assert.deepEqual(read, { exitCode: 0, out: `kept-${suffix}\n` });

  const volumeName = `${network}_${project}_production_store_data`;
  const inUse = await runtime.removeVolume(volumeName);
  assert.equal(inUse.removed, false);
  assert.match(inUse.reason ?? '', new RegExp(`in use by container ${first.name}`));

  // Recreate: stop and remove, the volume stays; a new container sees the data.
  await runtime.stopAccessory(first.id, 5000);
  await runtime.stopAccessory(first.id, 5000); // missing is fine
  assert.deepEqual(await runtime.listAccessories({ project }), []);
  const [kept] = await runtime.listVolumes({ project, env: 'production' }).then((vs) => vs.filter((v) => v.owner === 'store'));
  assert.equal(kept?.name, volumeName);
  assert.deepEqual(kept?.usedBy, []);
  assert.ok((kept?.sizeBytes ?? 0) > 0, 'the data counts');

  const second = await runtime.startAccessory(accessorySpec({ labels: accessoryLabels({ spec: 'h2' }), resources: undefined }));
  assert.deepEqual(second.resources, { memoryBytes: null, cpus: null });
  assert.equal(second.labels.spec, 'h2');
  const back = await runtime.exec(second.id, ['cat', '/data/f.txt'], { timeoutMs: 10_000 });
  assert.deepEqual(back, { exitCode: 0, timedOut: false, output: `kept-${suffix}` });
  await runtime.stopAccessory(second.id, 5000);

  // Now unused, it can be removed; missing counts as removed.
  assert.deepEqual(await runtime.removeVolume(volumeName), { removed: true });
  assert.deepEqual(await runtime.removeVolume(volumeName), { removed: true });
  // A volume Slipway did not create is never removed.
  const stranger = `${network}-stranger-${hex()}`;
  strangers.push(stranger);
  await docker.createVolume({ Name: stranger });
  const refused = await runtime.removeVolume(stranger);
  assert.equal(refused.removed, false);
  assert.match(refused.reason ?? '', /not created by this Slipway/);
});

test('exec: exit codes, both streams, the last 64 KiB, timeouts, and a clear error for a missing container', async () => {
  const a = await runtime.startAccessory(accessorySpec({ labels: accessoryLabels({ accessory: 'box', env: 'staging' }), name: `${project}-box-staging-${hex()}` }));
  try {
    const r = await runtime.exec(a.id, ['sh', '-c', 'echo out; echo err >&2; echo "$X"; exit 3'], { env: { X: 'a b $HOME' }, timeoutMs: 10_000 });
    assert.equal(r.exitCode, 3);
    assert.equal(r.timedOut, false);
    assert.deepEqual(r.output.split('\n').sort(), ['a b $HOME', 'err', 'out']);

    const big = await runtime.exec(a.id, ['sh', '-c', 'i=0; while [ $i -lt 20000 ]; do echo "line $i"; i=$((i+1)); done'], { timeoutMs: 30_000 });
    assert.equal(big.exitCode, 0);
    assert.ok(big.output.length <= 64 * 1024, `${big.output.length} characters kept`);
    assert.ok(big.output.endsWith('line 19999'));
    assert.ok(!big.output.includes('line 100\n'), 'the start was dropped');

    const slow = await runtime.exec(a.id, ['sh', '-c', 'echo started; sleep 30'], { timeoutMs: 5000 });
    assert.deepEqual(slow, { exitCode: null, timedOut: true, output: 'started' });

    const missing = await runtime.exec(a.id, ['/no/such/binary'], { timeoutMs: 5000 });
    assert.ok(missing.exitCode === 126 || missing.exitCode === 127, JSON.stringify(missing));
  } finally {
    await runtime.stopAccessory(a.id, 2000);
  }
  await assert.rejects(runtime.exec(a.id, ['true'], { timeoutMs: 5000 }), { code: 'SLW_RUNTIME' });
});

test('resource limits are applied to replicas, and an OOM kill is reported as such', async () => {
  const spec = {
    server: 'local',
    name: `${project}-hog-${hex()}`,
    image: 'slipway/node:20',
    port: 0,
    env: {},
    labels: labels({ service: 'hog' }),
    command: ['node', '-e', 'const a = []; for (;;) a.push(Buffer.alloc(1e6, 1))'],
    resources: { memoryBytes: 32 * MiB, cpus: 0.25 },
  };
  const hog = await runtime.startReplica(spec);
  assert.deepEqual(hog.resources, { memoryBytes: 32 * MiB, cpus: 0.25 });
  const info = await docker.getContainer(hog.id).inspect();
  assert.equal(info.HostConfig.Memory, 32 * MiB);
  assert.equal(info.HostConfig.NanoCpus, 250_000_000);
  const dead = await waitFor('the OOM kill', async () => {
    const r = await runtime.inspectReplica(hog.id);
    return r && r.state !== 'running' ? r : undefined;
  }, 60_000);
  assert.equal(dead.state, 'exited');
  assert.equal(dead.oomKilled, true);
  assert.equal(dead.exitCode, 137);
  // The recent listing (views, the reconciler's reports) shows it too.
  await waitFor('the OOM kill in the recent listing', async () => ((await runtime.listReplicasRecent({ project, service: 'hog' }))[0]?.oomKilled === true ? true : undefined));
  await runtime.stopReplica(hog.id, 1000);
});

test('cleanup removes every container, network and volume of a test Slipway', async () => {
  // Leave some of everything behind, as a failed test would.
  const web = await runtime.startReplica({ server: 'local', name: `${project}-left-${hex()}`, image: 'slipway/static:latest', port: 8080, env: {}, labels: labels({ env: 'leftover', service: 'left' }), volumes: [{ volume: 'v', path: '/www', readOnly: false }] });
  const acc = await runtime.startAccessory(accessorySpec({ labels: accessoryLabels({ env: 'leftover' }), name: `${project}-store-leftover-${hex()}` }));
  await docker.getContainer(acc.id).stop({ t: 0 }); // a stopped one too
  assert.ok(web.id && acc.id);
  await removeTestContainers(network);
  const base = `slipway.base=${network}`;
  assert.deepEqual(await docker.listContainers({ all: true, filters: { label: [base] } }), []);
  assert.deepEqual(await docker.listContainers({ all: true, filters: { label: [`slipway.project=${project}`] } }), []);
  assert.deepEqual((await docker.listNetworks({ filters: { label: [base] } })).map((n) => n.Name), []);
  assert.deepEqual((await docker.listVolumes({ filters: { label: [base] } })).Volumes ?? [], []);
});
