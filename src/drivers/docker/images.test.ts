import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitImageTag } from './images';

test('image references split into repository and tag', () => {
  assert.deepEqual(splitImageTag('slipway/node:20'), { repo: 'slipway/node', tag: '20' });
  assert.deepEqual(splitImageTag('slipway/node'), { repo: 'slipway/node', tag: 'latest' });
  assert.deepEqual(splitImageTag('registry.local:5000/app'), { repo: 'registry.local:5000/app', tag: 'latest' });
  assert.deepEqual(splitImageTag('registry.local:5000/app:v2'), { repo: 'registry.local:5000/app', tag: 'v2' });
  assert.throws(() => splitImageTag('app@sha256:abc'), /digest/);
});
