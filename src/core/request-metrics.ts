/**
 * Request metrics as stored: per-minute (and per-hour rollup) buckets per
 * project+environment+service+release+route. Written by src/observe (from the edge's
 * request log), read by its queries; the store only adds them up.
 */

export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
export type StatusClass = (typeof STATUS_CLASSES)[number];

/**
 * Bucket spans in seconds: minutes, hours (the rollup long queries read), and 5 and 15
 * minutes (the steps of time series up to 10 h and 24 h windows, so a series reads about
 * 100 rows per service instead of up to 1,440 minutes).
 */
export const BUCKET_SPANS = [60, 300, 900, 3600] as const;
export type BucketSpan = (typeof BUCKET_SPANS)[number];
/** Spans written per route too; the others (300, 900) only for the per-service totals (ALL_ROUTES): series never split by route. */
export const ROUTE_SPANS: readonly BucketSpan[] = [60, 3600];

/**
 * The route of the per-service total rows: every flush also writes each service+release's
 * totals over all its routes under this route, so queries that do not group by route read
 * one row per minute (or hour) instead of one per route.
 */
export const ALL_ROUTES = '*';

export interface RequestBucket {
  project: string;
  env: string;
  service: string;
  /** Release number; null when no replica answered (no server ready, or refused at the edge). */
  release: number | null;
  /** Route template (`/users/:id`), `other`, or ALL_ROUTES for the service's totals. */
  route: string;
  span: BucketSpan;
  /** Start of the bucket, epoch seconds, a multiple of `span`. */
  start: number;
  requests: number;
  /** Count per status class, in STATUS_CLASSES order; requests without a status (client gone first) are in none. */
  statusCounts: [number, number, number, number, number];
  /** Bytes sent to clients. */
  bytes: number;
  durationMsSum: number;
  /** Counts per latency bucket (src/observe/latency-histogram.ts bounds, overflow last). */
  histogram: number[];
}

export interface RequestBucketQuery {
  project: string;
  env: string;
  /** All services of the project and environment when absent. */
  service?: string;
  span: BucketSpan;
  /** true: only the ALL_ROUTES totals; false: only the per-route rows. */
  allRoutes: boolean;
  /** Epoch seconds, inclusive. */
  from: number;
  /** Epoch seconds, exclusive. */
  to: number;
}

/** The class of an HTTP status, or null for none (-1: the client went away before an answer). */
export function statusClassIndex(status: number): number | null {
  return status >= 100 && status < 600 ? Math.floor(status / 100) - 1 : null;
}
