/**
 * Checks a certificate a user brings (e.g. a Cloudflare origin certificate) before the edge
 * serves it: HAProxy would either refuse it at load time or serve a broken chain, and the
 * browser's error says less than we can. Every problem found is listed, each naming what was
 * found; messages never contain key material (only public-key fingerprints).
 */
import { X509Certificate, createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { SlipwayError, isSlipwayError, type ErrorDetail } from '../errors';
import type { CertificateInfo } from '../ports/certificates';
import { certificateDomains, certificateLabel, coversDomain, describeCertificate, normalizePem, oneLineName, pemLabels, splitPemChain } from './certificate-info';

export interface OwnCertificateInput {
  /** The domain the certificate must serve. */
  domain: string;
  certPem: string;
  keyPem: string;
  now?: Date;
}

export interface CheckedCertificate {
  /** The chain, normalized, leaf first. */
  certPem: string;
  /** The one private key block, normalized. */
  keyPem: string;
  info: CertificateInfo;
}

interface Parsed {
  pem: string;
  x509: X509Certificate;
}

type Problems = ErrorDetail[];

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const ANY_EKU = '2.5.29.37.0';
const EKU_NAMES: Record<string, string> = { '1.3.6.1.5.5.7.3.2': 'clientAuth', '1.3.6.1.5.5.7.3.3': 'codeSigning', '1.3.6.1.5.5.7.3.4': 'emailProtection' };
/** Beyond this many certificates we do not search for a valid order (n! permutations in the worst case). */
const MAX_REORDER = 8;

const isKeyLabel = (label: string): boolean => label.endsWith('PRIVATE KEY');
const found = (labels: string[]): string => labels.join(', ');

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function readChain(text: string, problems: Problems): Parsed[] {
  const labels = pemLabels(text);
  const keys = labels.filter(isKeyLabel);
  const certCount = labels.filter((l) => l === 'CERTIFICATE').length;
  if (keys.length > 0 && certCount === 0) {
    problems.push({ path: 'cert', message: `the certificate file holds a private key (${found(keys)}), not a certificate: were the certificate and key files swapped?` });
    return [];
  }
  if (keys.length > 0) {
    problems.push({ path: 'cert', message: `the certificate file also contains a private key (${found(keys)}): give the key in the key file only` });
  }
  if (certCount === 0) {
    const what = text.trim() === '' ? 'the certificate file is empty' : labels.length ? `the certificate file has no certificate (found ${found(labels)})` : 'the certificate file has no PEM certificate (no -----BEGIN CERTIFICATE----- line)';
    problems.push({ path: 'cert', message: what });
    return [];
  }
  let pems: string[];
  try {
    pems = splitPemChain(text);
  } catch (err) {
    problems.push({ path: 'cert', message: `the certificate file is malformed: ${reason(err)}` });
    return [];
  }
  const parsed: Parsed[] = [];
  pems.forEach((pem, i) => {
    try {
      parsed.push({ pem, x509: new X509Certificate(pem) });
    } catch (err) {
      const which = pems.length === 1 ? 'the certificate' : `certificate ${i + 1} of ${pems.length}`;
      problems.push({ path: 'cert', message: `${which} could not be parsed (${reason(err)})` });
    }
  });
  // A chain with an unreadable member cannot be judged as a chain.
  return parsed.length === pems.length ? parsed : [];
}

function readKey(text: string, problems: Problems): { pem: string; key: KeyObject } | null {
  const labels = pemLabels(text);
  if (!labels.some(isKeyLabel)) {
    const what = labels.includes('CERTIFICATE')
      ? 'the key file holds a certificate, not a private key: were the certificate and key files swapped?'
      : text.trim() === '' ? 'the key file is empty'
      : labels.length ? `the key file has no private key (found ${found(labels)})`
      : 'the key file has no PEM private key (no -----BEGIN PRIVATE KEY----- line)';
    problems.push({ path: 'key', message: what });
    return null;
  }
  try {
    const pem = normalizePem(text);
    return { pem, key: createPrivateKey(pem) };
  } catch (err) {
    problems.push({ path: 'key', message: isSlipwayError(err) ? `the key file: ${err.message}` : `the private key could not be read: ${reason(err)}` });
    return null;
  }
}

/** Whether `cert` carries a signature that `issuer`'s public key verifies. */
function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** An order of all `certs` in which each is signed by the next, or null. */
function findOrder(certs: Parsed[]): Parsed[] | null {
  if (certs.length > MAX_REORDER) return null;
  const extend = (path: Parsed[]): Parsed[] | null => {
    if (path.length === certs.length) return path;
    const last = path[path.length - 1]!;
    for (const next of certs) {
      if (path.includes(next) || !signedBy(last.x509, next.x509)) continue;
      const done = extend([...path, next]);
      if (done) return done;
    }
    return null;
  };
  // Try non-CA certificates first: they are the plausible leaves.
  const starts = [...certs].sort((a, b) => Number(a.x509.ca) - Number(b.x509.ca));
  for (const start of starts) {
    const order = extend([start]);
    if (order) return order;
  }
  return null;
}

function dropDuplicates(certs: Parsed[], problems: Problems): Parsed[] {
  const seen = new Map<string, number>();
  return certs.filter((c, i) => {
    const first = seen.get(c.x509.fingerprint256);
    if (first === undefined) {
      seen.set(c.x509.fingerprint256, i);
      return true;
    }
    problems.push({ path: 'cert', message: `certificate ${i + 1} (${certificateLabel(c.x509)}) repeats certificate ${first + 1}: list each certificate once` });
    return false;
  });
}

/** The chain leaf first, reordered when the file lists the right certificates in the wrong order (which is still a problem). */
function checkOrder(given: Parsed[], problems: Problems): Parsed[] {
  const certs = dropDuplicates(given, problems);
  const broken = certs.slice(0, -1).flatMap((c, i) => (signedBy(c.x509, certs[i + 1]!.x509) ? [] : [i]));
  if (broken.length === 0) return certs;
  const order = findOrder(certs);
  if (order) {
    const labels = (list: Parsed[]) => list.map((c) => certificateLabel(c.x509)).join(' → ');
    problems.push({
      path: 'cert',
      message: `the chain is out of order: put the leaf (${certificateLabel(order[0]!.x509)}) first, then the certificate that signed it (found ${labels(certs)}; expected ${labels(order)})`,
    });
    return order;
  }
  for (const i of broken) {
    const cert = certs[i]!.x509;
    const next = certs[i + 1]!.x509;
    problems.push({
      path: 'cert',
      message: `certificate ${i + 1} (${certificateLabel(cert)}) is not signed by the next one, certificate ${i + 2} (${certificateLabel(next)}); it was issued by ${oneLineName(cert.issuer)}: add that issuer's certificate or remove certificates from another chain`,
    });
  }
  return certs;
}

/** SHA-256 of a public key's SubjectPublicKeyInfo, shortened: enough to tell two keys apart, nothing secret. */
function keyFingerprint(key: KeyObject): string {
  const hex = createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex');
  return `${hex.slice(0, 16).match(/../g)!.join(':')}…`;
}

function checkKey(chain: Parsed[], key: KeyObject, problems: Problems): void {
  const leaf = chain[0]!.x509;
  const matches = (c: X509Certificate): boolean => {
    try {
      return c.checkPrivateKey(key);
    } catch {
      return false;
    }
  };
  if (matches(leaf)) return;
  const other = chain.findIndex((c) => matches(c.x509));
  const message = other > 0
    ? `the private key does not match the leaf certificate ${certificateLabel(leaf)}; it is the key of certificate ${other + 1} (${certificateLabel(chain[other]!.x509)})`
    : `the private key does not match the certificate ${certificateLabel(leaf)} (certificate public key SHA-256 ${keyFingerprint(leaf.publicKey)}, key's ${keyFingerprint(createPublicKey(key))})`;
  problems.push({ path: 'key', message });
}

function checkDates(chain: Parsed[], now: Date, problems: Problems): void {
  chain.forEach(({ x509 }, i) => {
    const which = i === 0 ? 'the certificate' : `certificate ${i + 1} of the chain (${certificateLabel(x509)})`;
    const notBefore = new Date(x509.validFrom);
    const notAfter = new Date(x509.validTo);
    if (now < notBefore) problems.push({ path: 'cert', message: `${which} is not valid before ${notBefore.toISOString()} (it is now ${now.toISOString()})` });
    if (now > notAfter) problems.push({ path: 'cert', message: `${which} expired on ${notAfter.toISOString()}` });
  });
}

function checkLeafUse(leaf: X509Certificate, domain: string, problems: Problems): void {
  if (leaf.ca) {
    problems.push({ path: 'cert', message: `the leaf certificate (${certificateLabel(leaf)}) is a CA certificate (basicConstraints CA:TRUE), not a server certificate: put the certificate issued for ${domain} first` });
  }
  const eku = leaf.keyUsage as string[] | undefined; // node: the extended key usage OIDs, undefined when absent
  if (eku && !eku.includes(SERVER_AUTH) && !eku.includes(ANY_EKU)) {
    problems.push({ path: 'cert', message: `the certificate is not for TLS servers: its extended key usage lacks serverAuth (has ${eku.map((o) => EKU_NAMES[o] ?? o).join(', ') || 'none'})` });
  }
  const domains = certificateDomains(leaf);
  if (!coversDomain(domains, domain)) {
    problems.push({ path: 'domain', message: `the certificate covers ${domains.length ? domains.join(', ') : 'no DNS name'}, not ${domain}` });
  }
}

/** Validates a user's certificate chain and key for `domain`; returns them normalized (leaf first) or throws SLW_CERT_INVALID listing every problem. */
export function checkOwnCertificate(input: OwnCertificateInput): CheckedCertificate {
  const problems: Problems = [];
  const now = input.now ?? new Date();
  const parsed = readChain(input.certPem, problems);
  const key = readKey(input.keyPem, problems);
  const chain = parsed.length ? checkOrder(parsed, problems) : [];
  if (chain.length) {
    checkLeafUse(chain[0]!.x509, input.domain, problems);
    if (key) checkKey(chain, key.key, problems);
    checkDates(chain, now, problems);
  }
  if (problems.length > 0 || !key || !chain.length) {
    const summary = problems.length === 1 ? problems[0]!.message : `${problems.length} problems: ${problems.map((p) => p.message).join('; ')}`;
    throw new SlipwayError('SLW_CERT_INVALID', `certificate for ${input.domain} refused: ${summary}`, problems);
  }
  return { certPem: chain.map((c) => c.pem).join(''), keyPem: key.pem, info: describeCertificate(chain[0]!.x509) };
}
