import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseListenAddress, parseRequestLogListen } from './request-metrics-config';

// The other request-metrics settings (ring size, retention…) are read with every setting of
// `slipway server`: src/control-plane/read-settings.test.ts.

test('the request-log listener: a unix socket in the data directory by default, a socket path, <ip>:<port>, or off', () => {
  assert.deepEqual(parseRequestLogListen(undefined), { socket: null });
  assert.deepEqual(parseRequestLogListen('unix'), { socket: null });
  assert.equal(parseRequestLogListen('off'), null);
  assert.deepEqual(parseRequestLogListen('/run/slipway/rl.sock'), { socket: '/run/slipway/rl.sock' });
  assert.deepEqual(parseRequestLogListen('127.0.0.1:7421'), { host: '127.0.0.1', port: 7421 });
  assert.deepEqual(parseRequestLogListen('[::1]:9000'), { host: '::1', port: 9000 });
  for (const bad of ['localhost:7421', '127.0.0.1', '127.0.0.1:70000', 'unix:rel.sock', '/tmp/a b.sock', `/${'x'.repeat(107)}`]) {
    assert.throws(() => parseRequestLogListen(bad), /^Error: SLIPWAY_REQUEST_LOG_LISTEN: /, bad);
  }
  assert.throws(() => parseRequestLogListen('nowhere', '--request-log-listen'), /^Error: --request-log-listen: expected unix/);
});

test('a listen address names the variable it came from', () => {
  assert.deepEqual(parseListenAddress('127.0.0.1:8405', 'SLIPWAY_EDGE_PROMETHEUS'), { host: '127.0.0.1', port: 8405 });
  assert.equal(parseListenAddress('off', 'SLIPWAY_EDGE_PROMETHEUS'), null);
  assert.throws(() => parseListenAddress('8405', 'SLIPWAY_EDGE_PROMETHEUS'), /SLIPWAY_EDGE_PROMETHEUS: expected <ip>:<port>/);
});
