/**
 * Request metrics and recent requests: the query inputs (shaped for a URL query string:
 * every value arrives as a string) and the answers, declared once with zod. The query class
 * (src/observe/request-metrics-queries.ts) takes the parsed inputs plus the project and
 * service from the path; the HTTP routes and the CLI plug these schemas into the contract.
 *
 *   GET /api/v1/projects/:project/services/:service/metrics?env=&since=1h&by=release|route|status
 *   GET /api/v1/projects/:project/metrics?env=&since=1h                 (every service: the overview)
 *   GET /api/v1/projects/:project/services/:service/requests?env=&slow=1s&status=4xx,5xx&path=/api&limit=100   (errors=true: status=5xx)
 *   GET /api/v1/projects/:project/services/:service/metrics/series?env=&since=1h&by=release   (points per time step: charts)
 *   GET /api/v1/projects/:project/metrics/series?env=&since=1h          (one series per service: sparklines)
 */
import { z } from 'zod';
import { parseDuration } from '../duration';
import { STATUS_CLASSES } from '../request-metrics';
import { parseStatusFilter } from '../status-filter';
import { projectParams, serviceParams } from './requests';

const name = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, { error: 'must be a lowercase name' });
const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** Longest window a query may cover (the default retention; older buckets are pruned anyway). */
export const MAX_METRICS_WINDOW_MS = 14 * 86_400_000;
/** Most recent requests one answer may carry (the ring of a service holds 10,000 by default). */
export const MAX_REQUESTS_LIMIT = 10_000;

const window = z
  .string({ error: 'must be a duration such as 15m, 1h, 24h, 7d' })
  .transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === null || ms < 60_000 || ms > MAX_METRICS_WINDOW_MS) {
      ctx.addIssue({ code: 'custom', message: 'must be a duration between 1m and 14d, such as 15m, 1h, 24h' });
      return z.NEVER;
    }
    return ms;
  });

export const METRICS_GROUPINGS = ['release', 'route', 'status'] as const;
export type MetricsGrouping = (typeof METRICS_GROUPINGS)[number];

export const metricsQuery = z.strictObject({
  env: name.default('production'),
  since: window.default(3_600_000).describe('the window ending now: 15m, 1h (default), 24h, 7d'),
  by: z.enum(METRICS_GROUPINGS, { error: `must be one of: ${METRICS_GROUPINGS.join(', ')}` }).optional().describe('one group per release, route or status class; one group in all when absent'),
});

export const overviewQuery = metricsQuery.omit({ by: true });

export const SERIES_GROUPINGS = ['release'] as const;

/** A service's series: the same window and environment as metricsQuery; `by` release only (route and status series are not kept apart cheaply). */
export const metricsSeriesQuery = overviewQuery.extend({
  by: z.enum(SERIES_GROUPINGS, { error: `must be one of: ${SERIES_GROUPINGS.join(', ')}` }).optional().describe('one series per release; one series in all when absent'),
});

/** Every service's series (the overview's sparklines): the same window and environment. */
export const overviewSeriesQuery = overviewQuery;

export const requestsQuery = z.strictObject({
  env: name.default('production'),
  slow: z
    .string()
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === null) {
        ctx.addIssue({ code: 'custom', message: 'must be a duration such as 500ms, 1s' });
        return z.NEVER;
      }
      return ms;
    })
    .optional()
    .describe('only requests that took at least this long (500ms, 1s)'),
  errors: flag.default(false).describe('only requests answered with a 5xx status (the same as status=5xx)'),
  status: z
    .string({ error: 'must be status classes and codes separated by commas, such as 4xx,5xx or 404' })
    .max(200, { error: 'must be at most 200 characters' })
    .transform((v, ctx) => {
      const r = parseStatusFilter(v);
      if (!r.ok) {
        ctx.addIssue({ code: 'custom', message: r.message });
        return z.NEVER;
      }
      return r.filter;
    })
    .optional()
    .describe('only requests answered with one of these status classes or codes, comma-separated: 5xx, 4xx,5xx, 404, 404,500'),
  path: z.string().startsWith('/', { error: 'must start with "/"' }).max(512).optional().describe('only paths starting with this prefix'),
  limit: z.coerce.number({ error: 'must be a number' }).int().min(1).max(MAX_REQUESTS_LIMIT).default(100),
}).refine((q) => !(q.errors && q.status), { error: 'errors=true is status=5xx: send one of the two', path: ['status'] });

