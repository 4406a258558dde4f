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

test('weights survive a reload: standby at weight 0, a ready server keeps a weight other than 1', () => {
  const cfg = renderConfig({
    ...input,
    backends: [
      {
        name: 'be_w',
        servers: [
          { name: 'blue', address: '10.0.0.2', port: 3000, state: 'standby' as const, weight: 0 },
          { name: 'canary', address: '10.0.0.3', port: 3000, state: 'ready' as const, weight: 10 },
          { name: 'green', address: '10.0.0.4', port: 3000, state: 'ready' as const, weight: 1 },
        ],
      },
    ],
  });
  assert.ok(cfg.includes(['  server blue 10.0.0.2:3000 weight 0', '  server canary 10.0.0.3:3000 weight 10', '  server green 10.0.0.4:3000', ''].join('\n')));
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

const KEY = 'k'.repeat(43);

test('request log: a ring forwarded to the control plane\'s unix socket, one JSON line per request starting with the key', () => {
  const plain = renderConfig(input);
  assert.doesNotMatch(plain, /\nring |log-format|dontlognull/, 'no request log unless asked for');
  const cfg = renderConfig({ ...input, requestLog: { socket: '/var/lib/slipway/request-log.sock', key: KEY, bufferBytes: 33554432 } });
  assert.ok(cfg.includes(['\nring slipway_requests', 'description "per-request JSON lines for the Slipway control plane"', 'format raw', 'maxlen 8192', 'size 33554432', 'timeout connect 2s', 'timeout server 30s', 'server control-plane unix@/var/lib/slipway/request-log.sock\n'].join('\n  ')));
  assert.ok(cfg.indexOf('ring slipway_requests') < cfg.indexOf('\ndefaults'), 'the ring is declared before it is used');
  assert.match(cfg, /option dontlognull\n/);
  assert.match(cfg, /\n {2}log ring@slipway_requests len 8192 format raw local0 info\n/);
  const frontend = cfg.slice(cfg.indexOf('frontend http'));
  // The id is captured after the edge sets it; the client's X-Forwarded-For before `option forwardfor` appends to it (applied after the rules).
  assert.ok(frontend.indexOf('set-header X-Request-ID') < frontend.indexOf('set-var(txn.slw_id) req.hdr(x-request-id)'));
  assert.match(frontend, /set-var\(txn\.slw_path\) path\n/);
  assert.match(frontend, /set-var\(txn\.slw_xff\) req\.fhdr\(x-forwarded-for\)\n/);
  assert.match(frontend, /set-var\(txn\.slw_cf\) req\.hdr\(cf-connecting-ip\)\n/);
  const format = /log-format '(.*)'\n/.exec(cfg)?.[1];
  assert.ok(format, 'a log-format line');
  assert.ok(format.startsWith(`${KEY} {"t":`), 'every line starts with the key and a space');
  // Every key of EdgeRequestLine, in order; client-supplied values bounded and JSON-escaped.
  assert.deepEqual([...format.matchAll(/"([a-z]+)":/g)].map((m) => m[1]), ['t', 'b', 's', 'm', 'p', 'st', 'by', 'ta', 'tr', 'ci', 'xff', 'cf', 'id', 'ts']);
  assert.match(format, /"p":"%\[var\(txn\.slw_path\),bytes\(0,512\),json\(utf8s\)\]"/);
  assert.match(format, /"xff":"%\[var\(txn\.slw_xff\),bytes\(0,256\),json\(utf8s\)\]"/);
  assert.match(format, /"t":%Ts%ms,/);
  assert.match(format, /"ta":%Ta,"tr":%Tr,/);
  assert.notEqual(structuralPart(cfg), structuralPart(plain), 'turning the log on is a structural change (adoption reloads)');
});

test('request log: a TCP listener (SLIPWAY_REQUEST_LOG_LISTEN=<ip>:<port>), IPv6 bracketed; lines carry the key there too', () => {
  assert.match(renderConfig({ ...input, requestLog: { address: '127.0.0.1', port: 7421, key: KEY, bufferBytes: 1048576 } }), /server control-plane 127\.0\.0\.1:7421\n/);
  const v6 = renderConfig({ ...input, requestLog: { address: '::1', port: 7421, key: KEY, bufferBytes: 1048576 } });
  assert.match(v6, /server control-plane \[::1\]:7421\n/);
  assert.match(v6, new RegExp(`log-format '${KEY} \\{`));
});

test('request log: a key or socket path that could break out of haproxy.cfg is refused', () => {
  assert.throws(() => renderConfig({ ...input, requestLog: { socket: '/x.sock', key: "k'\nlisten x", bufferBytes: 1048576 } }), /key must be/);
  assert.throws(() => renderConfig({ ...input, requestLog: { socket: '/a b\n.sock', key: KEY, bufferBytes: 1048576 } }), /socket path/);
  assert.throws(() => renderConfig({ ...input, requestLog: { socket: 'rel.sock', key: KEY, bufferBytes: 1048576 } }), /must be absolute/);
});

test("HAProxy's Prometheus exporter on its own frontend, only when asked for", () => {
  assert.doesNotMatch(renderConfig(input), /prometheus/);
  const cfg = renderConfig({ ...input, prometheus: { address: '127.0.0.1', port: 8405 } });
  assert.ok(cfg.includes(['frontend prometheus', '  bind 127.0.0.1:8405', '  no log', '  http-request use-service prometheus-exporter if { path /metrics }', ''].join('\n')));
  assert.match(renderConfig({ ...input, prometheus: { address: '::1', port: 8405 } }), /bind \[::1\]:8405\n/);
});

const check = { path: '/health', host: 'app.example.com', intervalMs: 500, timeoutMs: 2000, fall: 3, rise: 2 };

test('edge health checks: the backend checks its health path with the domain as Host, every server by the interval and thresholds', () => {
  const cfg = renderConfig({ ...input, backends: [{ name: 'be_c', check, servers: [{ name: 's1', address: '10.0.0.2', port: 3000, state: 'ready' }, { name: 's2', address: '10.0.0.3', port: 3000, state: 'ready', weight: 0 }] }, { name: 'be_w', servers: [] }] });
  assert.ok(
    cfg.includes(
      [
        'backend be_c',
        '  balance roundrobin',
        '  option httpchk',
        '  http-check send meth GET uri /health ver HTTP/1.1 hdr Host app.example.com',
        '  http-check expect status 200-399',
        '  timeout check 2000ms',
        '  server s1 10.0.0.2:3000 check inter 500ms fall 3 rise 2 observe layer4 error-limit 3 on-error mark-down',
        // Health is orthogonal to weight: a standby server is checked too.
        '  server s2 10.0.0.3:3000 weight 0 check inter 500ms fall 3 rise 2 observe layer4 error-limit 3 on-error mark-down',
        '',
      ].join('\n'),
    ),
    cfg,
  );
  // A backend without checks (no health config given) gets none.
  assert.ok(cfg.includes('backend be_w\n  balance roundrobin\n\n'));
  assert.equal(cfg.match(/option httpchk/g)?.length, 1);
});

test('edge health checks: a path or host that could inject config lines is refused', () => {
  for (const bad of [{ path: '/h\n  server x 1.2.3.4:1' }, { path: '/h #x' }, { path: 'health' }, { host: 'a b' }, { fall: 0 }, { intervalMs: 1.5 }]) {
    assert.throws(() => renderConfig({ ...input, backends: [{ name: 'be_c', check: { ...check, ...bad }, servers: [] }] }), /edge health check: /);
  }
});

test("a stopped service's page: every service backend answers 503 naming its service from stopped.map, only without a usable server", () => {
  const cfg = renderConfig({ ...input, stoppedMap: '/d/stopped.map' });
  const line = '  http-request return status 503 content-type "text/html; charset=utf-8" lf-string ';
  for (const be of ['be_a', 'be_b']) {
    const section = cfg.slice(cfg.indexOf(`backend ${be}\n`)).split('\n\n')[0]!;
    const rule = section.split('\n').find((l) => l.startsWith(line));
    assert.ok(rule, `backend ${be} has the rule:\n${section}`);
    assert.ok(rule.endsWith(' if { nbsrv eq 0 } { be_name,map(/d/stopped.map) -m found }'), 'only with no usable server, for a backend the map names');
    assert.match(rule, /<h1>%\[be_name,map\(\/d\/stopped\.map\)\] is stopped<\/h1>/);
    assert.match(rule, / hdr x-slipway-stopped "%\[be_name,map\(\/d\/stopped\.map\)\]" hdr cache-control no-store /);
    // Inside the quoted log-format string: no double quote or bare % that would end or break it.
    const page = /lf-string "(.*?)" hdr/.exec(rule)![1]!;
    assert.ok(!page.includes('"') && !/%(?!\[)/.test(page), page);
  }
  assert.ok(!renderConfig(input).includes('x-slipway-stopped'), 'no page without the map');
  assert.equal(structuralPart(cfg), structuralPart(renderConfig({ ...input, stoppedMap: '/d/stopped.map' })), 'which services are stopped is not in the config: the map holds it');
});
