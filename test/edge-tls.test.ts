/**
 * The HAProxy driver's HTTPS side against a real HAProxy on loopback: certificates installed,
 * replaced and removed through the runtime API with no reload, one HAProxy refuses leaving the
 * previous one serving, redirect and HSTS maps changed at runtime, and everything still served
 * after a structural reload and after a restart from the files on disk.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import pino from 'pino';
import { HaproxyEdge, stopEdge } from '../src/drivers/haproxy/haproxy-edge';
import { edgeFiles } from '../src/drivers/haproxy/edge-files';
import { showProc } from '../src/drivers/haproxy/edge-process';
import { makeCa, makeLeaf, type TestCa } from '../src/core/tls/test-certificates';
import { freePort } from './support/free-port';
import { getWithHost } from './support/http-get';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'slipway-edge-tls-'));
const files = edgeFiles(dataDir);
const logger = pino({ level: 'silent' });
let edge: HaproxyEdge;
let httpPort = 0;
let httpsPort = 0;
let app: http.Server;
let appPort = 0;
let ca: TestCa;

const options = () => ({ dataDir, httpPort, https: { port: httpsPort }, bindAddress: '127.0.0.1', logger });

before(async () => {
  [httpPort, httpsPort] = [await freePort(), await freePort()];
  app = http.createServer((req, res) => res.end(`proto=${req.headers['x-forwarded-proto']}`));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  appPort = (app.address() as { port: number }).port;
  ca = await makeCa({ cn: 'Edge Test CA' });
  edge = new HaproxyEdge(options());
  await edge.ensureRunning();
  await edge.ensureBackend({ name: 'be_shop', hosts: ['shop.example.com'], https: { redirect: null, hsts: 'max-age=60; includeSubDomains' } });
  await edge.addServer('be_shop', { name: 's1', address: '127.0.0.1', port: appPort });
});

after(async () => {
  await stopEdge(dataDir).catch(() => undefined);
  app.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function served(servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: httpsPort, servername, rejectUnauthorized: false }, () => {
      const fp = s.getPeerX509Certificate()!.fingerprint256;
      s.end();
      resolve(fp);
    });
    s.on('error', reject);
  });
}

async function leaf(domains: string[]) {
  const l = await makeLeaf({ domains, issuer: ca });
  return { ...l, fingerprint: new (await import('node:crypto')).X509Certificate(l.certPem).fingerprint256 };
}

test('install, replace and remove certificates at runtime: no reload, SNI picks them, redirects and HSTS follow', async () => {
  const before = await showProc(files);
  const defaultFp = await served('shop.example.com');
  assert.equal((await getWithHost(httpPort, 'shop.example.com')).body, 'proto=http', 'no certificate: plain HTTP, not redirected');

  const first = await leaf(['shop.example.com']);
  await edge.installCertificate({ name: 'shop.example.com', hosts: ['shop.example.com'], certPem: first.certPem, keyPem: first.keyPem, redirectByDefault: true });
  assert.equal(await served('shop.example.com'), first.fingerprint);
  assert.equal(await served('other.example.com'), defaultFp, 'other names keep the default certificate');
  const redirected = await getWithHost(httpPort, 'shop.example.com', '/a?b=1');
  assert.equal(redirected.status, 301);
  assert.equal(redirected.headers.location, `https://shop.example.com:${httpsPort}/a?b=1`);

  const second = await leaf(['shop.example.com']);
  await edge.installCertificate({ name: 'shop.example.com', hosts: ['shop.example.com'], certPem: second.certPem, keyPem: second.keyPem, redirectByDefault: true });
  assert.equal(await served('shop.example.com'), second.fingerprint, 'replaced in place');

  const stranger = await leaf(['shop.example.com']);
  await assert.rejects(
    edge.installCertificate({ name: 'shop.example.com', hosts: ['shop.example.com'], certPem: second.certPem, keyPem: stranger.keyPem, redirectByDefault: true }),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, 'SLW_EDGE');
      assert.match(err.message, /HAProxy refused the certificate shop\.example\.com\.pem: /);
      const keyBody = stranger.keyPem.split('\n')[1]!;
      assert.ok(!err.message.includes('PRIVATE KEY') && !err.message.includes(keyBody), `no key material in the error: ${err.message}`);
      return true;
    },
  );
  assert.equal(await served('shop.example.com'), second.fingerprint, 'a refused certificate leaves the previous one serving');
  assert.deepEqual((await edge.listCertificates()).map((c) => [c.name, c.fingerprint256]), [['shop.example.com', second.fingerprint]]);

  const after = await showProc(files);
  assert.deepEqual([after.reloads, after.workerPids], [before.reloads, before.workerPids], 'no reload for any of it');

  await edge.removeCertificate('shop.example.com');
  assert.equal(await served('shop.example.com'), defaultFp);
  assert.equal((await getWithHost(httpPort, 'shop.example.com')).status, 200, 'no certificate, no redirect');
});

test('certificates and HTTPS policies survive a structural reload and a restart of the edge from its files', async () => {
  const cert = await leaf(['shop.example.com']);
  await edge.installCertificate({ name: 'shop.example.com', hosts: ['shop.example.com'], certPem: cert.certPem, keyPem: cert.keyPem, redirectByDefault: true });
  await edge.ensureBackend({ name: 'be_other', hosts: ['other.example.com'] }); // a new backend: a reload
  assert.equal(await served('shop.example.com'), cert.fingerprint);
  assert.equal((await getWithHost(httpPort, 'shop.example.com')).status, 301);

  await stopEdge(dataDir);
  edge = new HaproxyEdge(options());
  await edge.ensureRunning();
  await edge.addServer('be_shop', { name: 's1', address: '127.0.0.1', port: appPort });
  assert.equal(await served('shop.example.com'), cert.fingerprint, 'loaded from the crt-list on disk');
  assert.equal((await getWithHost(httpPort, 'shop.example.com')).status, 301);
  const secure = await new Promise<{ status: number; hsts: unknown; body: string }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: httpsPort, headers: { host: 'shop.example.com' }, createConnection: () => tls.connect({ host: '127.0.0.1', port: httpsPort, servername: 'shop.example.com', rejectUnauthorized: false }) }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, hsts: res.headers['strict-transport-security'], body }));
    });
    req.on('error', reject);
    req.end();
  });
  assert.deepEqual(secure, { status: 200, hsts: 'max-age=60; includeSubDomains', body: 'proto=https' });
});
