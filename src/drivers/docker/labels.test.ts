import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromDockerLabels, labelFilters, toDockerLabels } from './labels';

test('labels round-trip and filters always restrict to Slipway replicas', () => {
  const labels = { project: 'shop', service: 'web', env: 'production', release: 7, deployment: 'd1' };
  const docker = toDockerLabels(labels, 3000);
  assert.equal(docker['slipway.release'], '7');
  assert.deepEqual(fromDockerLabels(docker), labels);
  assert.equal(fromDockerLabels({ 'slipway.project': 'x' }), null);
  assert.deepEqual(labelFilters({}), ['slipway.project']);
  assert.deepEqual(labelFilters({ project: 'shop', service: 'web', release: 2 }), ['slipway.project=shop', 'slipway.service=web', 'slipway.release=2']);
});
