/**
 * HTTPS at the edge against real HAProxy, Docker and Let's Encrypt's test CA (pebble, from
 * Debian; test/support/pebble.ts): a certificate issued through a real HTTP-01 exchange and
 * served by SNI over TLS 1.2+/h2, HTTP redirected, X-Forwarded-Proto and HSTS; automatic
 * renewal (pebble issues 30 s certificates, renewed at 2/3) swapped in while an HTTPS load runs,
 * with 0 failed requests and no HAProxy reload; own certificates validated (the previous one
 * keeps serving when one is refused); the CA down: retries with backoff, HTTP keeps serving,
 * `slipway certs` shows the error; *.localhost from the local CA.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { ControlPlaneProcess } from './support/control-plane-process';
import { Pebble } from './support/pebble';
import { TestProject } from './support/test-project';
import { deployAndWait, deploymentLog } from './support/wait-deployment';
import { getWithHost } from './support/http-get';
import { cliFor } from './support/cli';
import { startLoad, type LoadReport } from '../bench/lib/load-generator';
import { edgeFiles } from '../src/drivers/haproxy/edge-files';
import { showProc } from '../src/drivers/haproxy/edge-process';
import { makeCa, makeLeaf } from '../src/core/tls/test-certificates';
import type { CertificateView } from '../src/core/contract/views';

const execFileP = promisify(execFile);
/** Certificate events delivered to a notification target (a webhook receiver on loopback). */
const events: Array<{ type: string; data: Record<string, unknown> }> = [];
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    events.push(JSON.parse(body) as { type: string; data: Record<string, unknown> });
    res.writeHead(200).end();
  });
});
const cp = await ControlPlaneProcess.create('https');
const pebble = await Pebble.start({ httpPort: cp.httpPort, validitySeconds: 30 });
const app = new TestProject('tls');
const DOMAIN = 'shop.pebble.test';
const CONTROL_DOMAIN = 'slipway.pebble.test';

before(async () => {
  await cp.start({
    SLIPWAY_ACME: pebble.directoryUrl,
    // The ACME client trusts pebble's listener (its own test CA), as it would trust Let's Encrypt's.
    NODE_EXTRA_CA_CERTS: pebble.caFile,
    SLIPWAY_CERT_INTERVAL: '1s',
    SLIPWAY_CERT_RETRY: '1s',
    SLIPWAY_DOMAIN: CONTROL_DOMAIN,
  });
  await cp.client.createBaseImage('node');
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const { port } = receiver.address() as { port: number };
  await cp.client.addNotificationTarget({ url: `http://127.0.0.1:${port}/hook`, events: ['certificate.issued', 'certificate.failed'] });
});

after(async () => {
  receiver.close();
  await cp.destroy();
  await pebble.stop();
});

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${pebble.logTail(20)}\n${cp.tail(30)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function cert(domain: string): Promise<CertificateView | undefined> {
  return (await cp.client.certificates()).certificates.find((c) => c.domain === domain);
}

/** The leaf the edge presents for `servername` (SNI), and the negotiated protocols. */
function handshake(servername: string, opts: tls.ConnectionOptions = {}): Promise<{ cert: X509Certificate; alpn: string | false | null; version: string | null }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: cp.httpsPort, servername, rejectUnauthorized: false, ALPNProtocols: ['h2', 'http/1.1'], ...opts }, () => {
      const peer = s.getPeerX509Certificate();
      const result = { cert: peer!, alpn: s.alpnProtocol, version: s.getProtocol() };
      s.end();
      resolve(result);
    });
    s.on('error', reject);
  });
}

function httpsGet(host: string, ca: string, pathname = '/'): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port: cp.httpsPort, servername: host, headers: { host }, path: pathname, ca, agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      })
      .on('error', reject);
  });
}

