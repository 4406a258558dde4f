import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requestMetricsConfig } from './request-metrics-config';

test('defaults: listener on a unix socket in the data directory, 32 MiB ring, 10k recent requests, 200 routes, 14 days, 5 s flushes, no trusted proxy', () => {
  const c = requestMetricsConfig({});
  assert.deepEqual(c.listen, { socket: null });
  assert.equal(c.bufferBytes, 33554432);
  assert.equal(c.recentPerService, 10_000);
  assert.equal(c.maxRoutesPerService, 200);
  assert.equal(c.retentionMs, 14 * 86_400_000);
  assert.equal(c.flushIntervalMs, 5000);
  assert.deepEqual(c.trustedProxies.cidrs, []);
});

test('every variable is read and checked, the error names it', () => {
  const c = requestMetricsConfig({
    SLIPWAY_REQUEST_LOG_LISTEN: '[::1]:9000',
    SLIPWAY_REQUEST_LOG_BUFFER: '1048576',
    SLIPWAY_TRUSTED_PROXIES: '10.0.0.0/8',
    SLIPWAY_RECENT_REQUESTS: '50',
    SLIPWAY_ROUTES_PER_SERVICE: '20',
    SLIPWAY_METRICS_RETENTION: '2d',
    SLIPWAY_METRICS_FLUSH_INTERVAL: '1s',
  });
  assert.deepEqual(c.listen, { host: '::1', port: 9000 });
  assert.equal(c.bufferBytes, 1048576);
  assert.ok(c.trustedProxies.has('10.1.1.1'));
  assert.equal(c.recentPerService, 50);
  assert.equal(c.maxRoutesPerService, 20);
  assert.equal(c.retentionMs, 2 * 86_400_000);
  assert.equal(c.flushIntervalMs, 1000);
  assert.equal(requestMetricsConfig({ SLIPWAY_REQUEST_LOG_LISTEN: 'off' }).listen, null);
  assert.deepEqual(requestMetricsConfig({ SLIPWAY_REQUEST_LOG_LISTEN: 'unix' }).listen, { socket: null });
  assert.deepEqual(requestMetricsConfig({ SLIPWAY_REQUEST_LOG_LISTEN: '/run/slipway/rl.sock' }).listen, { socket: '/run/slipway/rl.sock' });
  assert.deepEqual(requestMetricsConfig({ SLIPWAY_REQUEST_LOG_LISTEN: '127.0.0.1:7421' }).listen, { host: '127.0.0.1', port: 7421 });
  const bad: Array<[string, string]> = [
    ['SLIPWAY_REQUEST_LOG_LISTEN', 'localhost:7421'],
    ['SLIPWAY_REQUEST_LOG_LISTEN', '127.0.0.1'],
    ['SLIPWAY_REQUEST_LOG_LISTEN', '127.0.0.1:70000'],
    ['SLIPWAY_REQUEST_LOG_LISTEN', 'unix:rel.sock'],
    ['SLIPWAY_REQUEST_LOG_LISTEN', '/tmp/a b.sock'],
    ['SLIPWAY_REQUEST_LOG_LISTEN', `/${'x'.repeat(107)}`],
    ['SLIPWAY_REQUEST_LOG_BUFFER', '10'],
    ['SLIPWAY_RECENT_REQUESTS', '0'],
    ['SLIPWAY_ROUTES_PER_SERVICE', 'x'],
    ['SLIPWAY_METRICS_RETENTION', '10m'],
    ['SLIPWAY_METRICS_FLUSH_INTERVAL', 'soon'],
    ['SLIPWAY_TRUSTED_PROXIES', '10.0.0.0/40'],
  ];
  for (const [name, value] of bad) assert.throws(() => requestMetricsConfig({ [name]: value }), new RegExp(name), `${name}=${value}`);
});
