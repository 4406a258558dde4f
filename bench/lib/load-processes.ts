/**
 * A closed-loop load spread over several load-worker.ts processes (one Node process tops out
 * near 4k req/s, so one process would measure the client, not the server), merged into one
 * LoadReport.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LoadReport } from './load-generator';

const WORKER = fileURLToPath(new URL('./load-worker.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIRST_FAILURES = 20;

export interface LoadProcessesOptions {
  url: string;
  hostHeader: string;
  /** Clients in all, split as evenly as possible over the processes. */
  concurrency: number;
  processes: number;
  /** Measured time of each process. */
  ms: number;
  /** Load run first in each process and not reported (see load-worker.ts). */
  warmupMs?: number;
  /** Command (argv) that runs the worker, e.g. `nsenter --net=… --`: the worker's command is appended. */
  wrap?: string[];
}

/** The merged report, and each process's own (for percentiles, which do not merge). */
export interface MergedLoad {
  merged: LoadReport;
  perProcess: LoadReport[];
}

/** Splits `total` clients over `parts` processes (the first ones get the remainder); no empty part. */
export function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0)).filter((c) => c > 0);
}

export async function runLoadProcesses(o: LoadProcessesOptions): Promise<MergedLoad> {
  const perProcess = await Promise.all(split(o.concurrency, o.processes).map((c) => runOne(o, c)));
  return { merged: merge(perProcess), perProcess };
}

function runOne(o: LoadProcessesOptions, concurrency: number): Promise<LoadReport> {
  const [cmd, ...pre] = [...(o.wrap ?? []), process.execPath];
  const args = [...pre, '--import', 'tsx', WORKER, o.url, o.hostHeader, String(concurrency), String(o.ms), String(o.warmupMs ?? 0)];
  return new Promise<LoadReport>((resolve, reject) => {
    const child = spawn(cmd!, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      const last = out.trim().split('\n').at(-1);
      if (code === 0 && last) resolve(JSON.parse(last) as LoadReport);
      else reject(new Error(`load process ${[cmd, ...args].join(' ')} exited ${code}: ${err.trim().slice(-2000)}`));
    });
  });
}

/**
 * Counts add up and rates add up (the processes run side by side). Percentiles do not merge:
 * each is the highest of the processes' values (they share one load, so they agree within noise).
 */
export function merge(reports: LoadReport[]): LoadReport {
  const sum = (f: (r: LoadReport) => number) => reports.reduce((n, r) => n + f(r), 0);
  const max = (f: (r: LoadReport) => number) => Math.max(0, ...reports.map(f));
  return {
    total: sum((r) => r.total),
    ok: sum((r) => r.ok),
    failed: sum((r) => r.failed),
    byStatus: addCounts(reports.map((r) => r.byStatus)),
    errors: addCounts(reports.map((r) => r.errors)),
    durationMs: max((r) => r.durationMs),
    ratePerSec: sum((r) => r.ratePerSec),
    latencyMs: { p50: max((r) => r.latencyMs.p50), p95: max((r) => r.latencyMs.p95), p99: max((r) => r.latencyMs.p99), max: max((r) => r.latencyMs.max) },
    firstFailures: reports
      .flatMap((r) => r.firstFailures)
      .sort((a, b) => a.at - b.at)
      .slice(0, FIRST_FAILURES),
  };
}

function addCounts(maps: Array<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of maps) for (const [k, v] of Object.entries(m)) out[k] = (out[k] ?? 0) + v;
  return out;
}
