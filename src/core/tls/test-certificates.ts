/**
 * Test-only fixtures: throwaway CAs and leaf certificates made at test time with @peculiar/x509
 * (ECDSA P-256), so no certificate is checked in and none expires in the repository.
 * Only *.test.ts files import this module; production code must not.
 */
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY = 86_400_000;

export interface TestCa {
  cn: string;
  certPem: string;
  keyPem: string;
  keys: CryptoKeyPair;
}

export interface TestLeaf {
  certPem: string;
  keyPem: string;
}

async function newKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
}

/** PEM as files hold it (the library omits the final newline). */
const withNewline = (pem: string): string => (pem.endsWith('\n') ? pem : `${pem}\n`);

async function pkcs8Pem(key: CryptoKey): Promise<string> {
  return withNewline(x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key as webcrypto.CryptoKey), 'PRIVATE KEY'));
}

/** Issuer-style names in the usual certificate order, most general first (O, then CN). */
const caName = (cn: string): x509.JsonName => [{ O: ['Slipway Tests'] }, { CN: [cn] }];

/** A CA (self-signed root, or an intermediate when `issuer` is given). */
export async function makeCa(opts: { cn?: string; issuer?: TestCa } = {}): Promise<TestCa> {
  const cn = opts.cn ?? (opts.issuer ? 'Test Intermediate CA' : 'Test Root CA');
  const keys = await newKeys();
  const extensions = [
    new x509.BasicConstraintsExtension(true, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
  ];
  const validity = { notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 365 * DAY) };
  const cert = opts.issuer
    ? await x509.X509CertificateGenerator.create({
        ...validity,
        subject: caName(cn),
        issuer: caName(opts.issuer.cn),
        publicKey: keys.publicKey,
        signingKey: opts.issuer.keys.privateKey,
        signingAlgorithm: ALG,
        extensions,
      })
    : await x509.X509CertificateGenerator.createSelfSigned({ ...validity, name: caName(cn), keys, signingAlgorithm: ALG, extensions });
  return { cn, certPem: withNewline(cert.toString('pem')), keyPem: await pkcs8Pem(keys.privateKey), keys };
}

/** A server certificate for `domains` and `ips` (SAN DNS and IP; CN = the first domain), signed by `issuer` or self-signed. */
export async function makeLeaf(opts: { domains: string[]; ips?: string[]; issuer?: TestCa; notBefore?: Date; notAfter?: Date; ca?: boolean }): Promise<TestLeaf> {
  const keys = await newKeys();
  const subject = [{ CN: [opts.domains[0] ?? 'leaf'] }];
  const params = {
    notBefore: opts.notBefore ?? new Date(Date.now() - DAY),
    notAfter: opts.notAfter ?? new Date(Date.now() + 90 * DAY),
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(opts.ca ?? false, undefined, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      ...(opts.domains.length || opts.ips?.length
        ? [new x509.SubjectAlternativeNameExtension([...opts.domains.map((value) => ({ type: 'dns' as const, value })), ...(opts.ips ?? []).map((value) => ({ type: 'ip' as const, value }))])]
        : []),
    ],
  };
  const cert = opts.issuer
    ? await x509.X509CertificateGenerator.create({ ...params, subject, issuer: caName(opts.issuer.cn), publicKey: keys.publicKey, signingKey: opts.issuer.keys.privateKey })
    : await x509.X509CertificateGenerator.createSelfSigned({ ...params, name: subject, keys });
  return { certPem: withNewline(cert.toString('pem')), keyPem: await pkcs8Pem(keys.privateKey) };
}
