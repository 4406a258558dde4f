import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerAddress, createdKey } from './env-network';

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
