/**
 * What the TLS drivers share to mint certificates with @peculiar/x509: its WebCrypto provider,
 * ECDSA P-256 keys (small, fast, accepted by every current client) and PEM encoding.
 */
import * as x509 from '@peculiar/x509';
import { randomBytes, webcrypto } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export { x509 };

export const P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

export async function newP256Keys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(P256, true, ['sign', 'verify'])) as CryptoKeyPair;
}

/** PEM as files hold it: the library omits the final newline. */
export function pemFile(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}

export async function pkcs8Pem(key: CryptoKey): Promise<string> {
  return pemFile(x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key as webcrypto.CryptoKey), 'PRIVATE KEY'));
}

/** A P-256 signing key back from PKCS#8 PEM. */
export async function importP256Key(pem: string): Promise<CryptoKey> {
  return (await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(pem), P256, false, ['sign'])) as CryptoKey;
}

/** A random positive 128-bit serial (RFC 5280: positive, at most 20 octets). */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

/** The extensions every server certificate we mint carries. */
export async function serverExtensions(domains: string[], publicKey: CryptoKey): Promise<x509.Extension[]> {
  return [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    new x509.SubjectAlternativeNameExtension(domains.map((value) => ({ type: 'dns' as const, value }))),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
  ];
}
