/**
 * How `slipway certs` prints certificates: the table (expiry, renewal, issuer), a line per
 * failed attempt under it, the ACME directory and the local CA's trust commands; what
 * `certs add` and `certs renew` print; an API refusal with each of its details. Pure (the
 * clock is a parameter), so it is tested without a server (certs-format.test.ts).
 */
import type { ErrorDetail } from '../core/errors';
import type { RouteResponse } from '../core/contract/routes';
import type { CertificateView } from '../core/contract/views';
import { LETS_ENCRYPT, LETS_ENCRYPT_STAGING, shortIssuer } from '../core/tls/issuer-name';

export { shortIssuer };

export type CertificatesOverview = RouteResponse<'GET /api/v1/certificates'>;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** An own certificate closer than this to its end gets a warning line (Slipway never renews it). */
const OWN_EXPIRY_WARNING = 14 * DAY;

export const CERTIFICATE_COLUMNS = ['domain', 'source', 'status', 'expires', 'renews', 'issuer'];

/** 45s, 12m, 5h (below 2 days), 40d: a span rounded down to its largest unit. */
export function span(ms: number): string {
  const a = Math.abs(ms);
  if (a < MINUTE) return `${Math.floor(a / SECOND)}s`;
  if (a < HOUR) return `${Math.floor(a / MINUTE)}m`;
  if (a < 2 * DAY) return `${Math.floor(a / HOUR)}h`;
  return `${Math.floor(a / DAY)}d`;
}

