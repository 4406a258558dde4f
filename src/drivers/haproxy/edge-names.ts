/**
 * Validation of everything the driver writes into haproxy.cfg, the host map or a
 * runtime-API command line: a space or newline there would change the command.
 */
import { isIP } from 'node:net';
import { SlipwayError } from '../../core/errors';

const BACKEND_RE = /^[A-Za-z0-9_-]{1,100}$/;
const SERVER_RE = /^[A-Za-z0-9._-]{1,100}$/;
/** Same rule as `domains` in the project config (src/core/config-schema.ts). */
const HOST_RE = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

export function assertBackendName(name: string): void {
  if (!BACKEND_RE.test(name)) throw new SlipwayError('SLW_EDGE', `invalid edge backend name "${name}" (letters, digits, _ and - only)`);
}

export function assertServerName(name: string): void {
  if (!SERVER_RE.test(name)) throw new SlipwayError('SLW_EDGE', `invalid edge server name "${name}" (letters, digits, . _ and - only)`);
}

/** A stopped service's name (EdgeBackendSpec.stopped): a map value and part of its 503 page. */
const SERVICE_RE = /^[a-z][a-z0-9-]{0,39}$/;

export function assertStoppedService(name: string): void {
  if (!SERVICE_RE.test(name)) throw new SlipwayError('SLW_EDGE', `invalid stopped service name "${name}" (a service name: lowercase letters, digits and -)`);
}

/** HAProxy accepts absolute weights 0–256. */
export function assertWeight(weight: number): void {
  if (!Number.isInteger(weight) || weight < 0 || weight > 256) throw new SlipwayError('SLW_EDGE', `edge server weight ${weight} is not a whole number from 0 to 256`);
}

/** Lowercases (the edge matches the Host header lowercased), checks, and removes duplicates. */
export function normalizeHosts(hosts: string[]): string[] {
  const out = [...new Set(hosts.map((h) => h.toLowerCase()))];
  for (const h of out) {
    if (!HOST_RE.test(h)) throw new SlipwayError('SLW_EDGE', `invalid host name "${h}" for the edge (a host name such as app.example.com, no port or path)`);
  }
  return out;
}

/** `ip:port` as HAProxy wants it on an `add server` or `server` line (IPv6 in brackets). */
export function serverAddress(address: string, port: number): string {
  const family = isIP(address);
  if (family === 0) throw new SlipwayError('SLW_EDGE', `edge server address "${address}" is not an IP address`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new SlipwayError('SLW_EDGE', `edge server port ${port} is out of range`);
  return family === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Splits HAProxy's `addr` column (`10.0.0.2:3000`, `[::1]:3000`) into address and port. */
export function splitAddress(addr: string): { address: string; port: number } {
  const i = addr.lastIndexOf(':');
  if (i < 0) return { address: addr, port: 0 };
  const host = addr.slice(0, i);
  return { address: host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host, port: Number(addr.slice(i + 1)) || 0 };
}
