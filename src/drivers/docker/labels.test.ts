import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromDockerLabels, labelFilters, oneOffLabels, portFromDockerLabels, toDockerLabels } from './labels';

const labels = { project: 'shop', service: 'web', env: 'production', release: 7, deployment: 'd1' };

test('replica labels round-trip through Docker labels', () => {
  const docker = toDockerLabels(labels, 3000);
  assert.deepEqual(docker, {
    'slipway.project': 'shop',
    'slipway.service': 'web',
    'slipway.env': 'production',
    'slipway.release': '7',
    'slipway.deployment': 'd1',
    'slipway.port': '3000',
  });
  assert.deepEqual(fromDockerLabels(docker), labels);
  assert.equal(portFromDockerLabels(docker), 3000);
});

test('a replica\'s slot round-trips as slipway.slot; absent (a replica from before slots) or malformed reads as none', () => {
  const docker = toDockerLabels({ ...labels, slot: 2 }, 3000);
  assert.equal(docker['slipway.slot'], '2');
  assert.deepEqual(fromDockerLabels(docker), { ...labels, slot: 2 });
  assert.deepEqual(fromDockerLabels({ ...docker, 'slipway.slot': '0' }), { ...labels, slot: 0 });
  assert.equal('slot' in fromDockerLabels(toDockerLabels(labels, 3000))!, false);
  assert.equal('slot' in fromDockerLabels({ ...docker, 'slipway.slot': 'x' })!, false);
});

test('incomplete or malformed labels are not a replica', () => {
  assert.equal(fromDockerLabels({ 'slipway.project': 'x' }), null);
  assert.equal(fromDockerLabels({ ...toDockerLabels(labels, 3000), 'slipway.release': 'v7' }), null);
  assert.equal(fromDockerLabels({ ...toDockerLabels(labels, 3000), 'slipway.release': '' }), null);
  assert.equal(portFromDockerLabels({}), 0);
});

test('filters always restrict to Slipway replicas and combine with AND', () => {
  assert.deepEqual(labelFilters({}), ['slipway.project']);
  assert.deepEqual(labelFilters({ project: 'shop', service: 'web', release: 2 }), ['slipway.project=shop', 'slipway.service=web', 'slipway.release=2']);
  assert.deepEqual(labelFilters({ deployment: 'd9', env: 'staging', release: 0 }), ['slipway.project', 'slipway.env=staging', 'slipway.release=0', 'slipway.deployment=d9']);
});

test('one-off containers never carry replica labels', () => {
  const l = oneOffLabels(labels, 'release');
  assert.equal(fromDockerLabels(l), null);
  assert.equal(l['slipway.run.kind'], 'release');
});
