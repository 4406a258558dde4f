/**
 * Certificates at the edge: one PEM (chain then key) per certificate in tls/certs/, listed in
 * the crt-list HAProxy loads at start, and changed at runtime with the ssl cert commands
 * (new / set / commit, add/del ssl crt-list), which HAProxy applies to new handshakes without a
 * reload. Disk is written after the runtime accepted a certificate, so a reload never loads one
 * HAProxy would refuse.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { SlipwayError } from '../../core/errors';
import type { EdgeBackendSpec, EdgeCertificate } from '../../core/ports/edge';
import { coversDomain } from '../../core/tls/certificate-info';
import { createSelfSigned } from '../tls/self-signed';
import { writeAtomic, type EdgeFiles } from './edge-files';
import { runCommand, sendCommand } from './runtime-api';

const CERT_NAME_RE = /^[a-z0-9][a-z0-9._-]{0,200}$/;

export interface CertificateEntry {
  name: string;
  hosts: string[];
  /** Hosts it covers are redirected to HTTPS unless their service says otherwise (not for the local development CA). */
  redirectByDefault: boolean;
}

export function assertCertificateName(name: string): void {
  if (!CERT_NAME_RE.test(name)) throw new SlipwayError('SLW_EDGE', `invalid edge certificate name "${name}" (lowercase letters, digits, . _ and - only)`);
}

export function certificateFile(files: EdgeFiles, name: string): string {
  return path.join(files.certsDir, `${name}.pem`);
}

export function readCertificateEntries(files: EdgeFiles): CertificateEntry[] {
  if (!existsSync(files.certificates)) return [];
  try {
    const parsed = JSON.parse(readFileSync(files.certificates, 'utf8')) as CertificateEntry[];
    return parsed
      .filter((c) => typeof c?.name === 'string' && Array.isArray(c.hosts) && existsSync(certificateFile(files, c.name)))
      .map((c) => ({ name: c.name, hosts: c.hosts, redirectByDefault: c.redirectByDefault === true }));
  } catch (err) {
    throw new SlipwayError('SLW_EDGE', `${files.certificates} is not valid JSON (${(err as Error).message}); fix or delete it`);
  }
}

/** certificates.json and the crt-list HAProxy reads at its next start or reload. */
export function writeCertificateEntries(files: EdgeFiles, entries: CertificateEntry[]): void {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  writeAtomic(files.certificates, `${JSON.stringify(sorted, null, 2)}\n`);
  writeAtomic(files.crtList, sorted.map((c) => `${certificateFile(files, c.name)}\n`).join(''));
}

/** The TLS directory with a self-signed default certificate (served to hosts no certificate covers). */
export async function prepareTlsFiles(files: EdgeFiles): Promise<void> {
  mkdirSync(files.certsDir, { recursive: true, mode: 0o700 });
  if (!existsSync(files.defaultCert)) {
    const own = await createSelfSigned('slipway-default.invalid');
    writeAtomic(files.defaultCert, joinPem(own.certPem, own.keyPem));
  }
  if (!existsSync(files.crtList)) writeCertificateEntries(files, readCertificateEntries(files));
}

export function joinPem(certPem: string, keyPem: string): string {
  const clean = (t: string) => t.split('\n').map((l) => l.trimEnd()).filter((l) => l.length > 0).join('\n');
  return `${clean(certPem)}\n${clean(keyPem)}\n`;
}

/** Certificates HAProxy holds in memory (file names), from `show ssl cert`. */
export async function runtimeCertificates(adminSocket: string): Promise<string[]> {
  return (await sendCommand(adminSocket, 'show ssl cert'))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
}

/**
 * Puts `pem` in HAProxy's memory under `file`: a transaction (set) committed at once. A new
 * file is created empty first and added to the crt-list after the commit.
 */