/** Parsed inputs of the query class. */
export type MetricsQuery = z.output<typeof metricsQuery> & { project: string; service: string };
export type OverviewQuery = z.output<typeof overviewQuery> & { project: string };
export type RequestsQuery = z.output<typeof requestsQuery> & { project: string; service: string };
export type MetricsSeriesQuery = z.output<typeof metricsSeriesQuery> & { project: string; service: string };
export type OverviewSeriesQuery = z.output<typeof overviewSeriesQuery> & { project: string };

const statusCounts = z.strictObject(Object.fromEntries(STATUS_CLASSES.map((c) => [c, z.number().int()])) as Record<(typeof STATUS_CLASSES)[number], z.ZodNumber>);

export const metricsGroup = z.strictObject({
  /** What the group is: its release (null = no replica answered), route, status class, or service (overview); absent for the single group. */
  release: z.number().int().nullable().optional(),
  route: z.string().optional(),
  status: z.enum(STATUS_CLASSES).optional(),
  service: z.string().optional(),
  requests: z.number().int(),
  ratePerSec: z.number().describe('requests per second over the window'),
  errorRate: z.number().describe('share of requests answered with a 5xx status (0..1)'),
  statusCounts: statusCounts.describe('requests per status class; requests without a status (client gone first) are in none'),
  latencyMs: z
    .strictObject({ p50: z.number(), p95: z.number(), p99: z.number(), mean: z.number() })
    .nullable()
    .describe('edge-measured total time; quantiles are histogram bucket upper bounds (within one bucket, ≈25 %, of the truth); null without requests or when grouped by status'),
  bytes: z.number().int().nullable().describe('bytes sent to clients; null when grouped by status'),
});
export type MetricsGroup = z.output<typeof metricsGroup>;

export const metricsResult = z.strictObject({
  project: z.string(),
  env: z.string(),
  service: z.string().nullable().describe('null for the overview of every service'),
  from: z.string().describe('start of the window (ISO time, on a minute boundary)'),
  to: z.string().describe('end of the window (ISO time: now)'),
  by: z.enum([...METRICS_GROUPINGS, 'service']).nullable(),
  /** Biggest first. */
  groups: z.array(metricsGroup),
});
export type MetricsResult = z.output<typeof metricsResult>;

export const metricsPoint = z.strictObject({
  t: z.string().describe('start of the step (ISO time, on a step boundary); the step covers [t, t + stepSeconds)'),
  requests: z.number().int().describe('requests that started in the step; 0 for a step without traffic (every step of the window is present)'),
  ratePerSec: z.number().describe('requests per second over the step (over the part already elapsed, for the step holding now)'),
  errorRate: z.number().describe('share of requests answered with a 5xx status (0..1); 0 without requests'),
  p50: z.number().nullable().describe('edge-measured total time, ms: upper bound of the histogram bucket (≈25 % wide) holding the quantile of the merged histograms of the step; null without requests'),
  p95: z.number().nullable().describe('as p50, 95th percentile'),
  p99: z.number().nullable().describe('as p50, 99th percentile'),
});
export type MetricsPoint = z.output<typeof metricsPoint>;

export const metricsSeries = z.strictObject({
  release: z.number().int().nullable().optional().describe('the release of the series when grouped by release (null: requests no replica answered); absent otherwise'),
  service: z.string().optional().describe('the service of the series in the overview; absent otherwise'),
  points: z.array(metricsPoint).describe('one per step of the window, oldest first'),
});
export type MetricsSeries = z.output<typeof metricsSeries>;

