/**
 * The request-metrics settings of `slipway server`: their shape, and the parsers of the
 * listen addresses. They are read, with the other settings, from the table in
 * control-plane/server-settings.ts; every error names the variable or flag.
 */
import { isIP } from 'node:net';
import type { TrustedProxies } from './client-ip';

/**
 * Where the control plane listens for the edge's request lines: a unix socket (`null`: the
 * default `<data-dir>/request-log.sock`, which only the server's user can connect to) or, kept
 * for existing settings, a TCP address. Lines are checked for the request-log key either way.
 */
export type RequestLogListen = { socket: string | null } | { host: string; port: number };

export interface RequestMetricsConfig {
  /** Where the control plane listens for the edge's request lines; null: no request metrics. */
  listen: RequestLogListen | null;
  /** Size of the edge's ring: what it keeps while the control plane is away. */
  bufferBytes: number;
  trustedProxies: TrustedProxies;
  recentPerService: number;
  maxRoutesPerService: number;
  retentionMs: number;
  flushIntervalMs: number;
}

export const DEFAULT_REQUEST_LOG_LISTEN = 'unix';

/** `unix` (default), an absolute socket path, `<ip>:<port>`, or `off` (null); the error names the variable or flag. */
export function parseRequestLogListen(value: string | undefined, name = 'SLIPWAY_REQUEST_LOG_LISTEN'): RequestLogListen | null {
  const v = (value || DEFAULT_REQUEST_LOG_LISTEN).trim();
  if (v === 'unix') return { socket: null };
  if (v.startsWith('/')) {
    // Written unquoted into haproxy.cfg; sun_path holds 107 bytes.
    if (!/^\/[A-Za-z0-9._/+@=-]+$/.test(v) || Buffer.byteLength(v) > 107) {
      throw new Error(`${name}: a socket path must be absolute, at most 107 bytes, of letters, digits and . _ / + @ = - only, got "${v}"`);
    }
    return { socket: v };
  }
  try {
    return parseListenAddress(v, name);
  } catch {
    throw new Error(`${name}: expected unix (a socket in the data directory, the default), an absolute socket path, <ip>:<port> (e.g. 127.0.0.1:7421) or off, got "${v}"`);
  }
}

/** `<ip>:<port>` (IPv6 in brackets) or `off` (null); the error names the variable. */
export function parseListenAddress(value: string, name: string): { host: string; port: number } | null {
  const v = value.trim();
  if (v === 'off') return null;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(v);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!host || !isIP(host) || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${name}: expected <ip>:<port> (e.g. 127.0.0.1:7421, [::1]:7421) or off, got "${v}"`);
  }
  return { host, port };
}
