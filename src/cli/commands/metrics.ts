/**
 * `slipway metrics [service]` (request rate, error rate, latency from the edge; every service
 * when none is named; `--series`: one row per time step) and `slipway requests <service>` (recent requests with their request
 * ids). Flags are passed as given: the server validates them and names the field; `--status`
 * is checked here too, so its error names the flag.
 */
import type { Command } from 'commander';
import { CliError } from '../cli-error';
import { connect, type GlobalOptions } from '../connection';
import { printJson, printTable } from '../output';
import { projectName } from '../project-file';
import { projectOptions } from '../project-options';
import type { MetricsGroup, MetricsSeriesResult } from '../../core/contract/metrics';
import { formatStatusFilter, parseStatusFilter } from '../../core/status-filter';

export function registerMetrics(program: Command): void {
  projectOptions(
    program
      .command('metrics')
      .description('request metrics from the edge: rate, error rate, p50/p95/p99 latency (every service when none is named)')
      .argument('[service]')
      .option('--since <duration>', 'window ending now: 15m, 1h, 24h, 7d', '1h')
      .option('--by <grouping>', 'one row per release, route or status (class); with --series: release')
      .option('--series', 'one row per time step (1 min up to 2h, 5 min up to 10h, 15 min up to 24h, 1 h beyond): req/s, errors, p95'),
  ).action(async (service: string | undefined, opts, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    const client = connect(g);
    const project = projectName(opts);
    if (opts.series) {
      const series = service
        ? await client.metricsSeries(project, service, { env: opts.env, since: opts.since, ...(opts.by ? { by: opts.by } : {}) })
        : await client.metricsOverviewSeries(project, { env: opts.env, since: opts.since });
      if (g.json) return printJson(series);
      return printSeries(series);
    }
    const result = service
      ? await client.metrics(project, service, { env: opts.env, since: opts.since, ...(opts.by ? { by: opts.by } : {}) })
      : await client.metricsOverview(project, { env: opts.env, since: opts.since });
    if (g.json) return printJson(result);
    const by = result.by;
    printTable(
      result.groups.map((m) => ({ ...(by ? { [by]: groupName(m, by) } : {}), ...row(m) })),
      [...(by ? [by] : []), 'requests', 'req/s', 'errors', '2xx', '3xx', '4xx', '5xx', 'p50', 'p95', 'p99'],
    );
  });

  projectOptions(
    program
      .command('requests')
      .description('recent requests of a service through the edge, newest first, with their request ids')
      .argument('<service>')
      .option('--slow <duration>', 'only requests that took at least this long (500ms, 1s)')
      .option('--status <list>', 'only requests answered with these status classes or codes, comma-separated: 5xx, 4xx,5xx, 404, 404,500')
      .option('--errors', 'only requests answered with a 5xx (the same as --status 5xx)')
      .option('--path <prefix>', 'only paths starting with this prefix')
      .option('-n, --limit <count>', 'at most this many', '50'),
  ).action(async (service: string, opts, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    const { requests } = await connect(g).recentRequests(projectName(opts), service, {
      env: opts.env,
      limit: opts.limit,
      ...(opts.slow ? { slow: opts.slow } : {}),
      ...statusQuery(opts),
      ...(opts.path ? { path: opts.path } : {}),
    });
    if (g.json) return printJson(requests);
    printTable(
      requests.map((r) => ({ at: r.at, release: r.release === null ? '-' : `v${r.release}`, status: r.status, ms: r.durationMs, method: r.method, path: r.path, client: r.clientIp, id: r.requestId })),
      ['at', 'release', 'status', 'ms', 'method', 'path', 'client', 'id'],
    );
  });
}

/** `--status` (or `--errors`, its alias for 5xx) as the API's `status` query, checked here so an error names the flag. */
export function statusQuery(opts: { status?: string; errors?: boolean }): { status?: string } {
  if (opts.status === undefined) return opts.errors ? { status: '5xx' } : {};
  if (opts.errors) throw new CliError('--errors is --status 5xx: give one of the two (e.g. --status 5xx,404)');
  const r = parseStatusFilter(opts.status);
  if (!r.ok) throw new CliError(`--status: ${r.message}`);
  return { status: formatStatusFilter(r.filter) };
}

/** A compact table: one row per step (and per release or service when grouped), oldest first. */
function printSeries(result: MetricsSeriesResult): void {
  const by = result.by;
  const rows = result.series.flatMap((s) =>
    s.points.map((p) => ({
      time: p.t.slice(0, 16).replace('T', ' '),
      ...(by === 'release' ? { release: s.release === null || s.release === undefined ? '(none)' : `v${s.release}` } : by === 'service' ? { service: s.service } : {}),
      requests: p.requests,
      'req/s': p.ratePerSec,
      'err %': p.requests === 0 ? '-' : (p.errorRate * 100).toFixed(2),
      p95: p.p95 === null ? '-' : `${p.p95}ms`,
    })),
  );
  console.log(`${result.from.slice(0, 16).replace('T', ' ')} → ${result.to.slice(0, 16).replace('T', ' ')} UTC, steps of ${result.stepSeconds < 3600 ? `${result.stepSeconds / 60} min` : `${result.stepSeconds / 3600} h`}`);
  printTable(rows, ['time', ...(by ? [by] : []), 'requests', 'req/s', 'err %', 'p95']);
}

function groupName(m: MetricsGroup, by: string): string {
  if (by === 'release') return m.release === null || m.release === undefined ? '(none)' : `v${m.release}`;
  return String(by === 'route' ? m.route : by === 'status' ? m.status : m.service);
}

function row(m: MetricsGroup): Record<string, string | number> {
  const ms = (v: number | undefined) => (v === undefined ? '-' : `${v}ms`);
  return {
    requests: m.requests,
    'req/s': m.ratePerSec,
    errors: `${(m.errorRate * 100).toFixed(2)}%`,
    '2xx': m.statusCounts['2xx'],
    '3xx': m.statusCounts['3xx'],
    '4xx': m.statusCounts['4xx'],
    '5xx': m.statusCounts['5xx'],
    p50: ms(m.latencyMs?.p50),
    p95: ms(m.latencyMs?.p95),
    p99: ms(m.latencyMs?.p99),
  };
}
