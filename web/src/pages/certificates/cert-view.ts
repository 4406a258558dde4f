/**
 * What the certificates page says about a certificate: expiry and renewal cells, the issuer's
 * short name, the ACME directory, what needs attention. The same wording as `slipway certs`
 * (src/cli/certs-format.ts), with the dashboard's duration format. Pure: the clock is a parameter.
 */
import { duration } from '../../lib/format';
import type { RouteResponse } from '../../../../src/core/contract/routes';
import type { CertificateView } from '../../../../src/core/contract/views';
import { LETS_ENCRYPT, LETS_ENCRYPT_STAGING, shortIssuer } from '../../../../src/core/tls/issuer-name';

export { shortIssuer };

export type { CertificateView };
export type CertificatesOverview = RouteResponse<'GET /api/v1/certificates'>;

const DAY = 86_400_000;
/** Closer than this to the end: highlighted (and, for your own certificate, a warning line). */
export const EXPIRY_WARNING_MS = 14 * DAY;


export type Level = '' | 'warn' | 'bad';

/** A date, with the time too when it is less than a day away (where the hour matters). */
export function when(iso: string, now: number): string {
  const d = new Date(iso);
  return Math.abs(d.getTime() - now) < DAY
    ? d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
    : d.toLocaleDateString(undefined, { dateStyle: 'medium' });
}

/** "40 d", "5 h 12 min": a span, whichever its sign. */
export function span(ms: number): string {
  return duration(Math.abs(ms));
}

export function isExpired(c: CertificateView, now: number): boolean {
  return c.notAfter !== null && Date.parse(c.notAfter) <= now;
}

export interface Cell {
  text: string;
  note: string;
  level: Level;
}

/** The expiry: the date and the time left; warn under 14 days, bad once expired. */
export function expiryCell(c: CertificateView, now: number): Cell {
  if (!c.notAfter) return { text: '—', note: c.status === 'pending' ? 'none issued yet' : '', level: '' };
  const left = Date.parse(c.notAfter) - now;
  if (left <= 0) return { text: when(c.notAfter, now), note: `expired ${span(left)} ago`, level: 'bad' };
  return { text: when(c.notAfter, now), note: `${span(left)} left`, level: left < EXPIRY_WARNING_MS ? 'warn' : '' };
}

/** When Slipway renews it: never for your own certificate; overdue renewals are flagged. */
export function renewCell(c: CertificateView, now: number): Cell {
  if (c.source === 'own') return { text: 'never', note: 'your own certificate', level: '' };
  if (!c.renewAt) return { text: '—', note: '', level: '' };
  const until = Date.parse(c.renewAt) - now;
  return until > 0 ? { text: when(c.renewAt, now), note: `in ${span(until)}`, level: '' } : { text: `due since ${when(c.renewAt, now)}`, note: '', level: 'warn' };
}

/** Which ACME directory issues certificates, or that none does. */
export function acmeSummary(directoryUrl: string | null): { name: string; url: string | null; note: string | null } {
  if (directoryUrl === null) return { name: 'ACME off', url: null, note: 'SLIPWAY_ACME=off, or HTTPS off with SLIPWAY_HTTPS_PORT=off: only *.localhost and your own certificates are served.' };
  if (directoryUrl === LETS_ENCRYPT) return { name: "Let's Encrypt", url: directoryUrl, note: null };
  if (directoryUrl === LETS_ENCRYPT_STAGING) return { name: "Let's Encrypt staging", url: directoryUrl, note: 'Browsers do not trust its certificates.' };
  return { name: 'ACME directory', url: directoryUrl, note: null };
}

/** A failed (or failing) attempt is recorded: its error is shown under the row. */
export function hasFailure(c: CertificateView): boolean {
  return c.lastError !== null || c.status === 'failed';
}

/** Your own certificate close to (or past) its end: Slipway will not renew it. */
export function ownExpiring(c: CertificateView, now: number): boolean {
  return c.source === 'own' && c.notAfter !== null && Date.parse(c.notAfter) - now < EXPIRY_WARNING_MS;
}

/** What a failed certificate's domain serves meanwhile. */
export function servedMeanwhile(c: CertificateView, now: number): string {
  if (!c.notAfter) return 'Until one is issued, the domain is served over HTTP and not redirected.';
  const left = Date.parse(c.notAfter) - now;
  return left > 0 ? `The current certificate keeps serving (it expires in ${span(left)}).` : `The current certificate expired ${span(left)} ago.`;
}

/** The next attempt after a failure: "in 12 min", or due now. */
export function nextAttempt(c: CertificateView, now: number): { at: string; text: string } | null {
  if (!c.nextAttemptAt) return null;
  const until = Date.parse(c.nextAttemptAt) - now;
  return { at: c.nextAttemptAt, text: until > 0 ? `${when(c.nextAttemptAt, now)} (in ${span(until)})` : 'due now' };
}

/** Whether the page may offer "Renew now": ACME (when on) and local certificates; own ones never. */
export function renewable(c: CertificateView, acmeOn: boolean): { ok: boolean; why: string | null } {
  if (c.source === 'own') return { ok: false, why: null };
  if (c.source === 'acme' && !acmeOn) return { ok: false, why: 'ACME is off (SLIPWAY_ACME=off): no CA can issue it' };
  return { ok: true, why: null };
}

/** Certificates needing attention first (failed, expired, expiring soon), then by domain. */
export function ordered(certificates: CertificateView[], now: number): CertificateView[] {
  const rank = (c: CertificateView) => (hasFailure(c) || isExpired(c, now) ? 0 : c.notAfter !== null && Date.parse(c.notAfter) - now < EXPIRY_WARNING_MS ? 1 : 2);
  return [...certificates].sort((a, b) => rank(a) - rank(b) || a.domain.localeCompare(b.domain));
}
