/**
 * The request-metrics settings of `slipway server`, read from its environment (main.ts
 * passes process.env). Every value is checked here, with an error that names the variable.
 */
import { isIP } from 'node:net';
import { parseDuration } from '../core/duration';
import { parseTrustedProxies, type TrustedProxies } from './client-ip';

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

export function requestMetricsConfig(env: NodeJS.ProcessEnv): RequestMetricsConfig {
  return {
    listen: listenAddress(env.SLIPWAY_REQUEST_LOG_LISTEN),
    bufferBytes: whole(env.SLIPWAY_REQUEST_LOG_BUFFER, 32 * 1024 * 1024, 'SLIPWAY_REQUEST_LOG_BUFFER', 64 * 1024, 2 ** 31 - 1),
    trustedProxies: parseTrustedProxies(env.SLIPWAY_TRUSTED_PROXIES),
    recentPerService: whole(env.SLIPWAY_RECENT_REQUESTS, 10_000, 'SLIPWAY_RECENT_REQUESTS', 1, 1_000_000),
    maxRoutesPerService: whole(env.SLIPWAY_ROUTES_PER_SERVICE, 200, 'SLIPWAY_ROUTES_PER_SERVICE', 1, 100_000),
    retentionMs: duration(env.SLIPWAY_METRICS_RETENTION, 14 * 86_400_000, 'SLIPWAY_METRICS_RETENTION', 3_600_000),
    flushIntervalMs: duration(env.SLIPWAY_METRICS_FLUSH_INTERVAL, 5000, 'SLIPWAY_METRICS_FLUSH_INTERVAL', 100),
  };
}

/** `unix` (default), an absolute socket path, `<ip>:<port>`, or `off`. */
function listenAddress(value: string | undefined): RequestMetricsConfig['listen'] {
  const v = (value || DEFAULT_REQUEST_LOG_LISTEN).trim();
  if (v === 'unix') return { socket: null };
  if (v.startsWith('/')) {
    // Written unquoted into haproxy.cfg; sun_path holds 107 bytes.
    if (!/^\/[A-Za-z0-9._/+@=-]+$/.test(v) || Buffer.byteLength(v) > 107) {
      throw new Error(`SLIPWAY_REQUEST_LOG_LISTEN: a socket path must be absolute, at most 107 bytes, of letters, digits and . _ / + @ = - only, got "${v}"`);
    }
    return { socket: v };
  }
  try {
    return parseListenAddress(v, 'SLIPWAY_REQUEST_LOG_LISTEN');
  } catch {
    throw new Error(`SLIPWAY_REQUEST_LOG_LISTEN: expected unix (a socket in the data directory, the default), an absolute socket path, <ip>:<port> (e.g. 127.0.0.1:7421) or off, got "${v}"`);
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

function whole(value: string | undefined, fallback: number, name: string, min: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name}: expected a whole number from ${min} to ${max}, got "${value}"`);
  return n;
}

function duration(value: string | undefined, fallback: number, name: string, min: number): number {
  if (value === undefined || value === '') return fallback;
  const ms = parseDuration(value);
  if (ms === null || ms < min) throw new Error(`${name}: expected a duration of at least ${min / 1000}s (e.g. 5s, 14d), got "${value}"`);
  return ms;
}
