/**
 * The request-metrics role of the Store port (migration 0008), as functions over the Kysely
 * instance the store holds. Query-builder only, so a Postgres opener can reuse it
 * (bigint columns may come back as strings there, hence the Number() in the mapper).
 *
 * A merge reads the existing rows and writes the sums in the same transaction: histograms
 * are blobs, which SQL cannot add. SQLite transactions begin IMMEDIATE (sqlite-dialect.ts),
 * so two merges never interleave; a Postgres opener must serialize them the same way.
 */
import type { ExpressionBuilder, Kysely, Selectable } from 'kysely';
import { ALL_ROUTES, type RequestBucket, type RequestBucketQuery, type BucketSpan } from '../core/request-metrics';
import type { RequestMetricsStore } from '../core/ports/store';
import type { Database } from './schema';

type Db = Kysely<Database>;

/** The role as createKyselyStore composes it: the functions below, bound to one Kysely instance. */
export function requestMetricsQueries(db: Db): RequestMetricsStore {
  return {
    mergeRequestBuckets: (buckets) => mergeRequestBuckets(db, buckets),
    listRequestBuckets: (q) => listRequestBuckets(db, q),
    pruneRequestBuckets: (before) => pruneRequestBuckets(db, before),
  };
}

type Row = Selectable<Database['request_metrics']>;

type BucketKey = Pick<Row, 'project' | 'env' | 'service' | 'span' | 'start' | 'release' | 'route'>;

/** The row of one bucket key (the table's primary key). */
function whereKey(key: BucketKey) {
  return (eb: ExpressionBuilder<Database, 'request_metrics'>) =>
    eb.and([
      eb('project', '=', key.project),
      eb('env', '=', key.env),
      eb('service', '=', key.service),
      eb('span', '=', key.span),
      eb('start', '=', key.start),
      eb('release', '=', key.release),
      eb('route', '=', key.route),
    ]);
}

export async function mergeRequestBuckets(db: Db, buckets: RequestBucket[]): Promise<void> {
  if (buckets.length === 0) return;
  await db.transaction().execute(async (trx) => {
    for (const b of buckets) {
      const key = { project: b.project, env: b.env, service: b.service, span: b.span, start: b.start, release: b.release ?? 0, route: b.route };
      // Most buckets of a flush are new minutes: try the insert first, add up only on a conflict.
      const inserted = await trx
        .insertInto('request_metrics')
        .values({ ...key, ...counts(b) })
        .onConflict((oc) => oc.columns(['project', 'env', 'service', 'span', 'start', 'release', 'route']).doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) continue;
      const sameKey = whereKey(key);
      const existing = await trx.selectFrom('request_metrics').selectAll().where(sameKey).executeTakeFirstOrThrow();
      await trx.updateTable('request_metrics').set(counts(addBuckets(toBucket(existing), b))).where(sameKey).execute();
    }
  });
}

export async function listRequestBuckets(db: Db, q: RequestBucketQuery): Promise<RequestBucket[]> {
  // Only the columns the query leaves open: turning a row's text into JS strings is a good part
  // of its cost (a 24 h series of 50 services reads ~5,000 rows), and project, env, span (and
  // the route of the totals, the service of a one-service query) are the same on every row.
  let query = db
    .selectFrom('request_metrics')
    .select(['start', 'release', 'requests', 's1xx', 's2xx', 's3xx', 's4xx', 's5xx', 'bytes', 'duration_ms', 'histogram'])
    .$if(q.service === undefined, (qb) => qb.select('service'))
    .$if(!q.allRoutes, (qb) => qb.select('route'))
    .where('project', '=', q.project)
    .where('env', '=', q.env);
  query = q.service !== undefined ? query.where('service', '=', q.service) : query;
  query = query.where('route', q.allRoutes ? '=' : '<>', ALL_ROUTES).where('span', '=', q.span).where('start', '>=', q.from).where('start', '<', q.to);
  // One service: its primary-key range. Without statistics SQLite rates that and the overview
  // index (project, env, route, span, start) alike and may take the latter, which visits every
  // service's rows of the range to keep one's (20 ms instead of 1 for a day of 50 services); the
  // key's own order (start, release) tips it. Every service: the overview index, no sort.
  if (q.service !== undefined) query = query.orderBy('start').orderBy('release');
  const rows = await query.execute();
  // The columns left out are the query's own values.
  return rows.map((r) => toBucket({ ...r, project: q.project, env: q.env, service: r.service ?? q.service!, route: r.route ?? ALL_ROUTES, span: q.span }));
}

export async function pruneRequestBuckets(db: Db, before: number): Promise<number> {
  const result = await db.deleteFrom('request_metrics').where('start', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}

function counts(b: RequestBucket) {
  const [s1xx, s2xx, s3xx, s4xx, s5xx] = b.statusCounts;
  return { requests: b.requests, s1xx, s2xx, s3xx, s4xx, s5xx, bytes: b.bytes, duration_ms: b.durationMsSum, histogram: encodeHistogram(b.histogram) };
}

function addBuckets(a: RequestBucket, b: RequestBucket): RequestBucket {
  const histogram = new Array<number>(Math.max(a.histogram.length, b.histogram.length)).fill(0);
  for (let i = 0; i < histogram.length; i++) histogram[i] = (a.histogram[i] ?? 0) + (b.histogram[i] ?? 0);
  return {
    ...a,
    requests: a.requests + b.requests,
    statusCounts: a.statusCounts.map((c, i) => c + b.statusCounts[i]!) as RequestBucket['statusCounts'],
    bytes: a.bytes + b.bytes,
    durationMsSum: a.durationMsSum + b.durationMsSum,
    histogram,
  };
}

function toBucket(r: Row): RequestBucket {
  const release = Number(r.release);
  return {
    project: r.project,
    env: r.env,
    service: r.service,
    release: release === 0 ? null : release,
    route: r.route,
    span: Number(r.span) as BucketSpan,
    start: Number(r.start),
    requests: Number(r.requests),
    statusCounts: [Number(r.s1xx), Number(r.s2xx), Number(r.s3xx), Number(r.s4xx), Number(r.s5xx)],
    bytes: Number(r.bytes),
    durationMsSum: Number(r.duration_ms),
    histogram: decodeHistogram(r.histogram),
  };
}

/** Little-endian uint32 per bucket: compact, and decoded without parsing text. */
export function encodeHistogram(counts: readonly number[]): Buffer {
  const buf = Buffer.alloc(counts.length * 4);
  for (let i = 0; i < counts.length; i++) buf.writeUInt32LE(counts[i]!, i * 4);
  return buf;
}

export function decodeHistogram(blob: Uint8Array): number[] {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const out = new Array<number>(blob.byteLength >> 2);
  for (let i = 0; i < out.length; i++) out[i] = view.getUint32(i * 4, true);
  return out;
}
