/**
 * The address pool project networks take their /24 subnets from (SLIPWAY_SUBNET_POOL,
 * default 10.213.0.0/16). Docker's own default pools hold about 31 networks; one network per
 * project environment needs more, and explicit subnets never collide with Docker's choices.
 * Pure: parsing, overlap and the pick; env-network.ts does the I/O.
 */
import { SlipwayError } from '../../core/errors';

export const DEFAULT_SUBNET_POOL = '10.213.0.0/16';
const SUBNET_BITS = 24;

/** An IPv4 range: first address as an unsigned 32-bit number and the prefix length. */
export interface Cidr {
  base: number;
  bits: number;
}

function ipToNumber(ip: string): number | null {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return null;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function numberToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

const size = (bits: number): number => 2 ** (32 - bits);

/** `10.1.2.0/24` → Cidr, null when it is not an IPv4 CIDR (IPv6 subnets never overlap ours). */
export function parseCidr(text: string): Cidr | null {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(text.trim());
  if (!m) return null;
  const ip = ipToNumber(m[1]!);
  const bits = Number(m[2]);
  if (ip === null || bits > 32) return null;
  // Docker accepts host bits set (`10.0.0.5/16`); the range is the network's.
  return { base: ip - (ip % size(bits)), bits };
}

export const formatCidr = (c: Cidr): string => `${numberToIp(c.base)}/${c.bits}`;

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + size(b.bits) && b.base < a.base + size(a.bits);
}

/** The pool setting, validated: an IPv4 CIDR of /24 or larger, given exactly (no host bits). */
export function parseSubnetPool(text: string, variable = 'SLIPWAY_SUBNET_POOL'): Cidr {
  const cidr = parseCidr(text);
  if (!cidr || cidr.bits > SUBNET_BITS || formatCidr(cidr) !== text.trim()) {
    throw new SlipwayError('SLW_CONFIG_INVALID', `${variable}: expected an IPv4 range of /${SUBNET_BITS} or larger such as ${DEFAULT_SUBNET_POOL}, got ${JSON.stringify(text)}`, [
      { path: variable, message: `expected an IPv4 CIDR of /${SUBNET_BITS} or larger (e.g. ${DEFAULT_SUBNET_POOL})` },
    ]);
  }
  return cidr;
}

/** Every /24 of the pool not overlapping a subnet in use, in address order. */
export function freeSubnets(pool: Cidr, inUse: Cidr[]): Cidr[] {
  const out: Cidr[] = [];
  for (let base = pool.base; base < pool.base + size(pool.bits); base += size(SUBNET_BITS)) {
    const candidate = { base, bits: SUBNET_BITS };
    if (!inUse.some((u) => overlaps(candidate, u))) out.push(candidate);
  }
  return out;
}

/** The gateway Docker's bridge gets: the subnet's first host address. */
export const gatewayOf = (subnet: Cidr): string => numberToIp(subnet.base + 1);

export const subnetCount = (pool: Cidr): number => size(pool.bits) / size(SUBNET_BITS);
