/** How certificates and CAs are named to people (the CLI and the dashboard say it the same way). */

/** Let's Encrypt's ACME directories (SLIPWAY_ACME=letsencrypt, letsencrypt-staging). */
export const LETS_ENCRYPT = 'https://acme-v02.api.letsencrypt.org/directory';
export const LETS_ENCRYPT_STAGING = 'https://acme-staging-v02.api.letsencrypt.org/directory';

/** The attributes of a one-line distinguished name ("CN=R11, O=Let's Encrypt, C=US"); values may hold ", ". */
function nameParts(dn: string): Map<string, string> {
  const parts = new Map<string, string>();
  for (const m of dn.matchAll(/(?:^|, )([A-Za-z][A-Za-z0-9.]*)=((?:(?!, [A-Za-z][A-Za-z0-9.]*=).)*)/g)) {
    if (!parts.has(m[1]!)) parts.set(m[1]!, m[2]!);
  }
  return parts;
}

/**
 * The issuer's CN, followed by its organization when the CN does not name it
 * ("R11 (Let's Encrypt)", "Pebble Intermediate CA 3c8a1f", "Cloudflare Origin SSL Certificate Authority").
 */
export function shortIssuer(issuer: string | null): string | null {
  if (!issuer) return null;
  const parts = nameParts(issuer);
  const cn = parts.get('CN');
  const org = parts.get('O');
  if (!cn) return org ?? issuer;
  const orgWord = org?.split(/[\s,]+/)[0]?.toLowerCase();
  return org && orgWord && !cn.toLowerCase().includes(orgWord) ? `${cn} (${org})` : cn;
}
