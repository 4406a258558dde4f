/**
 * A self-signed certificate: what the edge serves to hosts it has no certificate for, so a TLS
 * listener can start before any real certificate exists. Clients will not trust it, by design.
 */
import type { CertificateMaterial } from '../../core/ports/certificates';
import { P256, newP256Keys, pemFile, pkcs8Pem, randomSerial, serverExtensions, x509 } from './x509-keys';

const DAY = 86_400_000;
const HOUR = 3_600_000;

export async function createSelfSigned(commonName: string, days = 3650): Promise<CertificateMaterial> {
  const keys = await newP256Keys();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [commonName] }],
    notBefore: new Date(now - HOUR), // tolerate clients whose clock is a little behind
    notAfter: new Date(now + days * DAY),
    keys,
    signingAlgorithm: P256,
    extensions: await serverExtensions([commonName], keys.publicKey),
  });
  return { certPem: pemFile(cert.toString('pem')), keyPem: await pkcs8Pem(keys.privateKey) };
}
