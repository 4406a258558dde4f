/**
 * Stage 3: what the engine acts on — the Docker runtime, the request-log ingestion and its
 * listener (bound before the edge starts, so HAProxy's ring forwarder finds it at once), and
 * the HAProxy edge. Undone by closing the listener, flushing what was counted and closing the
 * runtime's event watch; the edge is never stopped: it keeps serving while the control plane
 * is away.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import { errorMessage } from '../core/errors';
import { DockerRuntime } from '../drivers/docker/docker-runtime';
import { HaproxyEdge } from '../drivers/haproxy/haproxy-edge';
import { edgeControlAddress } from '../https-options';
import { loadOrCreateRequestLogKey } from '../observe/request-log-key';
import { RequestLogListener } from '../observe/request-log-listener';
import { RequestMetrics } from '../observe/request-metrics';
import type { RequestLogListen } from '../observe/request-metrics-config';
import { ReleaseWindows } from '../observe/release-windows';
import type { CleanupStack } from './cleanup-stack';
import type { ResolvedOptions } from './control-plane-options';
import type { StoreStage } from './stage-store';

export interface RuntimeEdgeStage {
  runtime: DockerRuntime;
  edge: HaproxyEdge;
  /** Request metrics from the edge's log; null when SLIPWAY_REQUEST_LOG_LISTEN=off. */
  ingest: RequestMetrics | null;
  listener: RequestLogListener | null;
  /** Per-release per-second figures for canary analysis; null without request metrics. */
  releaseWindows: ReleaseWindows | null;
}

export async function startRuntimeAndEdge(o: ResolvedOptions, logger: Logger, stack: CleanupStack, { store, metrics, feeds }: StoreStage): Promise<RuntimeEdgeStage> {
  const runtime = new DockerRuntime({ socketPath: o.dockerSocket, network: o.network, subnetPool: o.subnetPool, logger: logger.child({ component: 'docker' }) });
  stack.defer('docker event watch', () => runtime.close());
  await runtime.ping();
  await runtime.ensureNetwork();

  const metricsConfig = o.requestMetrics;
  // Per-release per-second figures for canary analysis, fed by the same hook as the Prometheus counters.
  const releaseWindows = metricsConfig.listen ? new ReleaseWindows() : null;
  const ingest: RequestMetrics | null = metricsConfig.listen
    ? new RequestMetrics({
        ...metricsConfig,
        store,
        logger: logger.child({ component: 'request-metrics' }),
        onRequest: (r) => {
          metrics.recordRequest(r);
          releaseWindows!.record(r);
        },
      })
    : null;
  // Registered before the listener's: at close the listener stops first (lines sent while we are
  // away wait in the edge's ring), then what was counted is written.
  if (ingest) stack.defer('request metrics', () => ingest.stop());
  // Every line the edge writes starts with this key; the listener drops the others (docs/observability.md).
  const requestLogKey = ingest ? loadOrCreateRequestLogKey(path.join(o.dataDir, 'request-log.key')) : '';
  const listener = ingest ? new RequestLogListener((line) => ingest.ingest(line), { key: requestLogKey, logger: logger.child({ component: 'request-log' }) }) : null;
  feeds.ingestStats = () => ({
    ...(ingest?.stats() ?? { lines: 0, malformed: 0, counted: 0, unrouted: 0 }),
    unauthenticated: listener?.stats.unauthenticated ?? 0,
  });
  const requestLog =
    metricsConfig.listen && listener ? { ...(await listenForRequestLog(listener, metricsConfig.listen, o.dataDir)), key: requestLogKey, bufferBytes: metricsConfig.bufferBytes } : undefined;
  if (requestLog) stack.defer('request-log listener', () => listener!.close());

  const edge = new HaproxyEdge({
    dataDir: path.join(o.dataDir, 'edge'),
    httpPort: o.httpPort,
    bindAddress: o.edgeBind,
    requestLog,
    prometheus: o.edgePrometheus ? { address: o.edgePrometheus.host, port: o.edgePrometheus.port } : undefined,
    https: o.httpsPort ? { port: o.httpsPort } : undefined,
    control: o.apiPort ? { address: edgeControlAddress(o.apiHost), port: o.apiPort, domain: o.domain } : undefined,
    logger: logger.child({ component: 'edge' }),
  });
  await ingest?.start();
  if (requestLog) logger.info({ listen: 'socket' in requestLog ? requestLog.socket : `${requestLog.address}:${requestLog.port}` }, 'request metrics: listening for the edge request log');
  return { runtime, edge, ingest, listener, releaseWindows };
}

/** Binds the request-log listener: a unix socket (default `<data-dir>/request-log.sock`) or the legacy TCP address. */
async function listenForRequestLog(listener: RequestLogListener, at: RequestLogListen, dataDir: string): Promise<{ socket: string } | { address: string; port: number }> {
  const where = 'socket' in at ? (at.socket ?? path.join(dataDir, 'request-log.sock')) : `${at.host}:${at.port}`;
  try {
    if ('socket' in at) {
      if (Buffer.byteLength(where) > 107) throw new Error(`the path is longer than a unix socket path may be (107 bytes)`);
      await listener.listenUnix(where);
      return { socket: where };
    }
    return { address: at.host, port: await listener.listen(at.host, at.port) };
  } catch (err) {
    throw new Error(`cannot listen for the edge's request log on ${where} (${errorMessage(err)}); set SLIPWAY_REQUEST_LOG_LISTEN to another socket path or address, or to off`);
  }
}
