import assert from 'node:assert/strict';
import { test } from 'node:test';
import type Docker from 'dockerode';
import pino from 'pino';
import { SlipwayError } from '../../core/errors';
import { EnvNetworks, containerAddress, createdKey, envNetworkName } from './env-network';
import { parseCidr } from './subnet-pool';

test('creation times sort by time although Docker drops trailing zeros of the nanoseconds', () => {
  const times = ['2026-12-07T06:00:00.12345678Z', '2026-12-07T06:00:00.1234567Z', '2026-12-07T06:00:00Z', '2026-12-07T06:00:01.5Z'];
  assert.deepEqual([...times].sort((a, b) => createdKey(a).localeCompare(createdKey(b))), [times[2], times[1], times[0], times[3]]);
});

test('a container is found at its environment network address, else the base network, else any', () => {
  const nets = { slipway: { IPAddress: '172.18.0.5' }, 'slipway-shop-production': { IPAddress: '10.213.0.7' }, other: { IPAddress: '10.9.9.9' } };
  assert.equal(containerAddress(nets, ['slipway-shop-production', 'slipway']), '10.213.0.7');
  assert.equal(containerAddress({ slipway: nets.slipway, other: nets.other }, ['slipway-shop-production', 'slipway']), '172.18.0.5');
  assert.equal(containerAddress({ other: nets.other }, ['slipway-shop-production', 'slipway']), '10.9.9.9');
  assert.equal(containerAddress({ x: { IPAddress: '' } }, ['x']), null);
  assert.equal(containerAddress(undefined, ['x']), null);
});

// ---- names that cannot collide, and no adopting a network that is not this environment's ----


test('environment network names never collide although project and environment names contain "-"', () => {
  assert.equal(envNetworkName('slipway', 'shop', 'production'), 'slipway_shop_production');
  assert.notEqual(envNetworkName('slipway', 'shop', 'preview-x'), envNetworkName('slipway', 'shop-preview', 'x'));
  // Every distinct (project, env) of dashed names gets its own name, whatever the base.
  const parts = ['a', 'b', 'a-b', 'b-a', 'a-b-a'];
  for (const base of ['slipway', 'slipway-test-1', 'slip_way']) {
    const names = new Set(parts.flatMap((p) => parts.map((e) => envNetworkName(base, p, e))));
    assert.equal(names.size, parts.length * parts.length, base);
  }
});

interface FakeNetwork { Id: string; Name: string; Driver: string; Labels: Record<string, string> | null }

/** Just enough of dockerode's network calls; `onCreate` can play another process creating the name first. */
function fakeDocker(existing: FakeNetwork[], onCreate?: (opts: { Name: string }, networks: Map<string, FakeNetwork>) => void) {
  const networks = new Map(existing.map((n) => [n.Name, n]));
  const created: Array<{ Name: string; Labels: Record<string, string> }> = [];
  const removed: string[] = [];
  const notFound = () => Object.assign(new Error('(HTTP code 404) no such network'), { statusCode: 404 });
  const docker = {
    getNetwork: (name: string) => ({
      inspect: async () => networks.get(name) ?? Promise.reject(notFound()),
      remove: async () => {
        if (!networks.delete(name)) throw notFound();
        removed.push(name);
      },
    }),
    listNetworks: async () => [...networks.values()].map((n) => ({ ...n, Created: '2026-12-07T06:00:00Z', IPAM: { Config: [] } })),
    createNetwork: async (opts: { Name: string; Driver: string; Labels: Record<string, string> }) => {
      onCreate?.(opts, networks);
      if (networks.has(opts.Name)) throw Object.assign(new Error(`network with name ${opts.Name} already exists`), { statusCode: 409 });
      created.push(opts);
      networks.set(opts.Name, { Id: `id-${opts.Name}`, Name: opts.Name, Driver: opts.Driver, Labels: opts.Labels });
      return { id: `id-${opts.Name}` };
    },
  } as unknown as Docker;
  return { docker, created, removed };
}

