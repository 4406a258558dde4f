import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderConfig, renderMap, structuralPart } from './render-config';

const input = {
  httpPort: 8080,
  bindAddress: '127.0.0.1',
  adminSocket: '/d/admin.sock',
  mapFile: '/d/hosts.map',
  backends: [
    {
      name: 'be_b',
      servers: [
        { name: 's2', address: '10.0.0.3', port: 3000, state: 'drain' as const },
        { name: 's1', address: '10.0.0.2', port: 3000, state: 'ready' as const },
        { name: 's3', address: '10.0.0.4', port: 3000, state: 'maint' as const },
        { name: 's4', address: 'fd00::4', port: 3000, state: 'ready' as const },
      ],
    },
    { name: 'be_a', servers: [] },
  ],
};

test('the config: admin socket for seamless reloads, retries on vanished replicas, host map routing, request ids', () => {
  const cfg = renderConfig(input);
  assert.ok(cfg.includes('\nglobal\n  master-worker\n'));
  assert.match(cfg, /bind 127\.0\.0\.1:8080\n/);
  assert.match(cfg, /stats socket \/d\/admin\.sock mode 600 level admin expose-fd listeners\n/);
  assert.match(cfg, /hard-stop-after 60s/);
  assert.match(cfg, /mode http/);
  assert.match(cfg, /retries 3\n/);
  assert.match(cfg, /option redispatch 1\n/);
  assert.match(cfg, /retry-on conn-failure empty-response\n/);
  assert.match(cfg, /http-reuse safe\n/);
  assert.match(cfg, /timeout connect 2s\n/);
  assert.match(cfg, /timeout client 60s\n/);
  assert.match(cfg, /timeout server 60s\n/);
  assert.match(cfg, /timeout http-keep-alive 10s\n/);
  assert.match(cfg, /option idle-close-on-response/);
  assert.match(cfg, /use_backend %\[req\.hdr\(host\),lower,word\(1,:\),map\(\/d\/hosts\.map\)\]/);
  assert.match(cfg, /http-request return status 404 .* unless \{ req\.hdr\(host\),lower,word\(1,:\),map\(\/d\/hosts\.map\) -m found \}/);
  assert.match(cfg, /http-request set-header X-Request-ID %\[uuid\] unless \{ req\.hdr\(x-request-id\) -m found \}/);
  assert.equal(cfg.match(/balance roundrobin/g)?.length, 2);
});

test('servers are rendered with their state, in a stable order', () => {
  const cfg = renderConfig(input);
  assert.ok(
    cfg.includes(
      [
        'backend be_b',
        '  balance roundrobin',
        '  server s1 10.0.0.2:3000',
        '  server s2 10.0.0.3:3000 weight 0',
        '  server s3 10.0.0.4:3000 disabled',
        '  server s4 [fd00::4]:3000',
        '',
      ].join('\n'),
    ),
  );
  assert.ok(cfg.indexOf('backend be_a') < cfg.indexOf('backend be_b'), 'backends sorted by name');
  assert.equal(renderConfig({ ...input, backends: [...input.backends].reverse() }), cfg, 'deterministic');
});

test('an IPv6 bind address is bracketed', () => {
  assert.match(renderConfig({ ...input, bindAddress: '::' }), /bind \[::\]:8080\n/);
});

test('the structural part ignores servers only', () => {
  const withServers = renderConfig(input);
  const without = renderConfig({ ...input, backends: input.backends.map((b) => ({ ...b, servers: [] })) });
  assert.equal(structuralPart(withServers), structuralPart(without));
  assert.notEqual(structuralPart(renderConfig({ ...input, httpPort: 8081 })), structuralPart(without));
});

test('the host map lists every host of every backend, sorted', () => {
  assert.equal(renderMap([{ name: 'be_a', hosts: ['b.localhost', 'a.localhost'] }, { name: 'be_c', hosts: [] }]), 'a.localhost be_a\nb.localhost be_a\n');
  assert.equal(renderMap([]), '');
});
