import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely } from 'kysely';
import { ALL_ROUTES, type RequestBucket } from '../../core/request-metrics';
import { openSqliteStore } from '../sqlite-store';
import { ImmediateSqliteDialect } from '../sqlite-dialect';
import { m0011RequestMetricsSeriesRollups } from './0011-request-metrics-series-rollups';

const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-m0011-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const minute = (o: Partial<RequestBucket>): RequestBucket => ({
  project: 'shop',
  env: 'production',
  service: 'web',
  release: 3,
  route: ALL_ROUTES,
  span: 60,
  start: 0,
  requests: 10,
  statusCounts: [0, 8, 0, 1, 1],
  bytes: 1000,
  durationMsSum: 100,
  histogram: [0, 4, 6],
  ...o,
});

test('0011 adds the 5- and 15-minute rollups of the last 25 h of per-service minute totals', async () => {
  const file = path.join(dir, 'slipway.db');
  const store = await openSqliteStore({ file });
  await store.migrate(); // on an empty table: nothing to add up
  const base = Math.floor(Date.now() / 1000 / 900) * 900 - 2 * 3600;
  await store.mergeRequestBuckets([
    minute({ start: base }),
    minute({ start: base + 60, requests: 5, statusCounts: [0, 0, 0, 0, 5], bytes: 5, durationMsSum: 5000, histogram: [0, 0, 0, 0, 5] }),
    minute({ start: base + 300 }),
    minute({ start: base, release: null }),
    minute({ start: base, service: 'api' }),
    minute({ start: base, route: '/users/:id' }), // per-route rows get no such rollup
    minute({ start: base - 30 * 3600 }), // older than 25 h: longer series read the hourly rollup
  ]);
  const raw = new Kysely<unknown>({ dialect: new ImmediateSqliteDialect({ database: new Database(file) }) });
  try {
    await m0011RequestMetricsSeriesRollups.up(raw);
  } finally {
    await raw.destroy();
  }
  const list = (span: 300 | 900, allRoutes = true) => store.listRequestBuckets({ project: 'shop', env: 'production', span, allRoutes, from: 0, to: base + 86_400 });
  const rows = (await list(300)).sort((a, b) => a.start - b.start || a.service.localeCompare(b.service) || (a.release ?? 0) - (b.release ?? 0));
  assert.deepEqual(
    rows.map((r) => [r.service, r.release, r.start - base, r.requests]),
    [
      ['api', 3, 0, 10],
      ['web', null, 0, 10],
      ['web', 3, 0, 15],
      ['web', 3, 300, 10],
    ],
  );
  const first = rows[2]!;
  assert.deepEqual([first.span, first.route, first.statusCounts, first.bytes, first.durationMsSum, first.histogram], [300, ALL_ROUTES, [0, 8, 0, 1, 6], 1005, 5100, [0, 4, 6, 0, 5]]);
  const quarter = (await list(900)).find((r) => r.service === 'web' && r.release === 3)!;
  assert.deepEqual([quarter.start - base, quarter.requests, quarter.histogram], [0, 25, [0, 8, 12, 0, 5]]);
  assert.equal((await list(900)).length, 3);
  assert.deepEqual(await list(300, false), []);
  await store.close();
});
