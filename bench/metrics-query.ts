/**
 * How fast request metrics answer over a full store: 24 h of per-minute buckets for 50
 * services (10 routes each, a deploy halfway so two releases), written through the Store port
 * exactly as the flusher writes them (minute rows + hourly rollup), then queried through
 * the same class the API uses. The issue asks for < 200 ms for a 24 h query over 50 services.
 *
 *   npm run bench -- metrics-query [--services 50] [--routes 10] [--hours 24] [--runs 7]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openSqliteStore } from '../src/store/sqlite-store';
import { RequestMetricsQueries } from '../src/observe/request-metrics-queries';
import { RecentRequests } from '../src/observe/recent-requests';
import { withRollups } from '../src/observe/request-aggregator';
import { bucketIndex, emptyHistogram } from '../src/observe/latency-histogram';
import { metricsQuery, metricsSeriesQuery, overviewQuery, overviewSeriesQuery } from '../src/core/contract/metrics';
import type { RequestBucket } from '../src/core/request-metrics';
import { printTable } from './lib/table';
import { writeResult } from './lib/results';

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { services: { type: 'string', default: '50' }, routes: { type: 'string', default: '10' }, hours: { type: 'string', default: '24' }, runs: { type: 'string', default: '7' } },
  });
  const services = Number(values.services);
  const routes = Number(values.routes);
  const hours = Number(values.hours);
  const runs = Number(values.runs);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-bench-metrics-'));
  const file = path.join(dir, 'slipway.db');
  const store = await openSqliteStore({ file });
  try {
    await store.migrate();
    const project = await store.upsertProject('bench');
    for (let s = 0; s < services; s++) await store.upsertService(project.id, `svc-${s}`, 'web');

    // "Now" is 30 minutes into an hour, so a 24 h window has ragged ends on both sides.
    const end = Math.floor(Date.now() / 3_600_000) * 3600 + 1800;
    const first = end - hours * 3600;
    console.log(`filling: ${services} services × ${routes} routes × ${hours * 60} minutes…`);
    const t0 = performance.now();
    let minuteRows = 0;
    for (let s = 0; s < services; s++) {
      const minutes: RequestBucket[] = [];
      for (let m = first; m < end; m += 60) {
        for (let r = 0; r < routes; r++) minutes.push(bucket(`svc-${s}`, m < first + (hours * 3600) / 2 ? 1 : 2, `/route-${r}/:id`, m, s + r));
      }
      minuteRows += minutes.length;
      // As the flusher writes: minutes plus their hourly rollup, one transaction per batch.
      for (let i = 0; i < minutes.length; i += 6000) await store.mergeRequestBuckets(withRollups(minutes.slice(i, i + 6000)));
    }
    const fillS = (performance.now() - t0) / 1000;
    const dbMiB = (statSync(file).size + (statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0)) / 2 ** 20;
    console.log(`filled ${minuteRows.toLocaleString('en')} minute buckets (+ hourly rollup) in ${fillS.toFixed(1)} s, ${dbMiB.toFixed(0)} MiB\n`);

    const queries = new RequestMetricsQueries(store, new RecentRequests(1), () => end * 1000);
    const cases: Array<{ query: string; run: () => Promise<unknown> }> = [
      { query: 'overview, all 50 services, 24h', run: () => queries.overview({ project: 'bench', ...overviewQuery.parse({ since: '24h' }) }) },
      { query: 'one service, 24h', run: () => queries.metrics({ project: 'bench', service: 'svc-7', ...metricsQuery.parse({ since: '24h' }) }) },
      { query: 'one service, 24h, by release', run: () => queries.metrics({ project: 'bench', service: 'svc-7', ...metricsQuery.parse({ since: '24h', by: 'release' }) }) },
      { query: 'one service, 24h, by route', run: () => queries.metrics({ project: 'bench', service: 'svc-7', ...metricsQuery.parse({ since: '24h', by: 'route' }) }) },
      { query: 'one service, 24h, by status', run: () => queries.metrics({ project: 'bench', service: 'svc-7', ...metricsQuery.parse({ since: '24h', by: 'status' }) }) },
      { query: 'overview, all 50 services, 1h', run: () => queries.overview({ project: 'bench', ...overviewQuery.parse({ since: '1h' }) }) },
      { query: 'one service, 1h, by route', run: () => queries.metrics({ project: 'bench', service: 'svc-7', ...metricsQuery.parse({ since: '1h', by: 'route' }) }) },
      { query: 'overview, all 50 services, 7d (24h of data)', run: () => queries.overview({ project: 'bench', ...overviewQuery.parse({ since: '7d' }) }) },
      // Time series (charts, sparklines): every step of the window, latency from merged histograms per step.
      { query: 'series, all 50 services, 24h (15 min steps)', run: () => queries.overviewSeries({ project: 'bench', ...overviewSeriesQuery.parse({ since: '24h' }) }) },
      { query: 'series, all 50 services, 1h (1 min steps)', run: () => queries.overviewSeries({ project: 'bench', ...overviewSeriesQuery.parse({ since: '1h' }) }) },
      { query: 'series, all 50 services, 7d (1 h steps, 24h of data)', run: () => queries.overviewSeries({ project: 'bench', ...overviewSeriesQuery.parse({ since: '7d' }) }) },
      { query: 'series, one service, 24h, by release', run: () => queries.series({ project: 'bench', service: 'svc-7', ...metricsSeriesQuery.parse({ since: '24h', by: 'release' }) }) },
      { query: 'series, one service, 1h', run: () => queries.series({ project: 'bench', service: 'svc-7', ...metricsSeriesQuery.parse({ since: '1h' }) }) },
    ];
    const rows: Array<Record<string, string | number>> = [];
    for (const c of cases) {
      await c.run(); // warm the page cache and the statement cache
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        await c.run();
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      rows.push({ query: c.query, runs, medianMs: round(times[Math.floor(times.length / 2)]!), maxMs: round(times.at(-1)!) });
    }
    printTable(rows);
    const out = writeResult('metrics-query', { machine: { cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30) }, services, routes, hours, minuteRows, fillSeconds: round(fillS), dbMiB: round(dbMiB), rows });
    console.log(`\nwritten ${out}`);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A minute of traffic for one route: ~300 requests, mostly fast, a few errors and slow ones. */
function bucket(service: string, release: number, route: string, start: number, seed: number): RequestBucket {
  const histogram = emptyHistogram();
  histogram[bucketIndex(3 + (seed % 5))] = 250;
  histogram[bucketIndex(40)] = 45;
  histogram[bucketIndex(900)] = 5;
  return { project: 'bench', env: 'production', service, release, route, span: 60, start, requests: 300, statusCounts: [0, 290, 2, 5, 3], bytes: 300 * 1200, durationMsSum: 250 * 5 + 45 * 40 + 5 * 900, histogram };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
