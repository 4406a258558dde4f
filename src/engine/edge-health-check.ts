/** A web service's edge health checks (slipway.yml `health`), as the edge applies them to its replicas. */
import type { ServiceConfig } from '../core/config';
import type { EdgeHealthCheck } from '../core/ports/edge';

/**
 * The edge checks a replica at most once a second: `health.interval` also paces readiness
 * probing during deploys, where 200 ms is common, and 50 services checked every 200 ms kept
 * 2 cores measurably busy (the dashboard's overview went from ~200 to ~500 ms).
 */
export const EDGE_CHECK_MIN_INTERVAL_MS = 1000;

/**
 * A service whose readiness is `tcp` or `exec` gets TCP connect checks at the edge: HAProxy
 * cannot run a command in a container, and such a service may answer no HTTP at all. `kind` is
 * left out for HTTP so backends written before kinds existed compare equal (no reload).
 */
export function edgeHealthCheck(config: Pick<ServiceConfig, 'health' | 'domains'>, backend: string): EdgeHealthCheck {
  const h = config.health;
  return {
    ...(h.kind === 'tcp' || h.kind === 'exec' ? { kind: 'tcp' as const } : {}),
    path: h.path,
    // The Host a request for the service carries; the backend name when it has no domain.
    host: config.domains[0] ?? backend,
    intervalMs: Math.max(EDGE_CHECK_MIN_INTERVAL_MS, h.intervalMs),
    timeoutMs: h.timeoutMs,
    fall: h.fall,
    rise: h.rise,
  };
}

/** What the edge checks, for messages: "on /health", or "(tcp connect)". */
export function edgeCheckTarget(health: Pick<ServiceConfig['health'], 'kind' | 'path'>): string {
  return health.kind === 'tcp' || health.kind === 'exec' ? '(tcp connect)' : `on ${health.path}`;
}