test('a service domain gets a certificate through a real HTTP-01 exchange; HTTPS (h2, TLS 1.2+) serves it; HTTP redirects', async () => {
  const d = await deployAndWait(cp.client, app.write({ version: 'a', replicas: 2, service: { domains: [DOMAIN], https: { hsts: '1d' } } }));
  assert.equal(d.state, 'succeeded', await deploymentLog(cp.client, d.id));
  const issued = await until('the ACME certificate', async () => ((await cert(DOMAIN))?.status === 'valid' ? cert(DOMAIN) : undefined));
  assert.equal(issued!.source, 'acme');
  assert.match(issued!.issuer ?? '', /Pebble/);
  assert.deepEqual(issued!.domains, [DOMAIN]);
  assert.ok(issued!.renewAt && issued!.notAfter && Date.parse(issued!.renewAt) < Date.parse(issued!.notAfter));

  // curl, as a user would, with pebble's roots trusted.
  const roots = path.join(pebble.dir, 'issuing-roots.pem');
  writeFileSync(roots, await pebble.issuingRoots());
  const { stdout } = await execFileP('curl', ['-sS', '--fail', '--http2', '--cacert', roots, '--resolve', `${DOMAIN}:${cp.httpsPort}:127.0.0.1`, '-w', '\n%{http_version}', `https://${DOMAIN}:${cp.httpsPort}/`]);
  const lines = stdout.trim().split('\n');
  const body = lines[0];
  const httpVersion = lines.at(-1);
  assert.equal(JSON.parse(body!).proto, 'https', 'the app is told the request came over HTTPS');
  assert.equal(httpVersion, '2', 'HTTP/2 through ALPN');

  const served = await handshake(DOMAIN);
  assert.equal(served.cert.fingerprint256, issued!.fingerprint256, 'SNI picks the domain certificate');
  assert.equal(served.alpn, 'h2');
  const unknown = await handshake('unknown.example.org');
  assert.match(unknown.cert.subject, /slipway-default\.invalid/, 'unknown hosts get the default self-signed certificate');
  await assert.rejects(handshake(DOMAIN, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }), 'TLS 1.1 is refused');

  const secure = await httpsGet(DOMAIN, await pebble.issuingRoots());
  assert.equal(secure.status, 200);
  assert.equal(secure.headers['strict-transport-security'], 'max-age=86400');

  const plain = await getWithHost(cp.httpPort, DOMAIN, '/x?y=1');
  assert.equal(plain.status, 301);
  assert.equal(plain.headers.location, `https://${DOMAIN}:${cp.httpsPort}/x?y=1`);
  assert.equal(plain.headers['strict-transport-security'], undefined, 'HSTS only over HTTPS');
  const challenge = await getWithHost(cp.httpPort, DOMAIN, '/.well-known/acme-challenge/unknown-token');
  assert.equal(challenge.status, 404, 'challenge paths are never redirected; they reach the control plane');
});

test("the control plane's own domain (SLIPWAY_DOMAIN): certified, dashboard and API through the edge, /metrics not", async () => {
  const c = await until('the control domain certificate', async () => ((await cert(CONTROL_DOMAIN))?.status === 'valid' ? cert(CONTROL_DOMAIN) : undefined));
  assert.equal(c!.source, 'acme');
  const roots = await pebble.issuingRoots();
  const health = await httpsGet(CONTROL_DOMAIN, roots, '/api/v1/health');
  assert.equal(health.status, 200);
  assert.equal(JSON.parse(health.body).ok, true);
  assert.equal((await httpsGet(CONTROL_DOMAIN, roots, '/metrics')).status, 404, 'metrics stay on the API address');
  const plain = await getWithHost(cp.httpPort, CONTROL_DOMAIN, '/');
  assert.equal(plain.status, 301);
  assert.equal(plain.headers.location, `https://${CONTROL_DOMAIN}:${cp.httpsPort}/`);
});

test('a certificate is renewed at 2/3 of its lifetime and swapped in under HTTPS load: 0 failed requests, no HAProxy reload', async () => {
  const first = (await cert(DOMAIN))!;
  const files = edgeFiles(path.join(cp.dataDir, 'edge'));
  const procBefore = await showProc(files);
  const load = startLoad({ url: `https://127.0.0.1:${cp.httpsPort}/`, hostHeader: DOMAIN, ca: await pebble.issuingRoots(), concurrency: 4, timeoutMs: 5000 });
  let renewed: CertificateView;
  let report: LoadReport;
  try {
    renewed = await until('an automatic renewal', async () => {
      const c = await cert(DOMAIN);
      return c && c.fingerprint256 !== first.fingerprint256 && c.status === 'valid' ? c : undefined;
    }, 45_000);
    // The load runs across the swap and a moment on the new certificate.
    await new Promise((r) => setTimeout(r, 1500));
  } finally {
    report = await load.stop();
  }
  assert.equal(report.failed, 0, JSON.stringify(report.firstFailures));
  assert.ok(report.ok > 50, `the load ran (${report.ok} requests)`);
  assert.ok(Date.parse(renewed.issuedAt!) >= Date.parse(first.renewAt!) - 1000, 'renewed when due, not before');
  const procAfter = await showProc(files);
  assert.deepEqual(procAfter.workerPids, procBefore.workerPids, 'the same HAProxy worker serves');
  assert.equal(procAfter.reloads, procBefore.reloads, 'no reload');
  assert.equal((await handshake(DOMAIN)).cert.fingerprint256, renewed.fingerprint256, 'new handshakes get the renewed certificate');
});

