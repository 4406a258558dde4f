/** Store role: per-minute (and coarser) request buckets measured at the edge. */
import type { RequestBucket, RequestBucketQuery } from '../../request-metrics';

export interface RequestMetricsStore {
  /**
   * Adds each bucket's counts, bytes, durations and histogram to the stored bucket with the same
   * project+env+service+release+route+span+start (created if missing), all in one transaction.
   */
  mergeRequestBuckets(buckets: RequestBucket[]): Promise<void>;
  /** Buckets of one span whose start is in [from, to), in no particular order. */
  listRequestBuckets(q: RequestBucketQuery): Promise<RequestBucket[]>;
  /** Deletes buckets that start before `before` (epoch seconds); returns how many. */
  pruneRequestBuckets(before: number): Promise<number>;
}