export const metricsSeriesResult = z.strictObject({
  project: z.string(),
  env: z.string(),
  service: z.string().nullable().describe('null for the overview of every service'),
  from: z.string().describe('start of the first step (ISO time, on a step boundary at or before now − since)'),
  to: z.string().describe('end of the window (ISO time: now); the last step holds it'),
  stepSeconds: z.number().int().describe('length of a step: 60 for windows up to 2h, 300 up to 10h, 900 up to 24h, 3600 beyond'),
  by: z.enum([...SERIES_GROUPINGS, 'service']).nullable().describe('release: a series per release; service: a series per service (overview); null: one series'),
  /** By release: ascending, null (no replica answered) last; by service: by name. */
  series: z.array(metricsSeries),
});
export type MetricsSeriesResult = z.output<typeof metricsSeriesResult>;

export const requestView = z.strictObject({
  at: z.string().describe('when the request started (ISO time)'),
  requestId: z.string().describe('the X-Request-ID the replica received'),
  project: z.string(),
  service: z.string(),
  env: z.string(),
  release: z.number().int().nullable(),
  replica: z.string().nullable(),
  method: z.string(),
  path: z.string().describe('without the query string'),
  route: z.string(),
  status: z.number().int().describe('-1: the client went away before an answer'),
  bytes: z.number().int(),
  durationMs: z.number().int(),
  upstreamMs: z.number().int().nullable().describe("the replica's time to response headers; null if it never answered"),
  clientIp: z.string(),
  termination: z.string().describe("HAProxy's termination state: -- normal, CD client abort, SH server timeout…"),
});
export type RequestView = z.output<typeof requestView>;

export const requestsResult = z.strictObject({
  /** Newest first. */
  requests: z.array(requestView),
  /** How many the service's ring holds (the requests searched). */
  retained: z.number().int(),
});
export type RequestsResult = z.output<typeof requestsResult>;

/** What the HTTP layer calls: implemented by src/observe/request-metrics-queries.ts. */
export interface RequestMetricsReader {
  metrics(q: MetricsQuery): Promise<MetricsResult>;
  overview(q: OverviewQuery): Promise<MetricsResult>;
  requests(q: RequestsQuery): Promise<RequestsResult>;
  series(q: MetricsSeriesQuery): Promise<MetricsSeriesResult>;
  overviewSeries(q: OverviewSeriesQuery): Promise<MetricsSeriesResult>;
}

/** The routes of request metrics; spread into ROUTES (routes.ts). */
export const METRICS_ROUTES = {
  'GET /api/v1/projects/:project/services/:service/metrics': {
    summary: 'Request metrics of a service from the edge: rate, error rate, status classes, p50/p95/p99 latency; grouped by release, route or status',
    params: serviceParams,
    query: metricsQuery,
    response: metricsResult,
  },
  'GET /api/v1/projects/:project/metrics': {
    summary: 'Request metrics of every service of a project in an environment, one group per service',
    params: projectParams,
    query: overviewQuery,
    response: metricsResult,
  },
  'GET /api/v1/projects/:project/services/:service/requests': {
    summary: 'Recent requests of a service (newest first, with request ids): slow ones, by status class or code, a path prefix',
    params: serviceParams,
    query: requestsQuery,
    response: requestsResult,
  },
  'GET /api/v1/projects/:project/services/:service/metrics/series': {
    summary: 'Request metrics of a service as a time series (charts): requests, rate, error rate, p50/p95/p99 per step, every step of the window present; one series, or one per release',
    params: serviceParams,
    query: metricsSeriesQuery,
    response: metricsSeriesResult,
  },
  'GET /api/v1/projects/:project/metrics/series': {
    summary: 'Request metrics of every web service of a project as time series (sparklines), one series per service',
    params: projectParams,
    query: overviewSeriesQuery,
    response: metricsSeriesResult,
  },
} as const;