/** An ISO instant without milliseconds: 2025-05-30T14:02:10Z. */
export function instant(iso: string): string {
  return new Date(iso).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The date; with the time (UTC) too when it is less than a day away, where the hour matters. */
function day(iso: string, now: number): string {
  const at = new Date(iso).toISOString();
  return Math.abs(Date.parse(iso) - now) < DAY ? `${at.slice(0, 10)} ${at.slice(11, 19)}Z` : at.slice(0, 10);
}

export function expiresCell(c: CertificateView, now: number): string {
  if (!c.notAfter) return '-';
  const left = Date.parse(c.notAfter) - now;
  return left > 0 ? `${day(c.notAfter, now)} (${span(left)} left)` : `${day(c.notAfter, now)} (EXPIRED ${span(left)} ago)`;
}

export function renewsCell(c: CertificateView, now: number): string {
  if (c.source === 'own') return 'never (yours)';
  if (!c.renewAt) return '-';
  const until = Date.parse(c.renewAt) - now;
  return until > 0 ? `${day(c.renewAt, now)} (in ${span(until)})` : `due since ${day(c.renewAt, now)}`;
}

/** One table row per certificate, for printTable with CERTIFICATE_COLUMNS. */
export function certificateRows(certificates: CertificateView[], now: number): Array<Record<string, string>> {
  return certificates.map((c) => ({
    domain: c.domain,
    source: c.source,
    status: c.status,
    expires: expiresCell(c, now),
    renews: renewsCell(c, now),
    issuer: shortIssuer(c.issuer) ?? '-',
  }));
}

/** What a failed certificate's domain serves meanwhile. */
function servedMeanwhile(c: CertificateView, now: number): string {
  if (!c.notAfter) return 'until one is issued, HTTP is served and not redirected';
  const left = Date.parse(c.notAfter) - now;
  return left > 0 ? `the current certificate keeps serving (expires in ${span(left)})` : `the current certificate EXPIRED ${span(left)} ago`;
}

/**
 * The lines under the table that need attention: each failed attempt with its error, the
 * failures in a row and the next attempt; own certificates close to (or past) their end.
 */
export function attentionLines(certificates: CertificateView[], now: number): string[] {
  const lines: string[] = [];
  for (const c of certificates) {
    if (c.lastError !== null || c.status === 'failed') {
      const next = c.nextAttemptAt === null ? '' : Date.parse(c.nextAttemptAt) > now ? `; next attempt at ${instant(c.nextAttemptAt)} (in ${span(Date.parse(c.nextAttemptAt) - now)})` : '; next attempt due now';
      lines.push(`${c.domain}: attempt ${Math.max(c.failures, 1)} failed: ${c.lastError ?? 'no error recorded'}${next}; ${servedMeanwhile(c, now)}`);
    } else if (c.source === 'own' && c.notAfter && Date.parse(c.notAfter) - now < OWN_EXPIRY_WARNING) {
      const left = Date.parse(c.notAfter) - now;
      const when = left > 0 ? `expires in ${span(left)}` : `EXPIRED ${span(left)} ago`;
      lines.push(`${c.domain}: your own certificate ${when}; Slipway does not renew it: add a new one with slipway certs add`);
    }
  }
  return lines;
}

/** Which ACME directory issues certificates, or that none does. */
export function acmeLine(directoryUrl: string | null): string {
  if (directoryUrl === null) return 'ACME off (SLIPWAY_ACME=off, or HTTPS off with SLIPWAY_HTTPS_PORT=off): only *.localhost and your own certificates';
  if (directoryUrl === LETS_ENCRYPT) return `ACME: Let's Encrypt (${directoryUrl})`;
  if (directoryUrl === LETS_ENCRYPT_STAGING) return `ACME: Let's Encrypt staging (${directoryUrl}); browsers do not trust its certificates`;
  return `ACME: ${directoryUrl}`;
}

/** The local development CA's file and the commands that trust it. */
export function localCaLines(localCa: CertificatesOverview['localCa']): string[] {
  return [
    `local CA (signs *.localhost certificates; created with the first one): ${localCa.caFile}`,
    'to trust the local CA on this machine:',
    ...localCa.trustCommands.map((c) => `  ${c}`),
  ];
}

/** Everything `slipway certs` prints after the table (or instead of it, with no certificate yet). */
export function overviewLines(overview: CertificatesOverview, now: number): string[] {
  const lines: string[] = [];
  if (overview.certificates.length === 0) {
    lines.push('no certificates yet: a domain gets one once a deployed service routes it (domains: in slipway.yml), or with slipway certs add');
  }
  const attention = attentionLines(overview.certificates, now);
  if (attention.length) lines.push('', ...attention);
  lines.push('', acmeLine(overview.acme.directoryUrl));
  if (overview.certificates.some((c) => c.source === 'local')) lines.push(...localCaLines(overview.localCa));
  return lines;
}

/** What `slipway certs add` prints once the edge serves the certificate. */
export function installedLines(c: CertificateView, now: number): string[] {
  return [
    `installed your certificate for ${c.domain} at the edge (no reload)`,
    `  covers:   ${c.domains.join(', ') || '-'}`,
    `  expires:  ${c.notAfter ? `${instant(c.notAfter)} (${Date.parse(c.notAfter) > now ? `${span(Date.parse(c.notAfter) - now)} left` : 'EXPIRED'})` : '-'}`,
    `  issuer:   ${c.issuer ?? '-'}`,
    `  sha-256:  ${c.fingerprint256 ?? '-'}`,
    'Slipway never renews your own certificate: add a new one before it expires.',
  ];
}

/** What `slipway certs renew` prints once the CA (or the local CA) issued the certificate. */
export function renewedLines(c: CertificateView, now: number): string[] {
  return [
    `${c.domain}: new certificate from ${shortIssuer(c.issuer) ?? 'the CA'}, installed at the edge (no reload)`,
    `  expires:  ${c.notAfter ? `${instant(c.notAfter)} (${span(Date.parse(c.notAfter) - now)} left)` : '-'}`,
    `  renews:   ${c.renewAt ? `${instant(c.renewAt)} (in ${span(Date.parse(c.renewAt) - now)})` : '-'}`,
  ];
}

const FLAG_OF: Record<string, string> = { cert: '--cert', key: '--key', domain: '--domain' };

/**
 * An API error as the CLI prints it: the message and code, then each detail on its own line
 * (named by the flag it concerns: `flags` maps a detail's path to it, certs' flags by default),
 * unless the message already is the one detail.
 */
export function apiErrorLines(err: { message: string; code: string; details: ErrorDetail[] }, flags: Record<string, string> = FLAG_OF): string[] {
  const lines = [`error: ${err.message}${err.code.startsWith('SLW_') ? ` [${err.code}]` : ''}`];
  const details = err.details.filter((d) => d.message);
  if (details.length === 1 && err.message.includes(details[0]!.message)) return lines;
  for (const d of details) lines.push(`  ${d.path ? `${flags[d.path] ?? d.path}: ` : ''}${d.message}`);
  return lines;
}
