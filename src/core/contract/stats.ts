/**
 * Container and host stats in the API: the latest sample shown by `slipway status`, and the
 * history routes (a series per replica of a service; the host's series). Times are ISO 8601;
 * older points are per-minute averages (`spanSeconds: 60`), the last 15 minutes raw.
 */
import { z } from 'zod';
import { parseDuration } from '../duration';
import { envQuery, serviceParams } from './requests';

const at = z.string().describe('ISO 8601 time');
const bytes = z.number().int().nonnegative();
const cpuPercent = z.number().nonnegative().nullable();

/** The newest sample of a replica (null in status when the sampler has not read it yet). */
export const replicaStatsView = z.strictObject({
  at,
  cpuPercent: cpuPercent.describe('as docker stats: 100 = one full core; null until two readings exist'),
  memoryUsedBytes: bytes.describe('without the reclaimable page cache, as docker stats'),
  memoryLimitBytes: bytes.describe("the container's limit, or the host's memory when it has none"),
});
export type ReplicaStatsView = z.infer<typeof replicaStatsView>;

/** The newest sample of a server. */
export const hostStatsView = z.strictObject({
  server: z.string(),
  at,
  cpuPercent: cpuPercent.describe('0–100 of all CPUs; null until two readings exist'),
  cpus: z.number().int(),
  memoryUsedBytes: bytes.describe('MemTotal − MemAvailable'),
  memoryTotalBytes: bytes,
  diskUsedBytes: bytes.describe("of the data directory's filesystem"),
  diskTotalBytes: bytes,
  diskAvailableBytes: bytes,
  diskUsePercent: z.number().nullable().describe('used / (used + available), as df'),
});
export type HostStatsView = z.infer<typeof hostStatsView>;

const span = z.number().int().describe('seconds the point covers: the sampling interval, or 60 for a per-minute average');

/** Restarts of a service (core/replica-restarts.ts): replacements by repairs, never deploys. */
export const serviceRestartsView = z.strictObject({
  lastHour: z.number().int().describe('restarts of replicas of the live release in the last hour'),
  last24h: z.number().int().describe('restarts of replicas of the live release in the last 24 h'),
});
export type ServiceRestartsView = z.infer<typeof serviceRestartsView>;

export const replicaStatsPoint = z.strictObject({
  at,
  spanSeconds: span,
  cpuPercent,
  memoryUsedBytes: bytes,
  memoryLimitBytes: bytes,
  restarts: z.number().int().describe("restarts of the replica's slot in the last 24 h when the point was sampled (the most of the minute for an average); Docker's own count is always 0 and never shown"),
});

export const serviceStatsView = z.strictObject({
  project: z.string(),
  service: z.string(),
  env: z.string(),
  since: at,
  restarts: serviceRestartsView,
  replicas: z.array(
    z.strictObject({
      replica: z.string(),
      release: z.number().int(),
      slot: z.number().int().nullable().describe('its ordinal in its release; null for a replica started before slots existed or no longer running'),
      restarts: z.number().int().describe('times a repair replaced the replica in this slot of its release in the last 24 h'),
      points: z.array(replicaStatsPoint),
    }),
  ),
});
export type ServiceStatsView = z.infer<typeof serviceStatsView>;

export const hostStatsPoint = hostStatsView.omit({ server: true }).extend({ spanSeconds: span });

export const hostStatsHistoryView = z.strictObject({ server: z.string(), since: at, points: z.array(hostStatsPoint) });
export type HostStatsHistoryView = z.infer<typeof hostStatsHistoryView>;

/** Stats are kept 24 h. */
export const STATS_MAX_AGE_MS = 24 * 3_600_000;

/** `since`: a duration back from now (`15m`, `1h`, `24h`) or an ISO time; at most 24 h back. Parsed to epoch ms. */
const since = z
  .string()
  .default('1h')
  .transform((v, ctx) => {
    const now = Date.now();
    const ago = parseDuration(v);
    const t = ago !== null ? now - ago : /^\d{4}-\d\d-\d\dT/.test(v) ? Date.parse(v) : NaN;
    if (Number.isNaN(t)) {
      ctx.addIssue({ code: 'custom', message: 'must be a duration (15m, 1h, 24h) or an ISO time' });
      return z.NEVER;
    }
    if (t < now - STATS_MAX_AGE_MS - 60_000) {
      ctx.addIssue({ code: 'custom', message: 'stats are kept 24 h: ask for at most 24h' });
      return z.NEVER;
    }
    return t;
  })
  .describe('a duration back from now (15m, 1h, 24h) or an ISO time; default 1h');

export const serviceStatsQuery = envQuery.extend({ since });
export const serverParams = z.strictObject({ server: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, { error: 'must be a server name' }) });
export const hostStatsQuery = z.strictObject({ since });

/** Route-table entries (merged into ROUTES in routes.ts). */
export const STATS_ROUTES = {
  'GET /api/v1/projects/:project/services/:service/stats': {
    summary: "CPU, memory and restarts of a service's replicas over time (raw for 15 min, per-minute averages up to 24 h)",
    params: serviceParams,
    query: serviceStatsQuery,
    response: serviceStatsView,
  },
  'GET /api/v1/servers/:server/stats': {
    summary: 'CPU, memory and disk of a server over time (today: `local`, the host the control plane runs on)',
    params: serverParams,
    query: hostStatsQuery,
    response: hostStatsHistoryView,
  },
};