test('own certificates: a valid one is served; mismatched key, expired, wrong domain are refused precisely and the previous one keeps serving', async () => {
  const domain = 'own.pebble.test';
  const ca = await makeCa({ cn: 'Origin CA' });
  const good = await makeLeaf({ domains: [domain], issuer: ca });
  const added = await cp.client.addCertificate({ domain, cert: good.certPem, key: good.keyPem });
  assert.equal(added.certificate.source, 'own');
  assert.equal(added.certificate.renewAt, null);
  const fingerprint = added.certificate.fingerprint256;
  assert.equal((await handshake(domain)).cert.fingerprint256, fingerprint);

  const other = await makeLeaf({ domains: [domain], issuer: ca });
  const expired = await makeLeaf({ domains: [domain], issuer: ca, notBefore: new Date('2024-01-01T00:00:00Z'), notAfter: new Date('2025-01-01T00:00:00Z') });
  const wrong = await makeLeaf({ domains: ['elsewhere.example.org'], issuer: ca });
  const cases: Array<[string, { cert: string; key: string }, RegExp]> = [
    ['mismatched key', { cert: good.certPem, key: other.keyPem }, /private key does not match the certificate/],
    ['expired', { cert: expired.certPem, key: expired.keyPem }, /expired on 2025-01-01/],
    ['wrong domain', { cert: wrong.certPem, key: wrong.keyPem }, /covers elsewhere\.example\.org, not own\.pebble\.test/],
  ];
  for (const [what, body, message] of cases) {
    await assert.rejects(cp.client.addCertificate({ domain, ...body }), (err: Error & { code?: string; status?: number }) => {
      assert.match(err.message, message, what);
      assert.equal(err.code, 'SLW_CERT_INVALID', what);
      return true;
    });
    assert.equal((await handshake(domain)).cert.fingerprint256, fingerprint, `${what}: the previous certificate keeps serving`);
  }
  assert.equal((await cert(domain))?.fingerprint256, fingerprint);
});

test('the CA unavailable: issuance retries with backoff, HTTP keeps serving, slipway certs shows the error; then it is issued', async () => {
  const late = 'late.pebble.test';
  await pebble.stopPebbleOnly();
  try {
    const lateApp = new TestProject('late');
    const d = await deployAndWait(cp.client, lateApp.write({ version: 'a', replicas: 1, service: { domains: [late] } }));
    assert.equal(d.state, 'succeeded', await deploymentLog(cp.client, d.id));
    const failing = await until('two failed attempts', async () => {
      const c = await cert(late);
      return c && c.status === 'failed' && c.failures >= 2 ? c : undefined;
    });
    assert.match(failing.lastError ?? '', /ECONNREFUSED/);
    assert.ok(failing.nextAttemptAt && Date.parse(failing.nextAttemptAt) > Date.now() - 1000);
    const served = await getWithHost(cp.httpPort, late);
    assert.equal(served.status, 200, 'no certificate: plain HTTP is served, not redirected');
    assert.equal(JSON.parse(served.body).proto, 'http');
    const out = await cliFor(cp, lateApp.dir)('certs');
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, new RegExp(`${late.replace(/\./g, '\\.')}.*failed`));
    assert.match(out.stdout, /ECONNREFUSED/);
    const failed = await until('a certificate.failed notification', async () => events.find((e) => e.type === 'certificate.failed' && e.data.domain === late));
    assert.match(String(failed.data.error), /ECONNREFUSED/);
  } finally {
    await pebble.startPebbleAgain();
  }
  const issued = await until('the certificate once the CA is back', async () => ((await cert(late))?.status === 'valid' ? cert(late) : undefined), 90_000);
  assert.equal(issued!.failures, 0);
  await until('a certificate.issued notification', async () => events.find((e) => e.type === 'certificate.issued' && e.data.domain === late));
  assert.equal(issued!.lastError, null);
  const redirected = await getWithHost(cp.httpPort, late);
  assert.equal(redirected.status, 301, 'redirected once the certificate exists');
});

test('*.localhost gets a certificate from the local CA, without a redirect by default', async () => {
  const devApp = new TestProject('dev');
  const d = await deployAndWait(cp.client, devApp.write({ version: 'a', replicas: 1 }));
  assert.equal(d.state, 'succeeded', await deploymentLog(cp.client, d.id));
  const domain = devApp.domain;
  const c = await until('the local certificate', async () => ((await cert(domain))?.status === 'valid' ? cert(domain) : undefined));
  assert.equal(c!.source, 'local');
  assert.match(c!.issuer ?? '', /Slipway local CA/);
  const overview = await cp.client.certificates();
  const caPem = readFileSync(overview.localCa.caFile, 'utf8');
  assert.ok(overview.localCa.trustCommands.some((line) => line.includes('update-ca-certificates')));
  const secure = await httpsGet(domain, caPem);
  assert.equal(secure.status, 200);
  assert.equal(JSON.parse(secure.body).proto, 'https');
  assert.equal((await getWithHost(cp.httpPort, domain)).status, 200, 'HTTP still served for local names');
  // New services reloaded the edge since the ACME certificates were installed at runtime: they were kept.
  assert.equal((await handshake(DOMAIN)).cert.fingerprint256, (await cert(DOMAIN))!.fingerprint256, 'runtime-installed certificates survive a reload');
});