const envNetworks = (docker: Docker) => new EnvNetworks({ docker, base: 'slipway', pool: parseCidr('10.213.0.0/16')!, logger: pino({ level: 'silent' }) });
const labelsOf = (project: string, env: string, base = 'slipway') => ({ 'slipway.managed': 'true', 'slipway.base': base, 'slipway.network.project': project, 'slipway.network.env': env });
const runtimeError = (pattern: RegExp) => (err: unknown) => err instanceof SlipwayError && err.code === 'SLW_RUNTIME' && pattern.test(err.message);

test('a missing environment network is created with its labels; an existing one of this environment is used', async () => {
  const fake = fakeDocker([]);
  assert.equal(await envNetworks(fake.docker).ensure('shop', 'preview-x'), 'slipway_shop_preview-x');
  assert.deepEqual(fake.created.map((c) => [c.Name, c.Labels]), [['slipway_shop_preview-x', labelsOf('shop', 'preview-x')]]);
  // A new process (empty cache) finds it and creates nothing.
  const again = fakeDocker([{ Id: 'n1', Name: 'slipway_shop_preview-x', Driver: 'bridge', Labels: labelsOf('shop', 'preview-x') }]);
  assert.equal(await envNetworks(again.docker).ensure('shop', 'preview-x'), 'slipway_shop_preview-x');
  assert.equal(again.created.length, 0);
});

test('a network of the name that Slipway did not create is refused, saying how to get rid of it', async () => {
  const fake = fakeDocker([{ Id: 'n1', Name: 'slipway_shop_production', Driver: 'bridge', Labels: { team: 'ops' } }]);
  await assert.rejects(envNetworks(fake.docker).ensure('shop', 'production'), runtimeError(/docker network slipway_shop_production already exists but was not created by Slipway.*`docker network rm slipway_shop_production`/));
  assert.equal(fake.created.length, 0);
  const unlabelled = fakeDocker([{ Id: 'n1', Name: 'slipway_shop_production', Driver: 'bridge', Labels: null }]);
  await assert.rejects(envNetworks(unlabelled.docker).ensure('shop', 'production'), runtimeError(/not created by Slipway/));
});

test("another environment's or another Slipway's network of the name is refused, naming whose it is", async () => {
  const other = fakeDocker([{ Id: 'n1', Name: 'slipway_shop_production', Driver: 'bridge', Labels: labelsOf('shop', 'staging') }]);
  await assert.rejects(envNetworks(other.docker).ensure('shop', 'production'), runtimeError(/network slipway_shop_production belongs to project shop environment staging .*not to project shop environment production/));
  const otherBase = fakeDocker([{ Id: 'n1', Name: 'slipway_shop_production', Driver: 'bridge', Labels: labelsOf('shop', 'production', 'slipway-2') }]);
  await assert.rejects(envNetworks(otherBase.docker).ensure('shop', 'production'), runtimeError(/of the Slipway with base network slipway-2/));
});

test('a network of the name created by someone else between our look and our create is refused too', async () => {
  const fake = fakeDocker([], (opts, networks) => networks.set(opts.Name, { Id: 'r1', Name: opts.Name, Driver: 'bridge', Labels: null }));
  await assert.rejects(envNetworks(fake.docker).ensure('shop', 'production'), runtimeError(/slipway_shop_production already exists but was not created by Slipway/));
  assert.equal(fake.created.length, 0);
});

test('removing an environment network leaves a network of the name that is not its own alone', async () => {
  const foreign = fakeDocker([{ Id: 'n1', Name: 'slipway_shop_production', Driver: 'bridge', Labels: { team: 'ops' } }]);
  await envNetworks(foreign.docker).remove('shop', 'production');
  assert.deepEqual(foreign.removed, []);
  const own = fakeDocker([{ Id: 'n1', Name: 'slipway_shop_production', Driver: 'bridge', Labels: labelsOf('shop', 'production') }]);
  await envNetworks(own.docker).remove('shop', 'production');
  assert.deepEqual(own.removed, ['slipway_shop_production']);
  await envNetworks(own.docker).remove('shop', 'production'); // already gone: fine
});
