/**
 * HTTP load generator for tests and benchmarks. Closed loop (N keep-alive workers)
 * or open model (a fixed offered rate). Counts every request exactly once and every
 * failure by kind: non-2xx by status, connection errors by code, timeouts.
 * Only loopback targets are allowed: load never leaves this machine.
 */
import http from 'node:http';

export interface LoadOptions {
  url: string;
  hostHeader?: string;
  concurrency?: number;
  ratePerSec?: number;
  timeoutMs?: number;
  maxDurationMs?: number;
  path?: string | (() => string);
  inspect?: (res: { status: number; headers: http.IncomingHttpHeaders; body: string; at: number }) => void;
}

export interface LoadReport {
  total: number;
  ok: number;
  failed: number;
  byStatus: Record<string, number>;
  errors: Record<string, number>;
  durationMs: number;
  ratePerSec: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  firstFailures: Array<{ at: number; kind: string; detail: string }>;
}

export interface LoadRun {
  stop(): Promise<LoadReport>;
  snapshot(): LoadReport;
}

const MAX_IN_FLIGHT_OPEN = 1000;

export function assertLoopback(url: string): URL {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!(host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host))) {
    throw new Error(`load generator: refusing non-loopback target ${u.hostname}; load stays on this machine`);
  }
  return u;
}

export function startLoad(opts: LoadOptions): LoadRun {
  const target = assertLoopback(opts.url);
  const concurrency = opts.concurrency ?? 8;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.ratePerSec ? MAX_IN_FLIGHT_OPEN : concurrency });
  const started = Date.now();
  let stopped = false;
  let inFlight = 0;
  const latencies = new Latencies();
  const report = { total: 0, ok: 0, failed: 0, byStatus: {} as Record<string, number>, errors: {} as Record<string, number>, firstFailures: [] as LoadReport['firstFailures'] };

  const fail = (kind: string, detail: string) => {
    report.failed++;
    report.errors[kind] = (report.errors[kind] ?? 0) + 1;
    if (report.firstFailures.length < 20) report.firstFailures.push({ at: Date.now() - started, kind, detail });
  };

  const once = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      inFlight++;
      let settled = false;
      const done = () => {
        if (settled) return;
        settled = true;
        inFlight--;
        report.total++;
        latencies.add(performance.now() - t0);
        resolve();
      };
      const p = typeof opts.path === 'function' ? opts.path() : (opts.path ?? `${target.pathname}${target.search}`);
      const req = http.request(
        { host: target.hostname, port: target.port || 80, path: p, method: 'GET', agent, headers: opts.hostHeader ? { host: opts.hostHeader } : {}, timeout: timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            report.byStatus[status] = (report.byStatus[status] ?? 0) + 1;
            if (status >= 200 && status < 300) report.ok++;
            else fail(`non2xx:${status}`, Buffer.concat(chunks).toString('utf8').slice(0, 200));
            opts.inspect?.({ status, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
            done();
          });
          res.on('error', (err) => {
            if (settled) return;
            fail(errKind(err), err.message);
            done();
          });
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'timeout' })));
      req.on('error', (err) => {
        if (settled) return;
        fail(errKind(err), err.message);
        done();
      });
      req.end();
    });

  const workers: Promise<void>[] = [];
  if (opts.ratePerSec) {
    const interval = 1000 / opts.ratePerSec;
    workers.push(
      (async () => {
        let issued = 0;
        while (!stopped && Date.now() - started < (opts.maxDurationMs ?? 600_000)) {
          const due = Math.floor((Date.now() - started) / interval);
          while (issued < due) {
            issued++;
            if (inFlight >= MAX_IN_FLIGHT_OPEN) fail('dropped_by_generator', 'too many requests in flight');
            else void once();
          }
          await new Promise((r) => setTimeout(r, Math.max(1, interval / 2)));
        }
      })(),
    );
  } else {
    for (let i = 0; i < concurrency; i++) {
      workers.push(
        (async () => {
          while (!stopped && Date.now() - started < (opts.maxDurationMs ?? 600_000)) await once();
        })(),
      );
    }
  }

  const snapshot = (): LoadReport => {
    const durationMs = Date.now() - started;
    return { ...report, byStatus: { ...report.byStatus }, errors: { ...report.errors }, firstFailures: [...report.firstFailures], durationMs, ratePerSec: report.total / (durationMs / 1000), latencyMs: latencies.summary() };
  };

  return {
    snapshot,
    async stop() {
      stopped = true;
      await Promise.all(workers);
      const deadline = Date.now() + timeoutMs;
      while (inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      agent.destroy();
      return snapshot();
    },
  };
}

function errKind(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code) return code;
  return err.message === 'socket hang up' ? 'socket hang up' : err.message.slice(0, 60);
}

/** Growable Float64 buffer of latencies; percentiles by sorting a copy once per summary. */
class Latencies {
  private buf = new Float64Array(1 << 16);
  private n = 0;

  add(ms: number): void {
    if (this.n === this.buf.length) {
      const bigger = new Float64Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.n++] = ms;
  }

  summary(): LoadReport['latencyMs'] {
    if (this.n === 0) return { p50: 0, p95: 0, p99: 0, max: 0 };
    const sorted = this.buf.slice(0, this.n).sort();
    const at = (q: number) => sorted[Math.min(this.n - 1, Math.floor(q * this.n))]!;
    return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[this.n - 1]! };
  }
}
