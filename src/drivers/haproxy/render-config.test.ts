import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderConfig, renderMap } from './render-config';

const input = {
  httpPort: 8080,
  bindAddress: '127.0.0.1',
  adminSocket: '/d/admin.sock',
  mapFile: '/d/hosts.map',
  backends: [
    {
      name: 'be_b',
      servers: [
        { name: 's1', address: '10.0.0.2', port: 3000, state: 'ready' as const },
        { name: 's2', address: '10.0.0.3', port: 3000, state: 'drain' as const },
        { name: 's3', address: '10.0.0.4', port: 3000, state: 'maint' as const },
      ],
    },
    { name: 'be_a', servers: [] },
  ],
};

test('the config keeps servers with their state, retries on vanished replicas, routes by host map', () => {
  const cfg = renderConfig(input);
  assert.match(cfg, /bind 127\.0\.0\.1:8080/);
  assert.match(cfg, /stats socket \/d\/admin\.sock mode 600 level admin expose-fd listeners/);
  assert.match(cfg, /retry-on conn-failure empty-response/);
  assert.match(cfg, /option redispatch 1/);
  assert.match(cfg, /option idle-close-on-response/);
  assert.match(cfg, /use_backend %\[req\.hdr\(host\),lower,word\(1,:\),map\(\/d\/hosts\.map\)\]/);
  assert.match(cfg, /X-Request-ID/);
  assert.match(cfg, /server s1 10\.0\.0\.2:3000\n/);
  assert.match(cfg, /server s2 10\.0\.0\.3:3000 weight 0\n/);
  assert.match(cfg, /server s3 10\.0\.0\.4:3000 disabled\n/);
  assert.ok(cfg.indexOf('backend be_a') < cfg.indexOf('backend be_b'), 'backends in a stable order');
  assert.equal(renderConfig(input), cfg, 'deterministic');
});

test('the host map lists every host of every backend', () => {
  assert.equal(renderMap([{ name: 'be_a', hosts: ['b.localhost', 'a.localhost'] }, { name: 'be_c', hosts: [] }]), 'a.localhost be_a\nb.localhost be_a\n');
  assert.equal(renderMap([]), '');
});
