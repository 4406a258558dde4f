/**
 * The client's address behind proxies we trust. Headers such as X-Forwarded-For are written
 * by whoever sent the request, so they are believed only when the connection comes from a
 * trusted proxy (SLIPWAY_TRUSTED_PROXIES, CIDRs; none by default → the peer address). Then:
 * CF-Connecting-IP if present (Cloudflare sets it to the address it saw), else the right-most
 * X-Forwarded-For entry that is not itself a trusted proxy (each proxy appends the address it
 * saw, so entries left of the first untrusted one may be forged by the client).
 */
import { BlockList, isIP } from 'node:net';

export interface TrustedProxies {
  has(address: string): boolean;
  /** As configured, for logs and docs. */
  readonly cidrs: readonly string[];
}

/** Parses a comma- or space-separated CIDR list (`10.0.0.0/8, 173.245.48.0/20, ::1/128`; a bare IP is a /32 or /128). */
export function parseTrustedProxies(spec: string | undefined, name = 'SLIPWAY_TRUSTED_PROXIES'): TrustedProxies {
  const list = new BlockList();
  const cidrs = (spec ?? '').split(/[\s,]+/).filter(Boolean);
  for (const cidr of cidrs) {
    const [address, prefixText, extra] = cidr.split('/');
    const family = isIP(address ?? '');
    const prefix = prefixText === undefined ? (family === 6 ? 128 : 32) : Number(prefixText);
    if (family === 0 || extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32) || prefixText === '') {
      throw new Error(`${name}: "${cidr}" is not an IP address or CIDR (e.g. 10.0.0.0/8, 2001:db8::/32)`);
    }
    list.addSubnet(address!, prefix, family === 6 ? 'ipv6' : 'ipv4');
  }
  return {
    cidrs,
    has: (addr: string) => {
      const ip = bareIp(addr);
      if (!ip || cidrs.length === 0) return false;
      return list.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');
    },
  };
}

/** The client address for a request that reached the edge from `peer`; header values as sent, absent = undefined. */
export function clientIp(peer: string, headers: { forwardedFor?: string; connectingIp?: string }, trusted: TrustedProxies): string {
  const direct = bareIp(peer) ?? peer;
  if (!trusted.has(direct)) return direct;
  const cf = headers.connectingIp ? bareIp(headers.connectingIp.trim()) : null;
  if (cf) return cf;
  const hops = (headers.forwardedFor ?? '').split(',').map((h) => h.trim()).filter(Boolean);
  let nearest = direct;
  for (let i = hops.length - 1; i >= 0; i--) {
    const ip = bareIp(hops[i]!);
    // A hop a trusted proxy wrote but that is no address: the last address we can vouch for.
    if (!ip) return nearest;
    if (!trusted.has(ip)) return ip;
    nearest = ip;
  }
  return nearest;
}

/** An IP literal without port, brackets or IPv4-mapped prefix; null when it is not one. */
function bareIp(value: string): string | null {
  let v = value;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(v);
  if (bracketed) v = bracketed[1]!;
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(v)) v = v.slice(0, v.lastIndexOf(':'));
  if (/^::ffff:\d{1,3}(\.\d{1,3}){3}$/i.test(v)) v = v.slice(7);
  return isIP(v) ? v.toLowerCase() : null;
}
