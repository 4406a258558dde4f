/**
 * When a certificate is renewed, and when a failed attempt is retried. Pure, so the schedule
 * is unit-tested without a CA.
 */

/** Renewal falls due at 2/3 of the lifetime (Let's Encrypt's advice: 60 of 90 days). */
export function renewAt(notBefore: string, notAfter: string): string {
  const from = Date.parse(notBefore);
  const to = Date.parse(notAfter);
  return new Date(from + Math.floor(((to - from) * 2) / 3)).toISOString();
}

export interface RetryPolicy {
  /** Wait after the first failure; doubled after each further one. */
  firstMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { firstMs: 60_000, maxMs: 6 * 3_600_000 };

/** The earliest next attempt after `failures` failed ones in a row (≥ 1). */
export function nextAttemptAt(now: number, failures: number, policy: RetryPolicy = DEFAULT_RETRY): string {
  const wait = Math.min(policy.maxMs, policy.firstMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
  return new Date(now + wait).toISOString();
}

/** Development names the local CA serves (RFC 6761: *.localhost never leaves the machine). */
export function isLocalDomain(domain: string): boolean {
  return domain === 'localhost' || domain.endsWith('.localhost');
}
