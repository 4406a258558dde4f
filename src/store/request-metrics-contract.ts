/**
 * The request-metrics part of the Store contract (migration 0008); registered by
 * runStoreContract, so every Store implementation runs it.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../core/ports/store';
import { ALL_ROUTES, type BucketSpan, type RequestBucket } from '../core/request-metrics';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0) / 1000;

const bucket = (o: Partial<RequestBucket> = {}): RequestBucket => ({
  project: 'shop',
  env: 'production',
  service: 'web',
  release: 3,
  route: '/users/:id',
  span: 60,
  start: T0,
  requests: 10,
  statusCounts: [0, 7, 1, 1, 1],
  bytes: 1000,
  durationMsSum: 250,
  histogram: [0, 2, 0, 5, 3, 0, 0, 0],
  ...o,
});

const byKey = (a: RequestBucket, b: RequestBucket) => `${a.service}${a.release}${a.route}${a.span}${a.start}`.localeCompare(`${b.service}${b.release}${b.route}${b.span}${b.start}`);

export function runRequestMetricsContract(open: () => Promise<Store>): void {
  describe('request metrics', () => {
    async function fresh(t: TestContext): Promise<Store> {
      const store = await open();
      t.after(() => store.close());
      await store.migrate();
      return store;
    }
    const all = (store: Store, o: { service?: string; span?: BucketSpan; from?: number; to?: number; allRoutes?: boolean } = {}) =>
      store.listRequestBuckets({ project: 'shop', env: 'production', service: o.service, span: o.span ?? 60, allRoutes: o.allRoutes ?? false, from: o.from ?? 0, to: o.to ?? T0 + 86_400 });

    test('a new bucket is stored as given; release null (no replica answered) round-trips', async (t) => {
      const store = await fresh(t);
      await store.mergeRequestBuckets([bucket(), bucket({ release: null, route: 'other', histogram: [1] })]);
      const rows = (await all(store)).sort(byKey);
      assert.deepEqual(rows, [bucket(), bucket({ release: null, route: 'other', histogram: [1] })].sort(byKey));
    });

    test('merging the same key adds counts, bytes, durations and histograms (restarts and partial minutes add up)', async (t) => {
      const store = await fresh(t);
      await store.mergeRequestBuckets([bucket()]);
      await store.mergeRequestBuckets([bucket({ requests: 5, statusCounts: [1, 2, 0, 0, 2], bytes: 50, durationMsSum: 5, histogram: [1, 0, 0, 0, 0, 0, 0, 4] })]);
      // Twice in one call: still one row.
      await store.mergeRequestBuckets([bucket({ requests: 1, statusCounts: [0, 1, 0, 0, 0], bytes: 1, durationMsSum: 1, histogram: [1] }), bucket({ requests: 1, statusCounts: [0, 1, 0, 0, 0], bytes: 1, durationMsSum: 1, histogram: [1] })]);
      assert.deepEqual(await all(store), [bucket({ requests: 17, statusCounts: [1, 11, 1, 1, 3], bytes: 1052, durationMsSum: 257, histogram: [3, 2, 0, 5, 3, 0, 0, 4] })]);
    });

    test('keys are distinct per service, release, route, span and start; big counts survive', async (t) => {
      const store = await fresh(t);
      const variants = [bucket(), bucket({ service: 'api' }), bucket({ release: 4 }), bucket({ route: '/' }), bucket({ span: 3600, start: T0 }), bucket({ start: T0 + 60 })];
      await store.mergeRequestBuckets(variants);
      assert.equal((await all(store)).length + (await all(store, { span: 3600 })).length, 6);
      const big = bucket({ service: 'big', requests: 3_000_000_000, bytes: 2 ** 40, histogram: [4_000_000_000] });
      await store.mergeRequestBuckets([big]);
      assert.deepEqual(await all(store, { service: 'big' }), [big]);
    });

    test('listing: one span, start in [from, to), one service or all of the project and environment', async (t) => {
      const store = await fresh(t);
      await store.mergeRequestBuckets([
        bucket({ start: T0 - 60 }),
        bucket({ start: T0 }),
        bucket({ start: T0 + 60 }),
        bucket({ start: T0 + 120 }),
        bucket({ service: 'api', start: T0 }),
        bucket({ span: 3600, start: T0 }),
        bucket({ env: 'staging', start: T0 }),
        bucket({ project: 'other', start: T0 }),
      ]);
      assert.deepEqual((await all(store, { service: 'web', from: T0, to: T0 + 120 })).map((b) => b.start).sort(), [T0, T0 + 60]);
      assert.deepEqual((await all(store, { from: T0, to: T0 + 60 })).map((b) => b.service).sort(), ['api', 'web']);
      assert.deepEqual((await all(store, { span: 3600 })).map((b) => [b.span, b.start]), [[3600, T0]]);
      assert.deepEqual(await all(store, { service: 'nope' }), []);
    });

    test('per-service totals (route *) and per-route rows are listed apart', async (t) => {
      const store = await fresh(t);
      await store.mergeRequestBuckets([bucket({ route: ALL_ROUTES, requests: 30 }), bucket({ route: '/a' }), bucket({ route: '/b' }), bucket({ service: 'api', route: ALL_ROUTES, requests: 5 })]);
      assert.deepEqual((await all(store, { allRoutes: true })).map((b) => [b.service, b.requests]).sort(), [['api', 5], ['web', 30]]);
      assert.deepEqual((await all(store, { service: 'web', allRoutes: true })).map((b) => b.requests), [30]);
      assert.deepEqual((await all(store, { service: 'web' })).map((b) => b.route).sort(), ['/a', '/b']);
    });

    test('the 5- and 15-minute rollups of the totals (the steps of series) are stored and listed per span, a range of steps at a time', async (t) => {
      const store = await fresh(t);
      const q = (o: Partial<RequestBucket>) => bucket({ route: ALL_ROUTES, ...o });
      await store.mergeRequestBuckets([
        q({ span: 60, start: T0 }),
        q({ span: 300, start: T0 - 300, requests: 1 }),
        q({ span: 300, start: T0, requests: 2 }),
        q({ span: 300, start: T0 + 300, requests: 3 }),
        q({ span: 300, start: T0, release: null, requests: 4 }),
        q({ span: 900, start: T0, requests: 5 }),
        q({ span: 900, start: T0, service: 'api', requests: 6 }),
        q({ span: 3600, start: T0 }),
      ]);
      // Merging into a rollup row adds up, as for minutes (every flush adds to the current step).
      await store.mergeRequestBuckets([q({ span: 900, start: T0, requests: 1, statusCounts: [0, 0, 0, 0, 1], histogram: [0, 0, 0, 0, 0, 0, 0, 0, 1] })]);
      const steps = (await all(store, { span: 300, service: 'web', allRoutes: true, from: T0, to: T0 + 600 })).map((b) => [b.start - T0, b.release, b.requests]).sort();
      assert.deepEqual(steps, [[0, 3, 2], [0, null, 4], [300, 3, 3]].sort());
      const quarters = (await all(store, { span: 900, allRoutes: true })).sort(byKey);
      assert.deepEqual(quarters.map((b) => [b.service, b.requests, b.statusCounts[4]]), [['api', 6, 1], ['web', 6, 2]]);
      assert.deepEqual(quarters[1]!.histogram, [0, 2, 0, 5, 3, 0, 0, 0, 1]);
      assert.deepEqual(await all(store, { span: 900 }), [], 'per-route rows listed apart');
    });

    test('prune deletes buckets that start before the cut, of every span', async (t) => {
      const store = await fresh(t);
      await store.mergeRequestBuckets([bucket({ start: T0 - 3600, span: 3600 }), bucket({ start: T0 - 60 }), bucket({ start: T0 }), bucket({ start: T0 + 60 })]);
      assert.equal(await store.pruneRequestBuckets(T0), 2);
      assert.deepEqual((await all(store)).map((b) => b.start).sort(), [T0, T0 + 60]);
      assert.equal(await store.pruneRequestBuckets(T0), 0);
    });

    test('an empty merge is a no-op', async (t) => {
      const store = await fresh(t);
      await store.mergeRequestBuckets([]);
      assert.deepEqual(await all(store), []);
    });
  });
}
