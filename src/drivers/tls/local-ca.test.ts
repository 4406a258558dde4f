import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { splitPemChain } from '../../core/tls/certificate-info';
import { checkOwnCertificate } from '../../core/tls/own-certificate-check';
import { LocalCa } from './local-ca';
import { P256, importP256Key, newP256Keys, pemFile, x509 } from './x509-keys';

const run = promisify(execFile);
const OPENSSL = '/usr/bin/openssl';
const DAY = 86_400_000;

const tmp = await mkdtemp(path.join(tmpdir(), 'slipway-local-ca-'));
test.after(() => rm(tmp, { recursive: true, force: true }));

const mode = async (file: string): Promise<number> => (await stat(file)).mode & 0o777;

test('the CA is created once on first use, with private files, and reused by later instances', async () => {
  const dir = path.join(tmp, 'once', 'ca');
  const ca = new LocalCa({ dir, hostname: 'devbox' });
  // Concurrent first use shares one creation.
  const [a, b] = await Promise.all([ca.issue(['a.localhost']), ca.issue(['b.localhost'])]);
  const caPem = await readFile(ca.caCertificateFile(), 'utf8');
  assert.equal(splitPemChain(a.certPem)[1], caPem);
  assert.equal(splitPemChain(b.certPem)[1], caPem);
  assert.equal(await mode(dir), 0o700);
  assert.equal(await mode(path.join(dir, 'local-ca.pem')), 0o644);
  assert.equal(await mode(path.join(dir, 'local-ca-key.pem')), 0o600);
  const root = new X509Certificate(caPem);
  assert.equal(root.subject, 'CN=Slipway local CA (devbox)');
  assert.equal(root.ca, true);
  assert.ok(Date.parse(root.validTo) - Date.now() > 3640 * DAY);

  const keyBefore = await readFile(path.join(dir, 'local-ca-key.pem'), 'utf8');
  const later = await new LocalCa({ dir }).issue(['localhost']);
  assert.equal(splitPemChain(later.certPem)[1], caPem);
  assert.equal(await readFile(path.join(dir, 'local-ca-key.pem'), 'utf8'), keyBefore);
});

test('a leaf is a 90-day P-256 server certificate for the names, signed by the CA', async () => {
  const ca = new LocalCa({ dir: path.join(tmp, 'leaf') });
  const { certPem, keyPem } = await ca.issue(['app.localhost', '*.app.localhost']);
  const [leafPem, caPem] = splitPemChain(certPem);
  const leaf = new X509Certificate(leafPem!);
  const root = new X509Certificate(caPem!);
  assert.equal(leaf.verify(root.publicKey), true);
  assert.equal(leaf.checkIssued(root), true);
  assert.equal(leaf.checkPrivateKey(createPrivateKey(keyPem)), true);
  assert.equal(createPrivateKey(keyPem).asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.match(keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.equal(leaf.checkHost('app.localhost'), 'app.localhost');
  assert.equal(leaf.checkHost('api.app.localhost'), '*.app.localhost'); // node returns the SAN entry that matched
  assert.equal(leaf.checkHost('other.localhost'), undefined);
  assert.equal(leaf.subject, 'CN=app.localhost');
  assert.equal(leaf.ca, false);
  assert.deepEqual(leaf.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  const days = (Date.parse(leaf.validTo) - Date.now()) / DAY;
  assert.ok(days > 89.9 && days <= 90, `${days} days`);
  assert.ok(Date.parse(leaf.validFrom) <= Date.now() - 59 * 60_000, 'valid from an hour ago');
  // The chain passes the same check a user's own certificate does (order, key, dates, domain).
  assert.equal(checkOwnCertificate({ domain: 'x.app.localhost', certPem, keyPem }).info.issuer, root.subject);
});

test('only localhost and names under .localhost are issued', async () => {
  const ca = new LocalCa({ dir: path.join(tmp, 'refuse') });
  for (const bad of [['example.com'], ['app.localhost', 'example.com'], ['localhost.example.com'], ['evil-localhost'], ['a..localhost'], ['*.localhost'], []]) {
    await assert.rejects(ca.issue(bad), { code: 'SLW_CERT_INVALID' }, JSON.stringify(bad));
  }
  await assert.rejects(ca.issue(['example.com']), /only issues certificates for localhost and names under \.localhost, not example\.com/);
  assert.deepEqual(splitPemChain((await ca.issue(['App.Localhost'])).certPem).length, 2);
});

test('trust commands name the CA file for Debian/Ubuntu, macOS and NSS', () => {
  const ca = new LocalCa({ dir: "/home/dev/it's/ca" });
  const [debian, macos, nss] = ca.trustCommands();
  assert.equal(debian, `sudo cp '/home/dev/it'\\''s/ca/local-ca.pem' /usr/local/share/ca-certificates/slipway-local-ca.crt && sudo update-ca-certificates  # Debian/Ubuntu`);
  assert.match(macos!, /^sudo security add-trusted-cert -d -r trustRoot -k \/Library\/Keychains\/System\.keychain '\/home\/dev\/it'\\''s\/ca\/local-ca\.pem' {2}# macOS$/);
  assert.match(nss!, /^certutil -d "sql:\$HOME\/\.pki\/nssdb" -A -t C,, -n slipway-local-ca -i '/);
});

test('openssl verifies the leaf against the CA; the name constraints stop a non-localhost leaf', async () => {
  const dir = path.join(tmp, 'openssl');
  const ca = new LocalCa({ dir });
  const [leafPem] = splitPemChain((await ca.issue(['shop.localhost'])).certPem);
  await writeFile(path.join(dir, 'leaf.pem'), leafPem!);
  const ok = await run(OPENSSL, ['verify', '-purpose', 'sslserver', '-verify_hostname', 'shop.localhost', '-CAfile', 'local-ca.pem', 'leaf.pem'], { cwd: dir });
  assert.equal(ok.stdout.trim(), 'leaf.pem: OK');

  // Even a leaf forged with the CA key for another name fails: the CA is constrained to localhost.
  const caCert = new x509.X509Certificate(await readFile(ca.caCertificateFile(), 'utf8'));
  const keys = await newP256Keys();
  const forged = await x509.X509CertificateGenerator.create({
    subject: 'CN=example.com', issuer: caCert.subjectName, publicKey: keys.publicKey, signingAlgorithm: P256,
    signingKey: await importP256Key(await readFile(path.join(dir, 'local-ca-key.pem'), 'utf8')),
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'example.com' }])],
  });
  await writeFile(path.join(dir, 'forged.pem'), pemFile(forged.toString('pem')));
  await assert.rejects(run(OPENSSL, ['verify', '-CAfile', 'local-ca.pem', 'forged.pem'], { cwd: dir }), (err: { stdout: string; stderr: string }) => {
    assert.match(err.stdout + err.stderr, /permitted subtree violation/);
    return true;
  });
});
