/**
 * Stage 2: the data directory made private, the SQLite store opened and migrated, and the
 * Prometheus metrics that time every store call. Undone by closing the store.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import type { Store } from '../core/ports/store';
import { ensurePrivateFile, secureDataDir } from '../drivers/host/data-dir-permissions';
import { SlipwayMetrics, type MetricsSources } from '../observe/slipway-metrics';
import { openSqliteStore } from '../store/sqlite-store';
import type { CleanupStack } from './cleanup-stack';
import type { ResolvedOptions } from './control-plane-options';

/**
 * Sources of GET /metrics that later stages build (the notifier's backlog, the request-log
 * ingestion): each stage fills its own in. They are read at scrape time, once every stage has run.
 */
export interface MetricsFeeds {
  outboxBacklog?: MetricsSources['outboxBacklog'];
  ingestStats?: NonNullable<MetricsSources['ingestStats']>;
}

export interface StoreStage {
  /** The store, every call timed for /metrics. */
  store: Store;
  metrics: SlipwayMetrics;
  feeds: MetricsFeeds;
}

const NO_INGEST = { lines: 0, malformed: 0, counted: 0, unrouted: 0, unauthenticated: 0 };

export async function openStore(o: ResolvedOptions, logger: Logger, stack: CleanupStack): Promise<StoreStage> {
  // 0700/0600, fixed with a warning where a copy or an older version left them open (docs/operations.md).
  secureDataDir(o.dataDir, logger);
  // SQLite gives -wal and -shm the database file's mode: a 0600 file first makes all three private.
  ensurePrivateFile(path.join(o.dataDir, 'slipway.db'));
  const rawStore = await openSqliteStore({ file: path.join(o.dataDir, 'slipway.db'), logger });
  stack.defer('store', () => rawStore.close());
  await rawStore.migrate();
  const feeds: MetricsFeeds = {};
  const metrics = new SlipwayMetrics({
    outboxBacklog: () => feeds.outboxBacklog?.() ?? Promise.resolve({ events: 0, pendingDeliveries: 0 }),
    ingestStats: () => feeds.ingestStats?.() ?? NO_INGEST,
    deployment: (id) => rawStore.getDeployment(id),
  });
  return { store: metrics.timedStore(rawStore), metrics, feeds };
}