export async function installAtRuntime(adminSocket: string, files: EdgeFiles, file: string, pem: string): Promise<void> {
  const known = (await runtimeCertificates(adminSocket)).includes(file);
  if (!known) await runCommand(adminSocket, `new ssl cert ${file}`, /^New empty certificate store/);
  try {
    // Not runCommand: its error quotes the command, and this one carries the private key.
    const set = (await sendCommand(adminSocket, `set ssl cert ${file} <<\n${pem.trimEnd()}\n`)).trim();
    if (!/^Transaction (created|updated)/.test(set)) throw refused(file, set);
    // The commit checks that the key matches the certificate.
    const commit = (await sendCommand(adminSocket, `commit ssl cert ${file}`)).trim();
    if (!/Success!/.test(commit)) throw refused(file, commit);
  } catch (err) {
    await sendCommand(adminSocket, `abort ssl cert ${file}`).catch(() => '');
    if (!known) await sendCommand(adminSocket, `del ssl cert ${file}`).catch(() => '');
    throw err;
  }
  // A known certificate may still be missing from the list (an earlier add that failed half-way).
  if (!known || !(await crtListEntries(adminSocket, files)).includes(file)) await runCommand(adminSocket, `add ssl crt-list ${files.crtList} ${file}`, /Success!/);
}

/** The certificate files of the running crt-list (`show ssl crt-list -n`: "<file>:<line>" entries). */
async function crtListEntries(adminSocket: string, files: EdgeFiles): Promise<string[]> {
  return (await sendCommand(adminSocket, `show ssl crt-list -n ${files.crtList}`))
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0]!)
    .filter((l) => l.length > 0 && !l.startsWith('#'))
    .map((l) => l.replace(/:\d+$/, ''));
}

function refused(file: string, reply: string): SlipwayError {
  const why = reply.split('\n').filter((l) => l.trim() && !/^Committing/.test(l)).join('; ') || '(no reply)';
  return new SlipwayError('SLW_EDGE', `HAProxy refused the certificate ${path.basename(file)}: ${why}`);
}

export async function removeAtRuntime(adminSocket: string, files: EdgeFiles, file: string): Promise<void> {
  if (!(await runtimeCertificates(adminSocket)).includes(file)) return;
  await runCommand(adminSocket, `del ssl crt-list ${files.crtList} ${file}`, /deleted|Success!|not found/i);
  await runCommand(adminSocket, `del ssl cert ${file}`, /deleted|Success!/i);
}

export function removeCertificateFile(files: EdgeFiles, name: string): void {
  rmSync(certificateFile(files, name), { force: true });
}

/** An unreadable file reads as no fingerprint: the certificate manager installs it again from the store. */
export function describeCertificate(files: EdgeFiles, entry: CertificateEntry): EdgeCertificate {
  let fingerprint256 = '';
  try {
    fingerprint256 = new X509Certificate(readFileSync(certificateFile(files, entry.name))).fingerprint256;
  } catch {
    // left empty
  }
  return { name: entry.name, hosts: [...entry.hosts], fingerprint256 };
}

/** host → 1 for the hosts a certificate covers whose service wants (or by default gets) HTTPS redirects. */
export function redirectEntries(backends: EdgeBackendSpec[], certs: CertificateEntry[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const b of backends) {
    const wanted = b.https?.redirect ?? null;
    if (wanted === false) continue;
    for (const h of b.hosts) {
      const covering = certs.filter((c) => coversDomain(c.hosts, h));
      if (covering.length > 0 && (wanted === true || covering.some((c) => c.redirectByDefault))) out.set(h, '1');
    }
  }
  return out;
}

/** host → Strict-Transport-Security value, for covered hosts whose service sets one. */
export function hstsEntries(backends: EdgeBackendSpec[], certs: CertificateEntry[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const b of backends) {
    if (!b.https?.hsts) continue;
    for (const h of b.hosts) if (covered(h, certs)) out.set(h, b.https.hsts);
  }
  return out;
}

function covered(host: string, certs: CertificateEntry[]): boolean {
  return certs.some((c) => coversDomain(c.hosts, host));
}

/** A map file: one `key value` line per entry, sorted. */
export function renderMapFile(entries: Map<string, string>): string {
  const lines = [...entries].map(([k, v]) => `${k} ${v}`).sort();
  return lines.length ? `${lines.join('\n')}\n` : '';
}
