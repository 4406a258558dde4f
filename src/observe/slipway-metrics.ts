/**
 * Prometheus metrics of the control plane (prom-client), served at GET /metrics:
 * Slipway's own work (deployments by outcome and their duration, background loop rounds,
 * store operation latency, outbox backlog, request-log ingestion) and per-service request
 * metrics counted from the edge's request log as each line is ingested.
 *
 * Request series are labelled project/service/env/release/code_class: a release's series
 * stay until the control plane restarts (Prometheus keeps the history; the cardinality is
 * bounded by releases deployed since the start).
 */
import client from 'prom-client';
import type { Deployment } from '../core/domain';
import { isTerminal, type DeploymentState } from '../core/domain';
import type { Store } from '../core/ports/store';
import type { Telemetry } from '../core/ports/telemetry';

/** What one request contributes (a subset of the ingested request record). */
export interface RequestSample {
  project: string;
  service: string;
  env: string;
  release: number | null;
  status: number;
  durationMs: number;
}

export interface MetricsSources {
  /** Outbox events not fanned out and deliveries pending. */
  outboxBacklog(): Promise<{ events: number; pendingDeliveries: number }>;
  /** Request-log ingestion counters, when request metrics are on. */
  ingestStats?(): { lines: number; malformed: number; counted: number; unrouted: number; unauthenticated?: number };
  /** Looks a deployment up when it ends (for its kind and duration). */
  deployment(id: string): Promise<Deployment | null>;
}

const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const DEPLOY_BUCKETS_S = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800];

export class SlipwayMetrics implements Telemetry {
  readonly registry = new client.Registry();
  private readonly requests: client.Counter<'project' | 'service' | 'env' | 'release' | 'code_class'>;
  private readonly requestDuration: client.Histogram<'project' | 'service' | 'env' | 'release'>;
  private readonly deployments: client.Counter<'kind' | 'outcome'>;
  private readonly deploymentDuration: client.Histogram<'kind' | 'outcome'>;
  private readonly loops: client.Histogram<'loop'>;
  private readonly storeLatency: client.Histogram<'operation'>;

  constructor(private readonly sources: MetricsSources) {
    const r = this.registry;
    client.collectDefaultMetrics({ register: r, prefix: 'slipway_' });
    this.requests = new client.Counter({ name: 'slipway_http_requests_total', help: 'Requests through the edge, by service, environment, release and status class', labelNames: ['project', 'service', 'env', 'release', 'code_class'], registers: [r] });
    this.requestDuration = new client.Histogram({ name: 'slipway_http_request_duration_seconds', help: 'Edge-measured total time of requests', labelNames: ['project', 'service', 'env', 'release'], buckets: DURATION_BUCKETS_S, registers: [r] });
    this.deployments = new client.Counter({ name: 'slipway_deployments_total', help: 'Deployments that ended, by kind and outcome (succeeded, failed, cancelled, rolled_back)', labelNames: ['kind', 'outcome'], registers: [r] });
    this.deploymentDuration = new client.Histogram({ name: 'slipway_deployment_duration_seconds', help: 'Time from a deployment starting to its end', labelNames: ['kind', 'outcome'], buckets: DEPLOY_BUCKETS_S, registers: [r] });
    this.loops = new client.Histogram({ name: 'slipway_loop_duration_seconds', help: 'Rounds of background loops (job scheduler, notifier, stats sampler, reconciler)', labelNames: ['loop'], buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [r] });
    this.storeLatency = new client.Histogram({ name: 'slipway_store_operation_duration_seconds', help: 'Latency of store operations', labelNames: ['operation'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1], registers: [r] });
    const backlog = { events: 0, pendingDeliveries: 0 };
    new client.Gauge({
      name: 'slipway_outbox_backlog',
      help: 'Outbox work not done yet: events not fanned out to targets, and deliveries pending',
      labelNames: ['kind'],
      registers: [r],
      async collect() {
        Object.assign(backlog, await sources.outboxBacklog());
        this.set({ kind: 'events' }, backlog.events);
        this.set({ kind: 'deliveries' }, backlog.pendingDeliveries);
      },
    });
    if (sources.ingestStats) {
      const stats = sources.ingestStats.bind(sources);
      new client.Counter({
        name: 'slipway_request_log_lines_total',
        help: 'Request-log lines received from the edge, by what became of them',
        labelNames: ['result'],
        registers: [r],
        collect() {
          const s = stats();
          this.reset();
          this.inc({ result: 'counted' }, s.counted);
          this.inc({ result: 'malformed' }, s.malformed);
          this.inc({ result: 'unrouted' }, s.unrouted);
          // Dropped by the listener before parsing: not from the edge (no request-log key).
          if (s.unauthenticated !== undefined) this.inc({ result: 'unauthenticated' }, s.unauthenticated);
        },
      });
    }
  }

  /** Counts one request from the edge's log. Synchronous and cheap: runs per request. */
  recordRequest(s: RequestSample): void {
    const release = s.release === null ? 'none' : `v${s.release}`;
    const codeClass = s.status >= 100 && s.status < 600 ? `${Math.floor(s.status / 100)}xx` : 'none';
    this.requests.inc({ project: s.project, service: s.service, env: s.env, release, code_class: codeClass });
    this.requestDuration.observe({ project: s.project, service: s.service, env: s.env, release }, s.durationMs / 1000);
  }

  loopDone(loop: string, seconds: number): void {
    this.loops.observe({ loop }, seconds);
  }

  /** Counts a deployment when it reaches a terminal state (wired to the engine's deployment events). */
  onDeploymentState(deploymentId: string, state: DeploymentState): void {
    if (!isTerminal(state)) return;
    void this.sources.deployment(deploymentId).then(
      (d) => {
        if (!d) return;
        this.deployments.inc({ kind: d.kind, outcome: state });
        const from = Date.parse(d.startedAt ?? d.createdAt);
        const to = Date.parse(d.finishedAt ?? new Date().toISOString());
        if (Number.isFinite(from) && Number.isFinite(to)) this.deploymentDuration.observe({ kind: d.kind, outcome: state }, Math.max(0, to - from) / 1000);
      },
      () => undefined, // a metric is not worth failing anything for
    );
  }

  /** The store with every async operation timed (the transaction callback's inner calls are not). */
  timedStore(store: Store): Store {
    const histogram = this.storeLatency;
    return new Proxy(store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function' || typeof prop !== 'string') return value;
        return (...args: unknown[]) => {
          const started = performance.now();
          const result = (value as (...a: unknown[]) => unknown).apply(target, args);
          if (result instanceof Promise) {
            return result.finally(() => histogram.observe({ operation: prop }, (performance.now() - started) / 1000));
          }
          return result;
        };
      },
    });
  }

  contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
