/**
 * HTTP(S) load generator for tests and benchmarks (node:http / node:https only).
 *
 * - Closed loop (default): `concurrency` workers, each issuing its next request as soon
 *   as the previous one completes, over a keep-alive agent with `concurrency` sockets.
 * - Open model (`ratePerSec`): requests start on a fixed schedule whatever the completions;
 *   a request due while MAX_IN_FLIGHT_OPEN are already in flight is not sent and is
 *   counted as the failure 'dropped_by_generator'.
 *
 * Every request is counted exactly once, as ok (2xx, body read completely) or as one
 * failure kind: 'non2xx:<status>', 'timeout' (no complete response within timeoutMs),
 * 'socket hang up', an error code ('ECONNREFUSED', 'ECONNRESET', ...), 'inspect_threw',
 * 'path_threw' or 'dropped_by_generator'. Latency is recorded for every request that
 * was sent, whatever its outcome (so timeouts show up in p99/max).
 *
 * https: targets (loopback too) use a keep-alive node:https agent set up like the http one,
 * verifying the server's certificate against `ca` (else Node's default roots) for the name
 * sent as SNI: `servername`, else the Host header without its port, else the URL's host
 * (an IP is checked against the certificate's IP addresses and sent no SNI). The TLS
 * handshake of each new connection counts in that request's latency. A TLS failure counts
 * under its code, e.g. 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID',
 * 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'DEPTH_ZERO_SELF_SIGNED_CERT'.
 *
 * Only loopback targets are allowed: load never leaves this machine.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface LoadOptions {
  /** Target, e.g. http://127.0.0.1:18080/ or https://127.0.0.1:18443/ — only 127.0.0.0/8, [::1] and localhost are accepted. */
  url: string;
  /** Host header to send (the edge routes by host). */
  hostHeader?: string;
  /** https: only — the trusted roots (PEM) for the target's certificate, instead of Node's default roots. */
  ca?: string | Buffer;
  /**
   * https: only — the TLS server name (SNI) and the name the certificate must be valid for.
   * Default: hostHeader without its port when given, else the URL's host. An IP address is never sent as SNI.
   */
  servername?: string;
  /** Closed-loop workers (ignored in the open model), default 8. */
  concurrency?: number;
  /** If set: open model at this fixed offered rate. */
  ratePerSec?: number;
  /** Per-request timeout from start to the end of the body, default 5000. */
  timeoutMs?: number;
  /** Hard stop: no request is started after this, default 10 minutes. */
  maxDurationMs?: number;
  /** Request path (with query); default: the path and query of `url`. */
  path?: string | (() => string);
  /**
   * Called for every completed response (any status), `at` = Date.now() at completion,
   * `sentAt` = Date.now() when the request was sent (what a test of a traffic switch compares).
   * If it throws, the request counts as the failure 'inspect_threw'.
   */
  inspect?: (res: { status: number; headers: http.IncomingHttpHeaders; body: string; at: number; sentAt: number }) => void;
}

export interface LoadReport {
  total: number;
  ok: number;
  failed: number;
  /** Every status code seen. */
  byStatus: Record<string, number>;
  /** Failures by kind. */
  errors: Record<string, number>;
  /** From start to now, or to the end of the drain once stopped. */
  durationMs: number;
  /** Completed requests per second over durationMs. */
  ratePerSec: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** The first 20 failures; `at` = Date.now() when the failure was recorded. */
  firstFailures: Array<{ at: number; kind: string; detail: string }>;
}

export interface LoadRun {
  /** Stops issuing, waits for in-flight requests (each bounded by timeoutMs), returns the final report. Idempotent. */
  stop(): Promise<LoadReport>;
  /** The report so far; the run goes on. */
  snapshot(): LoadReport;
}

/** Open model: most requests in flight at once; beyond, due requests are dropped (and counted). */
export const MAX_IN_FLIGHT_OPEN = 1000;
const FIRST_FAILURES = 20;
/** Distinct failure kinds kept; further new kinds are counted under 'other'. */
const MAX_ERROR_KINDS = 100;

/**
 * Parses `url` and throws unless it is on a loopback address and its protocol one of
 * `protocols` (default http: only, for clients that speak plain HTTP; startLoad also takes https:).
 */
export function assertLoopback(url: string, protocols: readonly string[] = ['http:']): URL {
  const u = new URL(url);
  const host = u.hostname;
  // WHATWG URL normalises IPv4 (127.1, 0x7f.1, 2130706433 → 127.0.0.1) and IPv6 ([0::1] → [::1]).
  if (!(host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host))) {
    throw new Error(`load generator: refusing non-loopback target ${JSON.stringify(u.hostname)}; load stays on this machine`);
  }
  if (!protocols.includes(u.protocol)) throw new Error(`load generator: only ${protocols.join(' and ')} targets are supported, got ${u.protocol}`);
  return u;
}

function positive(name: string, v: number | undefined, dflt: number, integer = false): number {
  if (v === undefined) return dflt;
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
    throw new Error(`load generator: ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${v}`);
  }
  return v;
}

