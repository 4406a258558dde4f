/**
 * The request-metrics settings of `slipway server`, read from its environment (main.ts
 * passes process.env). Every value is checked here, with an error that names the variable.
 */
import { isIP } from 'node:net';
import { parseDuration } from '../core/duration';
import { parseTrustedProxies, type TrustedProxies } from './client-ip';

export interface RequestMetricsConfig {
  /** Where the control plane listens for the edge's request lines; null: no request metrics. */
  listen: { host: string; port: number } | null;
  /** Size of the edge's ring: what it keeps while the control plane is away. */
  bufferBytes: number;
  trustedProxies: TrustedProxies;
  recentPerService: number;
  maxRoutesPerService: number;
  retentionMs: number;
  flushIntervalMs: number;
}

export const DEFAULT_REQUEST_LOG_LISTEN = '127.0.0.1:7421';

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

function listenAddress(value: string | undefined): RequestMetricsConfig['listen'] {
  return parseListenAddress(value ?? DEFAULT_REQUEST_LOG_LISTEN, 'SLIPWAY_REQUEST_LOG_LISTEN');
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
