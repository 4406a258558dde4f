import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { EDGE_CLIENT_MAX_BODY } from '../../core/ports/edge-client';
import { createSelfSigned } from '../tls/self-signed';
import { edgeAddressFor, httpEdgeClient } from './edge-client';

/** Stands in for the edge: answers by Host and path, as the routes would. */
const seen: Array<{ host: string | undefined; path: string | undefined; ua: string | undefined; tls: boolean }> = [];
function handler(tls: boolean): http.RequestListener {
  return (req, res) => {
    seen.push({ host: req.headers.host, path: req.url, ua: req.headers['user-agent'], tls });
    if (req.url === '/big') return res.end('x'.repeat(EDGE_CLIENT_MAX_BODY * 2));
    if (req.url === '/slow') return setTimeout(() => res.end('late'), 2000);
    if (req.url === '/secure' && !tls) return res.writeHead(308, { location: `https://${req.headers.host}/secure?x=1` }).end();
    if (req.url === '/elsewhere') return res.writeHead(302, { location: 'https://other.example.com/' }).end();
    if (req.headers.host !== 'shop.example.com') return res.writeHead(404).end('no route');
    res.writeHead(req.url === '/api/health' ? 500 : 200).end(`${tls ? 'tls' : 'plain'} ${req.url}`);
  };
}
const plain = http.createServer(handler(false));
let secure: https.Server;
let httpPort = 0;
let httpsPort = 0;

before(async () => {
  const { certPem, keyPem } = await createSelfSigned('shop.example.com');
  secure = https.createServer({ cert: certPem, key: keyPem }, handler(true));
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => secure.listen(0, '127.0.0.1', r));
  httpPort = (plain.address() as AddressInfo).port;
  httpsPort = (secure.address() as AddressInfo).port;
});
after(() => {
  plain.closeAllConnections();
  plain.close();
  secure.closeAllConnections();
  secure.close();
});

test('a GET to the edge with the domain as Host: status and body, whatever the status', async () => {
  const client = httpEdgeClient({ bind: '0.0.0.0', httpPort, httpsPort: null });
  const ok = await client.get({ host: 'shop.example.com', path: '/?a=1', timeoutMs: 1000 });
  assert.deepEqual([ok.status, ok.body, ok.error], [200, 'plain /?a=1', null]);
  assert.deepEqual(seen.at(-1), { host: 'shop.example.com', path: '/?a=1', ua: 'slipway-smoke', tls: false });
  const failing = await client.get({ host: 'shop.example.com', path: '/api/health', timeoutMs: 1000 });
  assert.equal(failing.status, 500);
  assert.equal((await client.get({ host: 'unknown.example.com', path: '/', timeoutMs: 1000 })).status, 404);
  const big = await client.get({ host: 'shop.example.com', path: '/big', timeoutMs: 1000 });
  assert.equal(big.body.length, EDGE_CLIENT_MAX_BODY, 'at most 64 KiB of the body is kept');
});

test('no answer: a timeout or a refused connection is status null with the reason', async () => {
  const client = httpEdgeClient({ bind: '127.0.0.1', httpPort, httpsPort: null });
  const slow = await client.get({ host: 'shop.example.com', path: '/slow', timeoutMs: 200 });
  assert.deepEqual([slow.status, slow.error], [null, 'timed out after 200 ms']);
  assert.ok(slow.durationMs >= 190 && slow.durationMs < 1500, `${slow.durationMs} ms`);
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const refused = await httpEdgeClient({ bind: '127.0.0.1', httpPort: port, httpsPort: null }).get({ host: 'shop.example.com', path: '/', timeoutMs: 1000 });
  assert.deepEqual([refused.status, refused.error], [null, 'ECONNREFUSED']);
});

test('a redirect to HTTPS on the same host is followed once, to the edge HTTPS port (its certificate not verified)', async () => {
  const client = httpEdgeClient({ bind: '0.0.0.0', httpPort, httpsPort });
  const followed = await client.get({ host: 'shop.example.com', path: '/secure', timeoutMs: 2000 });
  assert.deepEqual([followed.status, followed.body], [200, 'tls /secure?x=1']);
  assert.deepEqual(seen.at(-1), { host: 'shop.example.com', path: '/secure?x=1', ua: 'slipway-smoke', tls: true });
  // Another host, or no HTTPS port at the edge: the redirect is the answer.
  assert.equal((await client.get({ host: 'shop.example.com', path: '/elsewhere', timeoutMs: 1000 })).status, 302);
  assert.equal((await httpEdgeClient({ bind: '0.0.0.0', httpPort, httpsPort: null }).get({ host: 'shop.example.com', path: '/secure', timeoutMs: 1000 })).status, 308);
});

test('the address the edge is reached on', () => {
  assert.equal(edgeAddressFor('0.0.0.0'), '127.0.0.1');
  assert.equal(edgeAddressFor('::'), '::1');
  assert.equal(edgeAddressFor('127.0.0.1'), '127.0.0.1');
  assert.equal(edgeAddressFor('10.0.0.5'), '10.0.0.5');
  assert.equal(edgeAddressFor('[fd00::1]'), 'fd00::1');
});
