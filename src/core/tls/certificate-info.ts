/**
 * Reading PEM certificates and keys: splitting a chain into blocks, describing the leaf
 * (CertificateInfo) and matching domains against the names a certificate covers.
 * Pure apart from node:crypto's X.509 parser.
 */
import { X509Certificate } from 'node:crypto';
import { SlipwayError } from '../errors';
import type { CertificateInfo } from '../ports/certificates';

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;
const ANY_BEGIN = /-----BEGIN ([A-Z0-9 ]+)-----/g;
const KEY_BLOCK = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----([\s\S]*?)-----END \1-----/g;

function invalid(message: string): SlipwayError {
  return new SlipwayError('SLW_CERT_INVALID', message);
}

/** Re-wraps a block body at 64 columns (what OpenSSL and HAProxy expect), or null if it is not base64. */
function wrapBody(body: string): string | null {
  const b64 = body.replace(/\s+/g, '');
  if (b64 === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return null;
  return b64.match(/.{1,64}/g)!.join('\n');
}

function block(label: string, body: string): string {
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

/** The labels of the PEM blocks in `text` ("CERTIFICATE", "EC PRIVATE KEY"…), in order. */
export function pemLabels(text: string): string[] {
  return [...text.matchAll(ANY_BEGIN)].map((m) => m[1]!);
}

/** The CERTIFICATE blocks of `text`, in order, each normalized (64 columns, no blank lines, trailing newline). */
export function splitPemChain(text: string): string[] {
  const blocks = [...text.matchAll(CERT_BLOCK)];
  const begins = pemLabels(text).filter((label) => label === 'CERTIFICATE').length;
  if (begins > blocks.length) throw invalid('a PEM certificate has no -----END CERTIFICATE----- line');
  if (blocks.length === 0) throw invalid('no PEM certificate found (expected -----BEGIN CERTIFICATE-----)');
  return blocks.map((m, i) => {
    const body = wrapBody(m[1]!);
    if (body === null) throw invalid(`PEM certificate ${i + 1} is not valid base64`);
    return block('CERTIFICATE', body);
  });
}

/**
 * The one private key block of `text` (PKCS#8 "PRIVATE KEY", "EC PRIVATE KEY" or "RSA PRIVATE KEY"),
 * normalized like certificates. Other blocks (e.g. "EC PARAMETERS") are dropped. Never echoes key material.
 */
export function normalizePem(text: string): string {
  const keys = [...text.matchAll(KEY_BLOCK)];
  const begins = pemLabels(text).filter((label) => label.endsWith('PRIVATE KEY')).length;
  if (begins > keys.length) throw invalid('a PEM private key has no matching -----END … PRIVATE KEY----- line');
  if (keys.length === 0) throw invalid('no PEM private key found (expected -----BEGIN PRIVATE KEY----- or an EC/RSA one)');
  if (keys.length > 1) throw invalid(`${keys.length} private keys found; give exactly one`);
  const [, label, rawBody] = keys[0]!;
  // HAProxy cannot prompt for a passphrase: PKCS#8 ENCRYPTED and legacy "Proc-Type: 4,ENCRYPTED" keys are unusable.
  if (label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type:|DEK-Info:/.test(rawBody!)) {
    throw invalid('the private key is encrypted with a passphrase; give it unencrypted');
  }
  const body = wrapBody(rawBody!);
  if (body === null) throw invalid(`the ${label} block is not valid base64`);
  return block(label!, body);
}

/** A distinguished name as node:crypto prints it (one RDN a line, certificate order) on one line, most specific first: "CN=…, O=…, C=…". */
export function oneLineName(multiline: string): string {
  return multiline.split('\n').filter(Boolean).reverse().join(', ');
}

function commonName(multiline: string): string | null {
  const line = multiline.split('\n').find((l) => l.startsWith('CN='));
  return line ? line.slice(3).replace(/\\(.)/g, '$1') : null;
}

/** DNS names of a subjectAltName string ("DNS:a.example.com, IP Address:…"); node quotes odd values as JSON. */
function dnsNames(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  const names: string[] = [];
  for (const m of subjectAltName.matchAll(/(?:^|, )DNS:("(?:[^"\\]|\\.)*"|[^,]*)/g)) {
    const raw = m[1]!;
    names.push(raw.startsWith('"') ? (JSON.parse(raw) as string) : raw);
  }
  return names;
}

/** The DNS names a parsed certificate is valid for: its SAN DNS entries, else its subject CN. */
export function certificateDomains(cert: X509Certificate): string[] {
  const sans = dnsNames(cert.subjectAltName);
  if (sans.length > 0) return sans;
  const cn = commonName(cert.subject);
  return cn ? [cn] : [];
}

/** A readable label for messages: the subject CN, else the whole subject. */
export function certificateLabel(cert: X509Certificate): string {
  const cn = commonName(cert.subject);
  return cn !== null ? `CN=${cn}` : oneLineName(cert.subject) || '(empty subject)';
}

function iso(nodeDate: string): string {
  return new Date(nodeDate).toISOString();
}

/**
 * Whether the certificate names itself as issuer and its own key verifies its signature
 * (not checkIssued: OpenSSL's also wants keyCertSign, which a self-signed leaf lacks).
 */
function isSelfSigned(cert: X509Certificate): boolean {
  try {
    return cert.issuer === cert.subject && cert.verify(cert.publicKey);
  } catch {
    return false;
  }
}

export function describeCertificate(cert: X509Certificate): CertificateInfo {
  return {
    domains: certificateDomains(cert),
    notBefore: iso(cert.validFrom),
    notAfter: iso(cert.validTo),
    issuer: oneLineName(cert.issuer),
    subject: oneLineName(cert.subject),
    serial: cert.serialNumber.toUpperCase(),
    fingerprint256: cert.fingerprint256,
    selfSigned: isSelfSigned(cert),
  };
}

/** Parses one PEM certificate; a SlipwayError (never node's bare error) when it is not one. */
export function parseCertificate(pem: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw invalid(`the certificate could not be parsed (${(err as Error).message})`);
  }
}

/** What the leaf (first certificate) of a PEM chain says about itself. */
export function inspectCertificate(certPem: string): CertificateInfo {
  return describeCertificate(parseCertificate(splitPemChain(certPem)[0]!));
}

function canonical(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

/**
 * Whether one of `patterns` (a certificate's names) covers `domain`: exact, case-insensitive; a
 * wildcard "*.example.com" covers exactly one more label (a.example.com, not example.com or a.b.example.com).
 */
export function coversDomain(patterns: string[], domain: string): boolean {
  const wanted = canonical(domain);
  if (wanted === '') return false;
  return patterns.some((raw) => {
    const pattern = canonical(raw);
    if (pattern === wanted) return true;
    if (!pattern.startsWith('*.')) return false;
    const dot = wanted.indexOf('.');
    return dot > 0 && !wanted.slice(0, dot).includes('*') && wanted.slice(dot + 1) === pattern.slice(2);
  });
}
