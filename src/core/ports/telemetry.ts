/**
 * Telemetry port: what the engine reports about its own work (implemented by
 * src/observe/slipway-metrics.ts as Prometheus metrics). Optional everywhere: an engine
 * without it works the same, it is just not measured.
 */
export interface Telemetry {
  /** One round of a background loop (job scheduler, notifier…) took this long. */
  loopDone(loop: string, seconds: number): void;
}