export function startLoad(opts: LoadOptions): LoadRun {
  const target = assertLoopback(opts.url, ['http:', 'https:']);
  const tls = target.protocol === 'https:';
  if (!tls && (opts.ca !== undefined || opts.servername !== undefined)) {
    throw new Error('load generator: ca and servername apply to https: targets only');
  }
  const concurrency = positive('concurrency', opts.concurrency, 8, true);
  const timeoutMs = positive('timeoutMs', opts.timeoutMs, 5000);
  const maxDurationMs = positive('maxDurationMs', opts.maxDurationMs, 600_000);
  const rate = opts.ratePerSec === undefined ? undefined : positive('ratePerSec', opts.ratePerSec, 0);
  const hostname = target.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(target.port) || (tls ? 443 : 80);
  const defaultPath = `${target.pathname}${target.search}`;
  const headers: http.OutgoingHttpHeaders = opts.hostHeader ? { host: opts.hostHeader } : {};
  const agentOptions = { keepAlive: true, maxSockets: rate ? MAX_IN_FLIGHT_OPEN : concurrency };
  const agent = tls ? new https.Agent({ ...agentOptions, ...(opts.ca !== undefined ? { ca: opts.ca } : {}) }) : new http.Agent(agentOptions);
  const servername = tls ? sniName(opts.servername ?? (opts.hostHeader ? stripPort(opts.hostHeader) : hostname)) : undefined;
  // https.request checks the certificate against servername when set, else against host.
  const request = (options: https.RequestOptions, cb: (res: http.IncomingMessage) => void): http.ClientRequest =>
    tls ? https.request({ ...options, ...(servername !== undefined ? { servername } : {}) }, cb) : http.request(options, cb);

  const startedAt = Date.now();
  let endedAt: number | undefined;
  let issuing = true;
  const inFlight = new Set<Promise<void>>();
  const latencies = new Latencies();
  const counts = { total: 0, ok: 0, failed: 0 };
  const byStatus: Record<string, number> = {};
  const errors: Record<string, number> = {};
  let errorKinds = 0;
  const firstFailures: LoadReport['firstFailures'] = [];

  const fail = (kind: string, detail: string): void => {
    counts.failed++;
    if (errors[kind] === undefined) {
      if (errorKinds >= MAX_ERROR_KINDS) kind = 'other';
      else errorKinds++;
    }
    errors[kind] = (errors[kind] ?? 0) + 1;
    if (firstFailures.length < FIRST_FAILURES) firstFailures.push({ at: Date.now(), kind, detail: detail.slice(0, 300) });
  };

  /** Sends one request; the promise always resolves, once the request is counted. */
  const fire = (): Promise<void> => {
    const p = new Promise<void>((resolve) => {
      const t0 = performance.now();
      const sentAt = Date.now();
      const st = { settled: false, responded: false, sent: false, timer: undefined as NodeJS.Timeout | undefined };
      const settle = (failure?: { kind: string; detail: string }): void => {
        if (st.settled) return;
        st.settled = true;
        clearTimeout(st.timer);
        if (st.sent) latencies.add(performance.now() - t0);
        counts.total++;
        if (failure) fail(failure.kind, failure.detail);
        else counts.ok++;
        resolve();
      };
      const onError = (err: Error): void => settle({ kind: errKind(err), detail: errDetail(err) });

      let reqPath = defaultPath;
      try {
        if (opts.path !== undefined) reqPath = typeof opts.path === 'function' ? opts.path() : opts.path;
      } catch (err) {
        // A throwing path() is the caller's bug, not a server failure; it still counts once.
        settle({ kind: 'path_threw', detail: String(err) });
        return;
      }

      const req = request({ host: hostname, port, path: reqPath, method: 'GET', agent, headers }, (res) => {
        st.responded = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', onError);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          byStatus[status] = (byStatus[status] ?? 0) + 1;
          const body = Buffer.concat(chunks).toString('utf8');
          if (opts.inspect) {
            try {
              opts.inspect({ status, headers: res.headers, body, at: Date.now(), sentAt });
            } catch (err) {
              return settle({ kind: 'inspect_threw', detail: `HTTP ${status}: ${String(err)}` });
            }
          }
          if (status >= 200 && status < 300) settle();
          else settle({ kind: `non2xx:${status}`, detail: body.slice(0, 200) });
        });
        // Safety net: a response closed without 'end' and without 'error'.
        res.on('close', () => setImmediate(() => settle({ kind: 'ECONNRESET', detail: 'response closed before its end' })));
      });
      st.sent = true;
      st.timer = setTimeout(() => {
        settle({ kind: 'timeout', detail: `no complete response within ${timeoutMs} ms` });
        req.destroy();
      }, timeoutMs);
      req.on('error', onError);
      // Safety net: a request closed without a response and without 'error'.
      req.on('close', () => {
        if (!st.responded) setImmediate(() => settle({ kind: 'socket hang up', detail: 'request closed without a response' }));
      });
      req.end();
    });
    inFlight.add(p);
    void p.then(() => inFlight.delete(p));
    return p;
  };

  const workers: Promise<void>[] = [];
  let schedule: NodeJS.Timeout | undefined;
  if (rate) {
    // Request k (0-based) is due at k/rate seconds after the start; catch up after stalls.
    const perfStart = performance.now();
    let issued = 0;
    const tick = (): void => {
      if (!issuing) return;
      const elapsed = performance.now() - perfStart;
      const due = Math.floor((elapsed * rate) / 1000) + 1;
      while (issued < due) {
        issued++;
        if (inFlight.size >= MAX_IN_FLIGHT_OPEN) {
          counts.total++;
          fail('dropped_by_generator', `${MAX_IN_FLIGHT_OPEN} requests already in flight`);
        } else {
          void fire();
        }
      }
      const nextAt = (issued * 1000) / rate;
      schedule = setTimeout(tick, Math.max(0, nextAt - (performance.now() - perfStart)));
    };
    tick();
  } else {
    for (let i = 0; i < concurrency; i++) {
      workers.push(
        (async () => {
          while (issuing) await fire();
        })(),
      );
    }
  }

  let finishing: Promise<void> | undefined;
  const finish = (): Promise<void> =>
    (finishing ??= (async () => {
      issuing = false;
      clearTimeout(schedule);
      clearTimeout(hardStop);
      await Promise.all(workers);
      // Each in-flight request settles within timeoutMs (its own timer).
      while (inFlight.size > 0) await Promise.all([...inFlight]);
      endedAt = Date.now();
      agent.destroy();
    })());
  const hardStop = setTimeout(() => void finish(), maxDurationMs);
  hardStop.unref();

  const snapshot = (): LoadReport => {
    const durationMs = (endedAt ?? Date.now()) - startedAt;
    return {
      ...counts,
      byStatus: { ...byStatus },
      errors: { ...errors },
      durationMs,
      ratePerSec: durationMs > 0 ? (counts.total * 1000) / durationMs : 0,
      latencyMs: latencies.summary(),
      firstFailures: firstFailures.map((f) => ({ ...f })),
    };
  };

  return {
    snapshot,
    async stop() {
      await finish();
      return snapshot();
    },
  };
}

