import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reconnectWindowMs } from './follow-deployment';

test('SLIPWAY_CLI_RECONNECT_SECONDS: 30 s by default, seconds when set, a clear error naming it otherwise', () => {
  assert.equal(reconnectWindowMs({}), 30_000);
  assert.equal(reconnectWindowMs({ SLIPWAY_CLI_RECONNECT_SECONDS: '2.5' }), 2500);
  assert.equal(reconnectWindowMs({ SLIPWAY_CLI_RECONNECT_SECONDS: '0' }), 0);
  for (const bad of ['soon', '-1', '99999']) {
    assert.throws(() => reconnectWindowMs({ SLIPWAY_CLI_RECONNECT_SECONDS: bad }), new RegExp(`SLIPWAY_CLI_RECONNECT_SECONDS: expected a number of seconds from 0 to 3600, got "${bad}"`));
  }
});
