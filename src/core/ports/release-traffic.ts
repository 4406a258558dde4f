/**
 * ReleaseTraffic port: what one release of a service answered at the edge over a recent
 * window (seconds to minutes), for canary analysis. Implemented in src/observe from the same
 * request lines as the request metrics; the per-minute buckets of the store are too coarse
 * for windows of a few seconds.
 */
import type { ServiceRef } from '../domain';
import type { WindowFigures } from '../canary-analysis';

export interface ReleaseTraffic {
  /**
   * Requests of `release` whose line reached the control plane in [sinceMs, untilMs) (epoch ms),
   * at the implementation's slot resolution (250 ms in observe/release-windows.ts). Null when request metrics are off (no figures can be had).
   */
  window(ref: ServiceRef, release: number, sinceMs: number, untilMs: number): WindowFigures | null;
}

/** What a service answered at the edge over a recent window, every release together (alert rules). */
export interface ServiceTraffic {
  /** As `window`, summed over the service's releases. */
  serviceWindow(ref: ServiceRef, sinceMs: number, untilMs: number): WindowFigures | null;
}
