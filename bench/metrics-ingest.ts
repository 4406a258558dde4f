/**
 * Does request-metrics ingestion keep up with the edge at full speed? A real control plane
 * (child process) and a deployed 2-replica app; closed-loop load through the edge at rising
 * concurrency (several load processes, so the client is not the bottleneck) finds the highest
 * rate the edge sustains here. After each phase, HAProxy's own request counter for the backend
 * (`show stat` req_tot) is compared with the requests Slipway counted into its store: every
 * line the edge wrote must have been ingested. Two more phases restart the control plane in
 * the middle of the load (SIGTERM, then SIGKILL) to show what the edge's ring keeps.
 *
 *   npm run bench -- metrics-ingest [--seconds 15] [--levels 8,32,96] [--workers 2]
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { LoadReport } from './lib/load-generator';
import { printTable } from './lib/table';
import { writeResult } from './lib/results';
import { ControlPlaneProcess } from '../test/support/control-plane-process';
import { TestProject } from '../test/support/test-project';
import { deployAndWait } from '../test/support/wait-deployment';
import { sendCommand } from '../src/drivers/haproxy/runtime-api';
import { openSqliteStore } from '../src/store/sqlite-store';

const WORKER = fileURLToPath(new URL('./lib/load-worker.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BACKEND = 'be_benchingest_web_production';

interface Row {
  phase: string;
  concurrency: number;
  ratePerSec: number;
  failed: number;
  edgeRequests: number;
  slipwayCounted: number;
  lost: number;
  p99Ms: number;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { seconds: { type: 'string', default: '15' }, levels: { type: 'string', default: '8,32,96' }, workers: { type: 'string', default: '2' } } });
  const ms = Number(values.seconds) * 1000;
  const levels = values.levels!.split(',').map(Number);
  const workers = Number(values.workers);
  const cp = await ControlPlaneProcess.create('bench-ingest');
  const app = new TestProject('benchingest');
  const adminSocket = path.join(cp.dataDir, 'edge', 'admin.sock');
  const rows: Row[] = [];
  try {
    // Info-level logs: the debug level of the test harness logs every API call, not what we measure.
    await cp.start({ SLIPWAY_LOG_LEVEL: 'info', SLIPWAY_METRICS_FLUSH_INTERVAL: '1s' });
    await cp.client.createBaseImage('node');
    const d = await deployAndWait(cp.client, app.write({ version: 'a', replicas: 2 }));
    if (d.state !== 'succeeded') throw new Error(`deploy failed: ${d.error}`);
    const store = await openSqliteStore({ file: path.join(cp.dataDir, 'slipway.db') });
    const counted = async () => {
      const buckets = await store.listRequestBuckets({ project: 'benchingest', env: 'production', service: 'web', span: 3600, allRoutes: true, from: 0, to: Math.floor(Date.now() / 1000) + 3600 });
      return buckets.reduce((n, b) => n + b.requests, 0);
    };
    const edgeCount = async () => reqTotal(await sendCommand(adminSocket, 'show stat'), BACKEND);
    /** Waits until Slipway has counted everything the edge served (or stops moving), returns both totals. */
    const settle = async () => {
      let last = -1;
      let stableSince = Date.now();
      for (;;) {
        const [edge, slipway] = [await edgeCount(), await counted()];
        if (slipway >= edge) return { edge, slipway };
        if (slipway !== last) [last, stableSince] = [slipway, Date.now()];
        if (Date.now() - stableSince > 8000) return { edge, slipway };
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    let before = await settle();
    const phase = async (name: string, concurrency: number, during?: () => Promise<void>) => {
      console.log(`${name}: ${concurrency} clients for ${ms / 1000} s…`);
      const load = runLoad(cp.edgeUrl, app.domain, concurrency, workers, ms);
      await during?.();
      const report = await load;
      const after = await settle();
      rows.push({
        phase: name,
        concurrency,
        ratePerSec: Math.round(report.ratePerSec),
        failed: report.failed,
        edgeRequests: after.edge - before.edge,
        slipwayCounted: after.slipway - before.slipway,
        lost: after.edge - before.edge - (after.slipway - before.slipway),
        p99Ms: Number(report.latencyMs.p99.toFixed(1)),
      });
      before = after;
    };
    for (const c of levels) await phase('full speed', c);
    const top = levels.at(-1)!;
    await phase('control plane restarted (SIGTERM) mid-run', top, async () => {
      await new Promise((r) => setTimeout(r, ms / 3));
      await cp.stop();
      await new Promise((r) => setTimeout(r, 2000));
      await cp.start({ SLIPWAY_LOG_LEVEL: 'info', SLIPWAY_METRICS_FLUSH_INTERVAL: '1s' });
    });
    await phase('control plane killed (SIGKILL) mid-run', top, async () => {
      await new Promise((r) => setTimeout(r, ms / 3));
      cp.kill();
      await new Promise((r) => setTimeout(r, 2000));
      await cp.start({ SLIPWAY_LOG_LEVEL: 'info', SLIPWAY_METRICS_FLUSH_INTERVAL: '1s' });
    });
    const dropped = /^DroppedLogs: (\d+)/m.exec(await sendCommand(adminSocket, 'show info'))?.[1];
    await store.close();
    printTable(rows as unknown as Array<Record<string, string | number>>);
    console.log(`\nHAProxy DroppedLogs: ${dropped ?? '?'}`);
    const file = writeResult('metrics-ingest', { machine: { cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30) }, seconds: ms / 1000, workers, droppedLogs: Number(dropped ?? -1), rows });
    console.log(`written ${file}`);
  } finally {
    await cp.destroy();
  }
}

/** `concurrency` clients split over `workers` load processes; the merged report. */
async function runLoad(url: string, host: string, concurrency: number, workers: number, ms: number): Promise<LoadReport> {
  const per = Array.from({ length: workers }, (_, i) => Math.floor(concurrency / workers) + (i < concurrency % workers ? 1 : 0)).filter((c) => c > 0);
  const reports = await Promise.all(
    per.map(
      (c) =>
        new Promise<LoadReport>((resolve, reject) => {
          const child = spawn(process.execPath, ['--import', 'tsx', WORKER, url, host, String(c), String(ms)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
          let out = '';
          child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
          child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!) as LoadReport) : reject(new Error(`load worker exited ${code}`))));
        }),
    ),
  );
  const sum = (f: (r: LoadReport) => number) => reports.reduce((n, r) => n + f(r), 0);
  return {
    total: sum((r) => r.total),
    ok: sum((r) => r.ok),
    failed: sum((r) => r.failed),
    byStatus: {},
    errors: Object.assign({}, ...reports.map((r) => r.errors)) as Record<string, number>,
    durationMs: Math.max(...reports.map((r) => r.durationMs)),
    ratePerSec: sum((r) => r.ratePerSec),
    latencyMs: { p50: 0, p95: 0, p99: Math.max(...reports.map((r) => r.latencyMs.p99)), max: Math.max(...reports.map((r) => r.latencyMs.max)) },
    firstFailures: reports.flatMap((r) => r.firstFailures),
  };
}

/** `req_tot` (HTTP requests) of a backend's BACKEND row in `show stat` CSV. */
function reqTotal(csv: string, backend: string): number {
  const lines = csv.trim().split('\n');
  const header = lines[0]!.replace(/^# /, '').split(',');
  const col = header.indexOf('req_tot');
  const row = lines.map((l) => l.split(',')).find((f) => f[0] === backend && f[1] === 'BACKEND');
  if (col < 0 || !row) throw new Error(`no BACKEND row for ${backend} in show stat`);
  return Number(row[col]);
}