/** 'app.localhost:8443' → 'app.localhost', '[::1]:8443' → '::1'. */
function stripPort(hostHeader: string): string {
  const v6 = /^\[([^\]]*)\](?::\d*)?$/.exec(hostHeader);
  if (v6) return v6[1]!;
  return hostHeader.replace(/:\d*$/, '');
}

/** SNI carries host names only (RFC 6066): an IP (or nothing) means no SNI, the certificate is then checked against the URL's host. */
function sniName(name: string): string | undefined {
  return name === '' || isIP(name) ? undefined : name;
}

function errKind(err: Error): string {
  if (err.message === 'socket hang up') return 'socket hang up';
  const code = (err as NodeJS.ErrnoException).code ?? firstCode(err);
  if (code) return code;
  return err.message ? err.message.slice(0, 60) : err.name;
}

/** AggregateError (e.g. 'localhost' tried on both ::1 and 127.0.0.1): the first inner code. */
function firstCode(err: Error): string | undefined {
  const inner = (err as { errors?: unknown }).errors;
  if (!Array.isArray(inner)) return undefined;
  for (const e of inner) {
    const code = (e as NodeJS.ErrnoException | undefined)?.code;
    if (code) return code;
  }
  return undefined;
}

function errDetail(err: Error): string {
  const inner = (err as { errors?: unknown }).errors;
  if (!err.message && Array.isArray(inner)) return inner.map((e) => String((e as Error)?.message ?? e)).join('; ');
  return err.message || err.name;
}

/**
 * Request durations: a growable Float64Array up to CAP samples, then a uniform
 * reservoir sample of everything seen (Algorithm R); max is always exact.
 * Percentiles by nearest rank over a sorted copy, computed per summary. Exported for tests.
 */
export class Latencies {
  private readonly cap: number;
  private buf: Float64Array;
  private n = 0; // samples stored
  private seen = 0; // samples offered
  private max = 0;

  /** Default cap: 4M samples (32 MB). */
  constructor(cap = 4_000_000) {
    this.cap = cap;
    this.buf = new Float64Array(Math.min(1 << 16, cap));
  }

  get count(): number {
    return this.seen;
  }

  add(ms: number): void {
    this.seen++;
    if (ms > this.max) this.max = ms;
    if (this.n < this.cap) {
      if (this.n === this.buf.length) {
        const bigger = new Float64Array(Math.min(this.buf.length * 2, this.cap));
        bigger.set(this.buf);
        this.buf = bigger;
      }
      this.buf[this.n++] = ms;
      return;
    }
    const j = Math.floor(Math.random() * this.seen);
    if (j < this.cap) this.buf[j] = ms;
  }

  summary(): LoadReport['latencyMs'] {
    if (this.n === 0) return { p50: 0, p95: 0, p99: 0, max: 0 };
    const sorted = this.buf.slice(0, this.n).sort(); // typed arrays sort numerically
    const at = (q: number): number => sorted[Math.min(this.n - 1, Math.max(0, Math.ceil(q * this.n) - 1))]!;
    return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: this.max };
  }
}
