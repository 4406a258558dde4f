import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertHealthCheck, backendCheckLines, serverCheckOptions } from './health-check-lines';
import { renderConfig } from './render-config';

const http = { path: '/health', host: 'app.example.com', intervalMs: 1000, timeoutMs: 2000, fall: 3, rise: 2 };
const tcp = { ...http, kind: 'tcp' as const };

test('an HTTP check sends GET on the path with the Host; absent kind means HTTP', () => {
  assert.deepEqual(backendCheckLines(http), backendCheckLines({ ...http, kind: 'http' }));
  assert.ok(backendCheckLines(http).includes('  option httpchk'));
});

test('a tcp check is a connect to the server port: no option httpchk, no request sent, same server options', () => {
  assert.deepEqual(backendCheckLines(tcp), ['  timeout check 2000ms']);
  assert.equal(serverCheckOptions(tcp), serverCheckOptions(http));
  const cfg = renderConfig({
    httpPort: 8080,
    bindAddress: '127.0.0.1',
    adminSocket: '/d/admin.sock',
    mapFile: '/d/hosts.map',
    backends: [{ name: 'be_t', check: tcp, servers: [{ name: 's1', address: '10.0.0.2', port: 6379, state: 'ready' }] }],
  });
  assert.ok(
    cfg.includes(['backend be_t', '  balance roundrobin', '  timeout check 2000ms', '  server s1 10.0.0.2:6379 check inter 1000ms fall 3 rise 2 observe layer4 error-limit 3 on-error mark-down', ''].join('\n')),
    cfg,
  );
  assert.doesNotMatch(cfg, /httpchk|http-check/);
});

test('a tcp check ignores the path; an unknown kind or bad numbers are refused', () => {
  assert.doesNotThrow(() => assertHealthCheck({ ...tcp, path: '' }));
  assert.throws(() => assertHealthCheck({ ...http, path: '' }), /edge health check: path/);
  assert.throws(() => assertHealthCheck({ ...http, kind: 'exec' as 'tcp' }), /edge health check: kind "exec" must be "http" or "tcp"/);
  assert.throws(() => assertHealthCheck({ ...tcp, fall: 0 }), /edge health check: fall/);
});
