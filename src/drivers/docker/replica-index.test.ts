import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Replica } from '../../core/ports/runtime';
import { changesReplicas, matchesFilter } from './replica-index';

const NET = 'slipway';

test('replica events change the listing; health-probe execs and other containers do not', () => {
  const ours = { 'slipway.project': 'shop', name: 'shop-web-1' };
  assert.equal(changesReplicas({ Type: 'container', Action: 'start', Actor: { Attributes: ours } }, NET), true);
  assert.equal(changesReplicas({ Type: 'container', Action: 'health_status: healthy', Actor: { Attributes: ours } }, NET), true);
  assert.equal(changesReplicas({ Type: 'container', Action: 'exec_start: /bin/check', Actor: { Attributes: ours } }, NET), false);
  assert.equal(changesReplicas({ Type: 'container', Action: 'die', Actor: { Attributes: { name: 'someone-else' } } }, NET), false);
  assert.equal(changesReplicas({ Type: 'network', Action: 'connect', Actor: { Attributes: { name: NET, container: 'abc' } } }, NET), true);
  assert.equal(changesReplicas({ Type: 'network', Action: 'connect', Actor: { Attributes: { name: 'bridge', container: 'abc' } } }, NET), false);
  assert.equal(changesReplicas({ Type: 'image', Action: 'tag' }, NET), false);
});

test('environment networks count; accessories and one-offs never do; an OOM kill does', () => {
  assert.equal(changesReplicas({ Type: 'network', Action: 'connect', Actor: { Attributes: { name: `${NET}_shop_production`, container: 'abc' } } }, NET), true);
  // `<base>-…` is another Slipway's base network (tests run several), not one of our environment networks.
  assert.equal(changesReplicas({ Type: 'network', Action: 'connect', Actor: { Attributes: { name: `${NET}-shop-production`, container: 'abc' } } }, NET), false);
  assert.equal(changesReplicas({ Type: 'network', Action: 'disconnect', Actor: { Attributes: { name: `${NET}x_shop_production`, container: 'abc' } } }, NET), false);
  assert.equal(changesReplicas({ Type: 'network', Action: 'create', Actor: { Attributes: { name: `${NET}_shop_production` } } }, NET), false);
  const accessory = { 'slipway.accessory.project': 'shop', 'slipway.accessory.name': 'db', 'slipway.base': NET };
  assert.equal(changesReplicas({ Type: 'container', Action: 'start', Actor: { Attributes: accessory } }, NET), false);
  assert.equal(changesReplicas({ Type: 'container', Action: 'oom', Actor: { Attributes: accessory } }, NET), false);
  assert.equal(changesReplicas({ Type: 'container', Action: 'start', Actor: { Attributes: { 'slipway.run.project': 'shop' } } }, NET), false);
  assert.equal(changesReplicas({ Type: 'container', Action: 'oom', Actor: { Attributes: { 'slipway.project': 'shop' } } }, NET), true);
});

test('filters match every given label field', () => {
  const r = { labels: { project: 'shop', service: 'web', env: 'production', release: 3, deployment: 'd1' } } as Replica;
  assert.equal(matchesFilter(r, {}), true);
  assert.equal(matchesFilter(r, { project: 'shop', env: 'production' }), true);
  assert.equal(matchesFilter(r, { project: 'shop', release: 3, deployment: 'd1', service: 'web' }), true);
  assert.equal(matchesFilter(r, { project: 'shop', env: 'staging' }), false);
  assert.equal(matchesFilter(r, { release: 2 }), false);
  assert.equal(matchesFilter(r, { service: 'worker' }), false);
});
