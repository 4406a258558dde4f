/**
 * The edge backend of a web service's release: its domains, HTTPS policy and health checks, and,
 * for a stopped service (`slipway stop`: a release with 0 replicas), its 503 page naming the
 * service (EdgeBackendSpec.stopped). One place for the deployment's `edge route` step and the
 * desired state the reconciler holds the edge to (edge-desired-state.ts).
 */
import type { ServiceConfig } from '../core/config';
import type { EdgeBackendSpec } from '../core/ports/edge';
import { edgeHealthCheck } from './edge-health-check';
import { edgeHttpsPolicy } from './https-policy';

/** `stopped`: whether the page is on (default: the release runs no replica). */
export function edgeBackendSpec(backend: string, config: ServiceConfig, opts: { stopped?: boolean } = {}): EdgeBackendSpec {
  const stopped = opts.stopped ?? config.replicas === 0;
  return {
    name: backend,
    hosts: [...config.domains],
    https: edgeHttpsPolicy(config),
    check: edgeHealthCheck(config, backend),
    ...(stopped ? { stopped: { service: config.name } } : {}),
  };
}
