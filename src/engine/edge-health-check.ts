/** A web service's edge health checks (slipway.yml `health`), as the edge applies them to its replicas. */
import type { ServiceConfig } from '../core/config';
import type { EdgeHealthCheck } from '../core/ports/edge';

/** Defaults of releases recorded before edge checks existed (their config has no fall/rise). */
export const DEFAULT_FALL = 3;
export const DEFAULT_RISE = 2;
export const DEFAULT_REPLACE_AFTER_MS = 60_000;

export function edgeHealthCheck(config: Pick<ServiceConfig, 'health' | 'domains'>, backend: string): EdgeHealthCheck {
  const h = config.health;
  return {
    path: h.path,
    // The Host a request for the service carries; the backend name when it has no domain.
    host: config.domains[0] ?? backend,
    intervalMs: h.intervalMs,
    timeoutMs: h.timeoutMs,
    fall: h.fall ?? DEFAULT_FALL,
    rise: h.rise ?? DEFAULT_RISE,
  };
}
