/**
 * Service logs in the API: the query (which replicas, how far back, server-side filters),
 * the entry every event carries, and the route-table entry (merged into ROUTES in routes.ts).
 *
 * The route answers Server-Sent Events only: `log` events (data: an entry; id: its cursor,
 * so a client reconnecting with Last-Event-ID resumes without duplicates), `error` (the
 * stream broke; reconnect to resume) and, when not following, a final `end`. One format
 * keeps one code path; curl shows it as plainly as NDJSON.
 */
import { z } from 'zod';
import { compileLogGrep, parseLogSince } from '../log-filters';
import { envQuery, serviceParams } from './requests';

const flag = z.enum(['true', 'false', '1', '0']).default('false').transform((v) => v === 'true' || v === '1');

export const logsQuery = envQuery.extend({
  tail: z.coerce.number().int().min(0).max(10_000).optional()
    .describe('last lines per replica; default 100, or every line when since (or a resume point) is given'),
  follow: flag.describe('keep streaming: replicas started later (deploys, rollbacks, restarts) join, stopped ones leave'),
  release: z.coerce.number().int().min(1).optional().describe('only replicas of this release'),
  since: z
    .string()
    .transform((v, ctx) => {
      const iso = parseLogSince(v);
      if (iso === null) {
        ctx.addIssue({ code: 'custom', message: 'must be a duration back from now (30s, 10m, 2h) or an ISO time (2025-01-31T12:00:00Z)' });
        return z.NEVER;
      }
      return iso;
    })
    .optional()
    .describe('only lines written since: a duration back from now (10m) or an ISO time'),
  grep: z
    .string()
    .transform((v, ctx) => {
      const compiled = compileLogGrep(v);
      if ('problem' in compiled) {
        ctx.addIssue({ code: 'custom', message: compiled.problem });
        return z.NEVER;
      }
      return compiled.test;
    })
    .optional()
    .describe('only lines matching this regular expression (RE2 syntax; (?i) ignores case), matched after masking'),
  unmask: flag.describe("show secret values as the app printed them (admin scope; audited); default masks them as [secret]"),
  after: z.string().optional().describe('resume after this event id (what Last-Event-ID carries; the header wins)'),
});

export const logEntryView = z.strictObject({
  replica: z.string().describe('container name: <project>-<service>-<env>-v<release>-<6 hex>'),
  release: z.number().int().describe('the release the replica runs'),
  stream: z.enum(['stdout', 'stderr']),
  at: z.string().describe('ISO 8601 time the runtime read the line (nanoseconds)'),
  line: z.string(),
});
export type LogEntryView = z.infer<typeof logEntryView>;

/** SSE data by event: `log` → an entry, `error` → why the stream broke, `end` → how many lines were sent. */
export const logStreamEvent = z.union([logEntryView, z.strictObject({ error: z.string() }), z.strictObject({ lines: z.number().int() })]);

export const LOGS_ROUTES = {
  'GET /api/v1/projects/:project/services/:service/logs': {
    summary:
      "A service's container logs merged across replicas, as SSE: `log` events (id = cursor; reconnect with Last-Event-ID to resume), `error`, and `end` unless following. Masks secret values unless unmask=true (admin)",
    params: serviceParams,
    query: logsQuery,
    stream: { contentType: 'text/event-stream' as const, item: logStreamEvent },
  },
};
