import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderConfig } from './render-config';
import { hstsEntries, redirectEntries, renderMapFile } from './edge-certificates';

const base = { httpPort: 8080, bindAddress: '127.0.0.1', adminSocket: '/d/admin.sock', mapFile: '/d/hosts.map', backends: [{ name: 'be_a', servers: [] }] };
const https = { port: 8443, defaultCert: '/d/tls/default.pem', crtList: '/d/tls/crt-list.txt', redirectMap: '/d/redirect.map', hstsMap: '/d/hsts.map' };

test('HTTPS: a TLS listener (default cert, crt-list, h2), TLS 1.2+ with forward-secret ciphers, redirect and HSTS from runtime maps', () => {
  const cfg = renderConfig({ ...base, https, control: { address: '127.0.0.1', port: 7420 } });
  assert.match(cfg, /\n {2}bind 127\.0\.0\.1:8443 ssl crt \/d\/tls\/default\.pem crt-list \/d\/tls\/crt-list\.txt alpn h2,http\/1\.1\n/);
  assert.match(cfg, /ssl-default-bind-options ssl-min-ver TLSv1\.2 no-tls-tickets/);
  assert.match(cfg, /ssl-default-bind-ciphers ECDHE-ECDSA-AES128-GCM-SHA256:/);
  assert.ok(!/ssl-default-bind-ciphers [^\n]*(CBC|RSA-AES128-SHA|DES|RC4)/.test(cfg), 'no CBC, static-RSA or legacy ciphers');
  assert.match(cfg, /http-request redirect location https:\/\/%\[req\.hdr\(host\),lower,word\(1,:\)\]:8443%\[capture\.req\.uri\] code 301 if !\{ ssl_fc \} !acme_challenge \{ req\.hdr\(host\),lower,word\(1,:\),map\(\/d\/redirect\.map\) -m found \}/);
  assert.match(cfg, /http-request set-var\(txn\.hsts\) req\.hdr\(host\),lower,word\(1,:\),map\(\/d\/hsts\.map\) if \{ ssl_fc \}/);
  assert.match(cfg, /http-response set-header Strict-Transport-Security %\[var\(txn\.hsts\)\] if \{ var\(txn\.hsts\) -m found \}/);
  assert.match(cfg, /X-Forwarded-Proto https if \{ ssl_fc \}/);
  assert.match(cfg, /X-Forwarded-Proto http if !\{ ssl_fc \}/);
  // Challenges reach the control plane for any host, before the unknown-host 404.
  const acme = cfg.indexOf('use_backend slipway_control if acme_challenge');
  assert.ok(acme > 0 && acme < cfg.indexOf('use_backend %['));
  assert.match(cfg, /-m found \} \|\| acme_challenge\n/);
  assert.match(cfg, /backend slipway_control\n {2}http-request return status 404 [^\n]* if \{ path \/metrics \}\n {2}server control 127\.0\.0\.1:7420\n/);
});

test('on port 443 the redirect names no port; without HTTPS the app is still told the scheme', () => {
  assert.match(renderConfig({ ...base, https: { ...https, port: 443 } }), /redirect location https:\/\/%\[req\.hdr\(host\),lower,word\(1,:\)\]%\[capture\.req\.uri\] code 301 if !\{ ssl_fc \} \{/);
  const plain = renderConfig(base);
  assert.ok(!plain.includes('ssl'), 'no TLS lines');
  assert.match(plain, /http-request set-header X-Forwarded-Proto http\n/);
});

test('redirects: on by default for publicly trusted certificates, off for the local CA unless asked; never without a covering certificate', () => {
  const certs = [
    { name: 'shop.example.com', hosts: ['shop.example.com'], redirectByDefault: true },
    { name: 'wildcard_.example.org', hosts: ['*.example.org'], redirectByDefault: true },
    { name: 'app.localhost', hosts: ['app.localhost'], redirectByDefault: false },
  ];
  const backends = [
    { name: 'be_shop', hosts: ['shop.example.com', 'www.shop.example.com'] },
    { name: 'be_org', hosts: ['a.example.org', 'a.b.example.org'] },
    { name: 'be_dev', hosts: ['app.localhost'] },
    { name: 'be_forced', hosts: ['app.localhost'], https: { redirect: true, hsts: null } },
    { name: 'be_optout', hosts: ['shop.example.com'], https: { redirect: false, hsts: 'max-age=60' } },
  ];
  assert.deepEqual([...redirectEntries(backends.slice(0, 3), certs).keys()], ['shop.example.com', 'a.example.org']);
  assert.deepEqual([...redirectEntries([backends[3]!], certs).keys()], ['app.localhost']);
  assert.deepEqual([...redirectEntries([backends[4]!], certs).keys()], []);
  assert.deepEqual([...hstsEntries(backends, certs)], [['shop.example.com', 'max-age=60']]);
  assert.equal(renderMapFile(new Map([['b.example', 'max-age=1; includeSubDomains'], ['a.example', '1']])), 'a.example 1\nb.example max-age=1; includeSubDomains\n');
});
