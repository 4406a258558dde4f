import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isOurs, replicaContainerOptions } from './replicas';

const labels = { 'slipway.project': 'shop', 'slipway.service': 'web', 'slipway.env': 'production', 'slipway.release': '3', 'slipway.deployment': 'd1' };
const networks = (...names: string[]) => ({ Networks: Object.fromEntries(names.map((n) => [n, {}])) }) as never;

test('a replica is ours by its base label; two Slipways on one host never see each other\'s', () => {
  assert.equal(isOurs({ Labels: { ...labels, 'slipway.replica.base': 'slipway' }, NetworkSettings: networks('slipway_shop_production') }, 'slipway'), true);
  assert.equal(isOurs({ Labels: { ...labels, 'slipway.replica.base': 'slipway-test-a' }, NetworkSettings: networks('slipway-test-a_shop_production') }, 'slipway'), false, 'same project names, another base');
});

test('a replica started before replicas carried the label is ours by its network: the base one or its environment\'s', () => {
  // An image label of the same name as the base network's (the offline base images' `slipway.base`) is not an owner.
  assert.equal(isOurs({ Labels: labels, NetworkSettings: networks('slipway') }, 'slipway'), true, 'from before environment networks');
  assert.equal(isOurs({ Labels: { ...labels, 'slipway.base': 'node' }, NetworkSettings: networks('slipway_shop_production') }, 'slipway'), true, "the base image's own label, inherited, says nothing of the owner");
  assert.equal(isOurs({ Labels: labels, NetworkSettings: networks('slipway_shop_production') }, 'slipway'), true);
  assert.equal(isOurs({ Labels: labels, NetworkSettings: networks('slipway_x_shop_production') }, 'slipway'), false, "another base's environment network that starts like ours");
  assert.equal(isOurs({ Labels: labels, NetworkSettings: networks('slipway_other_production') }, 'slipway'), false, "the network of another project's environment");
  assert.equal(isOurs({ Labels: labels, NetworkSettings: networks() }, 'slipway'), false);
});

test('a replica is created with its base label', () => {
  const spec = { server: 'local', name: 'shop-web-production-v3-abc', image: 'sha256:x', env: {}, port: 3000, labels: { project: 'shop', service: 'web', env: 'production', release: 3, deployment: 'd1' } };
  const options = replicaContainerOptions(spec, 'slipway-test-a', 'slipway-test-a_shop_production');
  assert.equal(options.Labels?.['slipway.replica.base'], 'slipway-test-a');
  assert.equal(options.Labels?.['slipway.project'], 'shop');
});
