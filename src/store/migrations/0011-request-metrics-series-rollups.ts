import type { Kysely, Migration } from 'kysely';

// Not imported from core or the store: a shipped migration must not change when the code around it does.
const SPANS = [300, 900];
const ALL_ROUTES = '*';
/** Series read 5- and 15-minute rows only for windows up to 24 h (their steps); 25 h covers every such window. */
const BACKFILL_SECONDS = 25 * 3600;
const BATCH = 500;

interface Row {
  project: string;
  env: string;
  service: string;
  span: number;
  start: number;
  release: number;
  route: string;
  requests: number;
  s1xx: number;
  s2xx: number;
  s3xx: number;
  s4xx: number;
  s5xx: number;
  bytes: number;
  duration_ms: number;
  histogram: Uint8Array;
}

/**
 * 5- and 15-minute rollups of the per-service totals (route `*`, spans 300 and 900: the
 * steps of time series up to 10 h and 24 h). No schema change: `span` is a column of
 * request_metrics (migration 0008). Flushes write these rows from now on; this adds them up
 * from the minute totals of the last 25 h already stored, so a 24 h series is whole at once.
 * Older minutes are left alone: longer series step by the hour (the hourly rollup).
 * Histograms are little-endian uint32 counts, added index by index.
 */
export const m0011RequestMetricsSeriesRollups: Migration = {
  async up(untyped: Kysely<unknown>) {
    const db = untyped as unknown as Kysely<{ request_metrics: Row }>;
    const cut = Math.floor((Math.floor(Date.now() / 1000) - BACKFILL_SECONDS) / 900) * 900;
    const minutes = await db.selectFrom('request_metrics').selectAll().where('span', '=', 60).where('route', '=', ALL_ROUTES).where('start', '>=', cut).execute();
    const rollups = new Map<string, Row & { counts: number[] }>();
    for (const m of minutes) {
      const counts = decode(m.histogram);
      for (const span of SPANS) {
        const start = Math.floor(Number(m.start) / span) * span;
        const key = `${m.project}\0${m.env}\0${m.service}\0${m.release}\0${span}\0${start}`;
        const r = rollups.get(key);
        if (!r) {
          rollups.set(key, { ...m, span, start, requests: Number(m.requests), s1xx: Number(m.s1xx), s2xx: Number(m.s2xx), s3xx: Number(m.s3xx), s4xx: Number(m.s4xx), s5xx: Number(m.s5xx), bytes: Number(m.bytes), duration_ms: Number(m.duration_ms), counts: [...counts] });
          continue;
        }
        r.requests += Number(m.requests);
        r.s1xx += Number(m.s1xx);
        r.s2xx += Number(m.s2xx);
        r.s3xx += Number(m.s3xx);
        r.s4xx += Number(m.s4xx);
        r.s5xx += Number(m.s5xx);
        r.bytes += Number(m.bytes);
        r.duration_ms += Number(m.duration_ms);
        for (let i = 0; i < counts.length; i++) r.counts[i] = (r.counts[i] ?? 0) + counts[i]!;
      }
    }
    const rows: Row[] = [...rollups.values()].map(({ counts, ...r }) => ({ ...r, histogram: encode(counts) }));
    for (let i = 0; i < rows.length; i += BATCH) {
      await db
        .insertInto('request_metrics')
        .values(rows.slice(i, i + BATCH))
        // A row already there was written by a flush of this version: it holds what it should.
        .onConflict((oc) => oc.columns(['project', 'env', 'service', 'span', 'start', 'release', 'route']).doNothing())
        .execute();
    }
  },
  async down() {
    throw new Error('migrations are forward-only');
  },
};

function decode(blob: Uint8Array): number[] {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const out = new Array<number>(blob.byteLength >> 2);
  for (let i = 0; i < out.length; i++) out[i] = view.getUint32(i * 4, true);
  return out;
}

function encode(counts: number[]): Buffer {
  const buf = Buffer.alloc(counts.length * 4);
  for (let i = 0; i < counts.length; i++) buf.writeUInt32LE(counts[i]!, i * 4);
  return buf;
}
