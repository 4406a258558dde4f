/** HTTPS settings read from the environment by the composition root (docs/https.md). */

import { LETS_ENCRYPT, LETS_ENCRYPT_STAGING } from './core/tls/issuer-name';

export { LETS_ENCRYPT, LETS_ENCRYPT_STAGING };

/** SLIPWAY_ACME: letsencrypt (default), letsencrypt-staging, an https:// directory URL, or off (null). */
export function acmeDirectoryFrom(value: string | undefined, name = 'SLIPWAY_ACME'): string | null {
  if (value === undefined || value === '' || value === 'letsencrypt') return LETS_ENCRYPT;
  if (value === 'letsencrypt-staging') return LETS_ENCRYPT_STAGING;
  if (value === 'off') return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${name}: expected letsencrypt, letsencrypt-staging, off or an https:// ACME directory URL, got "${value}"`);
  }
  if (url.protocol !== 'https:') throw new Error(`${name}: an ACME directory is served over https (RFC 8555), got "${value}"`);
  return url.toString();
}

const HOST_RE = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** SLIPWAY_DOMAIN: the host name the dashboard and API are served on through the edge. */
export function controlDomainFrom(value: string | undefined, name = 'SLIPWAY_DOMAIN'): string | null {
  if (value === undefined || value === '') return null;
  const host = value.toLowerCase();
  if (!HOST_RE.test(host)) throw new Error(`${name}: expected a host name such as slipway.example.com (no scheme, port or path), got "${value}"`);
  return host;
}

/** Where the edge reaches the API: a wildcard listen address is reached on loopback. */
export function edgeControlAddress(apiHost: string): string {
  if (apiHost === '0.0.0.0' || apiHost === 'localhost' || apiHost === '') return '127.0.0.1';
  if (apiHost === '::' || apiHost === '[::]') return '::1';
  return apiHost.replace(/^\[|\]$/g, '');
}
